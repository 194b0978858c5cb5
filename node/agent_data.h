// A hospital's local data for the partner agent: its training and validation
// CSV files (node.toml [training]) encoded into the features the run's plan
// names. The files never leave the node; only models trained on them do.
//
// Preprocessing. A model only makes sense if every hospital feeds it the same
// features in the same order and scale. The plan fixes the feature columns
// (in the plan's order), the label column and the positive value. Scaling:
//   - with [training] feature_schema = FILE, the consortium's agreed
//     preprocessor (learning/preprocess.h JSON: medians, means, scales, levels)
//     encodes both files, identically at every hospital;
//   - without it, each hospital standardises with the statistics of its own
//     training file (as C-DistriM's partners do with their local data), and
//     applies the same statistics to its validation file. With hospitals
//     drawn from one population the scales agree closely; with very different
//     populations, agree on a feature_schema instead.
#pragma once

#include <string>

#include "chain/result.h"
#include "chain/training.h"
#include "learning/dataset.h"
#include "node/config.h"

namespace baton::node {

struct LocalData {
  learning::Dataset train;       // labels flipped when malicious_label_flip is set
  learning::Dataset validation;  // never flipped: votes measure honestly
  std::string feature_schema;    // the preprocessor JSON that encoded both
  bool labels_flipped = false;
};

// Loads and encodes both files for `plan`. Errors name the file and what is
// wrong (a missing feature column, a label never equal to the positive value,
// an unreadable file, more than two classes).
Result<LocalData> load_local_data(const TrainingConfig& config, const chain::TrainingPlan& plan);

}  // namespace baton::node

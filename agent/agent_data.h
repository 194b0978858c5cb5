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
//
// Image models. When the plan's model spec is `resnet3d` or `cnn2d`, the two
// files are volume manifests instead (learning/volumes.h): CSVs whose one
// feature column, the plan's only feature_columns entry, lists .npy volumes
// of the spec's input_shape (paths relative to the manifest), with the plan's
// label column. Voxels are used as stored; there is no feature schema, and
// setting [training] feature_schema is an error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chain/result.h"
#include "chain/training.h"
#include "learning/dataset.h"
#include "learning/model_spec.h"
#include "api/config.h"

namespace baton::agent {

using api::TrainingConfig;  // [training] (api/config.h)

struct LocalData {
  learning::Dataset train;       // labels flipped when malicious_label_flip is set
  learning::Dataset validation;  // never flipped nor noised: votes measure honestly
  std::string feature_schema;    // the preprocessor JSON that encoded both; empty for images
  bool labels_flipped = false;
  // The plan's local DP (issue 14): `train` holds the noisy copy, made once
  // with this seed (agent/turn_privacy.h, local_dp_seed).
  bool local_dp = false;
  std::uint64_t local_dp_seed = 0;
};

// Loads and encodes both files for `plan`, whose model is `spec` (the agent
// parsed it once: agent/run_plan.h). Errors name the file and what is wrong
// (a missing feature column, a label never equal to the positive value, an
// unreadable file, more than two classes, tabular features that do not
// encode to the model's input size; for image models also a plan with other
// than one feature column, a feature_schema, a volume that is missing,
// malformed or of another shape, a training manifest of one class).
//
// Under a plan with local DP (privacy mechanism local) the training copy is
// then clipped and noised once (learning::apply_local_dp) with the seed
// `local_dp_seed` (agent/turn_privacy.h: secret), after checking that the plan's
// values_per_row is the model's input size and the encoded width (an error
// saying which is not: the partner gives its turn up, local_data_unusable).
Result<LocalData> load_local_data(const TrainingConfig& config, const chain::TrainingPlan& plan,
                                  const learning::ModelSpec& spec, std::uint64_t local_dp_seed);

// Why load_local_data failed, as a partner's RunReady says it (docs/PROTOCOL.md
// §22.2): columns_missing (a feature or label column of the plan, a schema or
// a manifest is not in a file), width_mismatch (the encoded width is not the
// model's input size) or data_unusable (anything else). Read from the code
// its error carries, set where the check failed: never from the sentence.
chain::ReadinessFailure data_failure(const Error& e);

}  // namespace baton::agent

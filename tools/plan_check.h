// What a partner agent needs of a training plan beyond what the ledger checks
// (chain::validate_plan): a model spec this build can create, and a dataset
// section that fits it. The ledger keeps the spec as opaque bytes, so a plan
// the chain accepts may still be one no agent can train; `baton run start`
// and `baton genesis validate` refuse such plans before anything is signed.
// Torch-free (learning/model_spec.cpp), so `baton` may link it.
#pragma once

#include "chain/result.h"
#include "chain/training.h"

namespace baton::tools {

// Checks, in order:
//  - model: learning::spec_from_json and validate accept it;
//  - model.num_classes is 2 (the plan's labels are binary: label_column equal
//    to positive_value or not, and votes compare binary AUCs);
//  - mlp: dataset.feature_columns is not empty. Whether input_shape[0] equals
//    the encoded feature count depends on each hospital's data (one-hot
//    columns), so the agent checks that when it loads its files;
//  - cnn2d, resnet3d: dataset.feature_columns has exactly one entry, the
//    manifest column that holds the .npy paths (agent/agent_data.h).
// The error is one sentence naming the field.
Status check_plan_for_agents(const chain::TrainingPlan& plan);

}  // namespace baton::tools

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

// Checks an optimizer of chain::kAgentOptimizers, then what
// learning::plan_model_spec checks (learning/model_spec.h): a
// model spec this build can create, num_classes 2, and feature_columns that
// fit the architecture; under local DP, privacy.values_per_row equal to the
// model's input size; under DP-SGD a model without batch norm (a resnet3d
// needs "norm":"group"). The error is one sentence naming the field.
Status check_plan_for_agents(const chain::TrainingPlan& plan);

// ---- The consortium schema (issue 17, docs/PROTOCOL.md §23) ----
// A plan naming a schema id: its model's input size must be `width`, the
// encoded width of the schema the ledger's summaries derive (GET /schema/ID).
// The error names both numbers and `baton data schema`.
Status check_plan_schema_width(const chain::TrainingPlan& plan, std::size_t width);

}  // namespace baton::tools

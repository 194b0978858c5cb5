// Which local files a run uses (issue 17): the plan's named dataset
// (api/datasets_config.h, read again from agent.toml at each run's start) and,
// for a plan with a schema id, the consortium schema every node derives from
// the ledger's DataSummaries (chain/consortium_schema.h) in place of a
// feature_schema file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "api/config.h"
#include "chain/result.h"
#include "chain/training.h"

namespace baton::agent {

// [training] as `plan` uses it: train_csv, validation_csv, feature_schema
// and na_values of the dataset `plan.dataset` names ("default" when empty),
// read again from `config_path` (empty: `training`'s own files are the only,
// "default", dataset). With plan.schema_id, `consortium_schema` (the derived
// JSON) is written to training.work_dir/schemas/<its SHA-256>.json and
// becomes the feature_schema. Errors name the dataset (one this hospital
// does not declare lists those it does), or say why the schema is missing.
Result<api::TrainingConfig> training_for_plan(const api::TrainingConfig& training,
                                              const std::filesystem::path& config_path,
                                              const chain::TrainingPlan& plan,
                                              const std::optional<std::string>& consortium_schema);

}  // namespace baton::agent

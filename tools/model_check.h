// Whether a run's final model can be fetched from the object store and is the
// one the ledger names (issue 11): `baton run status` never calls a run
// finished without it. Torch-free.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace baton::tools {

// Where to check: a node's admin API (GET /models/check, the node's own
// store), else a store URI (file:// or s3://, with an optional S3 endpoint).
struct ModelCheckSource {
  std::string node_url;
  std::string store_uri;
  std::string endpoint;
};

// {"model_id", "object_key", "ciphertext_sha256", "store": ok|missing|
// wrong_size|wrong_hash|unreachable|none|not_checked, "detail"} for `run`
// (a run_json object of api/training_json.h). "none": no approved model
// (the final model is the plan's initial one, nothing is stored);
// "not_checked": neither a node nor a store was given, or the node keeps no
// models.
nlohmann::json check_final_model(const nlohmann::json& run, const ModelCheckSource& source);

// "" when `final_model` (check_final_model's result) is fine ("ok" or
// "none"), else a phrase for `run status`, e.g. "final model missing from the
// store: run `baton models repair --run R`".
std::string final_model_problem(const nlohmann::json& final_model, const std::string& run_id);

}  // namespace baton::tools

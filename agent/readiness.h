// The partner agent's readiness answer (issue 17, docs/PROTOCOL.md §22): what
// it posts as its RunReady before turn 0, from what it found when it checked
// the plan against its local data and the object store. Pure, torch-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chain/proto/ledger.pb.h"
#include "chain/training.h"

namespace baton::agent {

// What the acting side found (agent_ready.cpp); each sentence is nullopt
// when that check passed.
struct ReadinessFacts {
  std::optional<std::string> plan_unusable;      // run_plan: model spec or optimizer
  bool optimizer_known = true;                   // chain::known_optimizer(plan.optimizer)
  std::optional<std::string> data_unusable;      // load_local_data's sentence
  std::optional<std::string> store_unreachable;  // the store's probe failed
  // The feature schema JSON both files were encoded with when it is the
  // consortium's ([training] feature_schema); empty for a schema fitted
  // locally (each hospital's own by design) and for image models.
  std::string shared_schema_json;
  std::uint64_t train_rows = 0;
};

// Which ReadinessFailure a load_local_data sentence is: width_mismatch for a
// width that is not the model's input size, columns_missing for a missing
// feature or label column, data_unusable otherwise.
chain::ReadinessFailure classify_data_failure(std::string_view why);

// The RunReady for `run_id`: the first failing check in the order plan
// (optimizer_unknown, model_unbuildable), data, store; else ready with the
// schema's SHA-256 (empty without a shared schema) and the training rows.
// The detail is clipped to chain::kMaxRunControlTextBytes.
chain::pb::RunReady readiness_answer(std::string_view run_id, const ReadinessFacts& facts);

}  // namespace baton::agent

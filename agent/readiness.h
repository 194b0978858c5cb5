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

// A check that failed: the reason the ledger records, given by the check
// where it failed (never read back from the sentence), and its sentence.
struct ReadinessRefusal {
  chain::ReadinessFailure reason = chain::ReadinessFailure::data_unusable;
  std::string detail;
};

// What the acting side found (agent_ready.cpp); each is nullopt when that
// check passed.
struct ReadinessFacts {
  std::optional<std::string> plan_unusable;  // run_plan: model spec or optimizer
  bool optimizer_known = true;               // chain::known_optimizer(plan.optimizer)
  // load_local_data's failure: agent_data.h data_failure (columns_missing,
  // width_mismatch, data_unusable) and its sentence.
  std::optional<ReadinessRefusal> data_unusable;
  std::optional<std::string> store_unreachable;  // the store's probe failed
  // The feature schema JSON both files were encoded with when it is the
  // consortium's ([training] feature_schema); empty for a schema fitted
  // locally (each hospital's own by design) and for image models.
  std::string shared_schema_json;
  std::uint64_t train_rows = 0;
};

// The RunReady for `run_id`: the first failing check in the order plan
// (optimizer_unknown, model_unbuildable), data (its own reason), store
// (store_unreachable); else ready with the
// schema's SHA-256 (empty without a shared schema) and the training rows.
// The detail is clipped to chain::kMaxRunControlTextBytes.
chain::pb::RunReady readiness_answer(std::string_view run_id, const ReadinessFacts& facts);

}  // namespace baton::agent

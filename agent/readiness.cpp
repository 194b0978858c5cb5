#include "agent/readiness.h"

#include "chain/crypto.h"

namespace baton::agent {

namespace {

std::string clip(std::string s) {
  if (s.size() > chain::kMaxRunControlTextBytes) {
    s.resize(chain::kMaxRunControlTextBytes - 3);
    s += "...";
  }
  return s;
}

chain::pb::RunReady refusal(std::string_view run_id, chain::ReadinessFailure reason,
                            std::string detail) {
  chain::pb::RunReady r;
  r.set_run_id(std::string(run_id));
  r.set_ready(false);
  r.set_reason(static_cast<std::uint32_t>(reason));
  r.set_detail(clip(std::move(detail)));
  return r;
}

}  // namespace

chain::pb::RunReady readiness_answer(std::string_view run_id, const ReadinessFacts& facts) {
  if (!facts.optimizer_known) {
    return refusal(run_id, chain::ReadinessFailure::optimizer_unknown,
                   facts.plan_unusable.value_or("the plan's optimizer is unknown"));
  }
  if (facts.plan_unusable)
    return refusal(run_id, chain::ReadinessFailure::model_unbuildable, *facts.plan_unusable);
  if (facts.data_unusable) {
    return refusal(run_id, facts.data_unusable->reason, facts.data_unusable->detail);
  }
  if (facts.store_unreachable) {
    return refusal(run_id, chain::ReadinessFailure::store_unreachable, *facts.store_unreachable);
  }
  chain::pb::RunReady r;
  r.set_run_id(std::string(run_id));
  r.set_ready(true);
  if (!facts.shared_schema_json.empty()) {
    const chain::Hash h = chain::sha256(facts.shared_schema_json);
    r.set_schema_sha256(std::string(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size()));
  }
  r.set_train_rows(facts.train_rows);
  return r;
}

}  // namespace baton::agent

// The partner agent's readiness check before turn 0 (issue 17,
// docs/PROTOCOL.md §22): it checks the plan against this hospital's data and
// the object store and posts its RunReady (agent/readiness.h decides what it
// says; this file finds the facts and sends it).
#include <algorithm>

#include "agent/agent.h"
#include "agent/agent_datasets.h"
#include "agent/agent_util.h"
#include "agent/readiness.h"
#include "chain/training_plan.h"

namespace baton::agent {

void PartnerAgent::post_readiness(std::uint64_t height, const chain::TrainingState& state,
                                  const chain::Run& run) {
  const std::string& id = run.plan.run_id;
  const auto& partners = run.plan.partners;
  if (std::find(partners.begin(), partners.end(), options_.member_name) == partners.end()) return;
  if (run.readiness.contains(options_.member_name)) return;  // the ledger has its answer
  auto it = ready_answers_.find(id);
  if (it == ready_answers_.end()) {
    ReadinessFacts facts;
    std::string why;
    facts.optimizer_known = chain::known_optimizer(run.plan.optimizer);
    if (!run_plan(run.plan, &why)) facts.plan_unusable = why.empty() ? "unusable plan" : why;
    if (!facts.plan_unusable) {
      if (const LocalData* data = local_data(run.plan); data != nullptr) {
        facts.train_rows = static_cast<std::uint64_t>(data->train.rows);
        // A locally fitted schema is this hospital's own by design: only
        // a shared one (the consortium's file, or the schema the plan's
        // schema_id derives) is a claim the others can compare.
        const auto derived = consortium_schemas_.find(id);
        const auto files = training_for_plan(
            options_.training, options_.config_path, run.plan,
            derived == consortium_schemas_.end() ? std::nullopt : derived->second);
        if (!run.plan.schema_id.empty() || (files && !files->feature_schema.empty()))
          facts.shared_schema_json = data->feature_schema;
      } else {
        const auto failed = data_failed_.find(id);
        const auto reason = data_failure_.find(id);
        facts.data_unusable = ReadinessRefusal{
            reason != data_failure_.end() ? reason->second : chain::ReadinessFailure::data_unusable,
            failed != data_failed_.end() ? failed->second : "the local data do not load"};
      }
    }
    if (!facts.plan_unusable && !facts.data_unusable) {
      // Any answer but a failure to reach it says the store is there.
      auto probe = store_->head(id + "/readiness-probe");
      if (!probe && probe.error().code != static_cast<int>(storage::StoreErrc::not_found)) {
        const std::uint32_t attempts = ++store_failures_["ready/" + id];
        if (attempts < options_.store_attempts) {
          log_once("ready-store/" + id + "/" + std::to_string(attempts), spdlog::level::warn,
                   "run " + id + ": the object store does not answer (" + probe.error().message +
                       "); trying again at the next block");
          return;
        }
        facts.store_unreachable =
            "the object store " + store_->uri() + " does not answer: " + probe.error().message;
      }
    }
    const chain::pb::RunReady answer = readiness_answer(id, facts);
    if (answer.ready()) {
      log_->info("run {}: ready ({} training rows, schema {})", id, answer.train_rows(),
                 answer.schema_sha256().empty() ? std::string("fitted locally or none")
                                                : chain::sha256(facts.shared_schema_json).hex());
    } else {
      log_->error("run {}: refuses the run ({}): {}", id,
                  chain::to_string(static_cast<chain::ReadinessFailure>(answer.reason())),
                  answer.detail());
    }
    it = ready_answers_.emplace(id, answer.SerializeAsString()).first;
  }
  submit(height, state, "ready/" + id, chain::pb::TX_RUN_READY, it->second,
         "run " + id + ": posted its readiness");
}

}  // namespace baton::agent

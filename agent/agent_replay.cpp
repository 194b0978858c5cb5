// `baton models replay` and `baton models check-vote` (issue 16): a turn
// retrained, and a vote measured again, by the agent's own code (agent/agent.h).
#include "chain/privacy_steps.h"
#include "learning/model.h"
#include "learning/train.h"
#include "agent/agent.h"
#include "agent/agent_util.h"
#include "agent/repro.h"
#include "agent/turn_privacy.h"

namespace baton::agent {
namespace {

using namespace agent_detail;

// What `partner`'s SaveRequests of `run` before turn `turn` spent of its
// privacy budget: the spend of its last one (chain::privacy_spent_by holds
// the run's latest, not the one before `turn`).
chain::PrivacySpend spent_before(const chain::Run& run, const std::string& partner,
                                 std::uint64_t turn) {
  chain::PrivacySpend before;
  for (const chain::Turn& t : run.turns) {
    if (t.index >= turn) break;
    if (t.partner == partner && t.save) before = t.save->privacy;
  }
  return before;
}

const chain::Turn* find_turn(const chain::Run& run, std::uint64_t turn) {
  for (const chain::Turn& t : run.turns)
    if (t.index == turn) return &t;
  return nullptr;
}

std::string no_turn(const chain::Run& run, std::uint64_t turn) {
  return "run " + run.plan.run_id + " has no turn " + std::to_string(turn) + " (it has " +
         std::to_string(run.turns.size()) + ")";
}

}  // namespace

std::string PartnerAgent::training_device() const { return options_.training.device; }

Result<PartnerAgent::Replay> PartnerAgent::replay_turn(const chain::Run& run, std::uint64_t turn) {
  const chain::Turn* t = find_turn(run, turn);
  if (t == nullptr) return make_error(no_turn(run, turn));
  if (!t->save) {
    return make_error("turn " + std::to_string(turn) + " of run " + run.plan.run_id +
                      " has no SaveRequest: there is no model to replay");
  }
  if (run.plan.federated()) {
    return make_error("run " + run.plan.run_id +
                      " is federated: its models are aggregates of masked updates, which "
                      "`baton models check-vote` recomputes; there is no one trainer to replay");
  }
  if (t->partner != options_.member_name) {
    return make_error("turn " + std::to_string(turn) + " of run " + run.plan.run_id +
                      " was trained by " + t->partner + ", not " + options_.member_name +
                      ": replay it at " + t->partner + "'s hospital, with its agent.toml");
  }
  std::string why;
  const auto parsed = run_plan(run.plan, &why);
  if (!parsed) return make_error("this build cannot use the run's plan: " + why);
  const LocalData* data = local_data(run.plan);
  if (data == nullptr) {
    auto it = data_failed_.find(run.plan.run_id);
    return make_error("this node's local data do not load: " +
                      (it == data_failed_.end() ? std::string("see the log") : it->second));
  }
  const auto privacy = plan_turn_privacy(run.plan, spent_before(run, t->partner, turn),
                                         options_.training.malicious_ignore_privacy_budget);
  if (!privacy)
    return make_error("cannot account for the plan's privacy: " + privacy.error().message);
  learning::TrainSettings settings = turn_settings(run, turn, *parsed, privacy->epochs);
  const chain::SaveRecord& save = *t->save;
  // The recorded threads, so that a node configured otherwise since still
  // sums in the same order.
  if (save.repro && save.repro->torch_threads > 0)
    settings.threads = static_cast<int>(save.repro->torch_threads);
  // The head as it was: the SaveRequest's parent.
  chain::Run then = run;
  then.head = save.parent_model_id;
  auto model = load_head(then, nullptr);
  if (!model) {
    return make_error("cannot load the model turn " + std::to_string(turn) +
                      " started from: " + model.error().message);
  }
  auto report = learning::train(*model, data->train, settings);
  if (!report) return make_error("training failed: " + report.error().message);
  const chain::Bytes bytes = learning::serialize(*model);
  Replay out;
  out.ledger_model_sha256 = save.model_sha256;
  out.model_sha256 = chain::sha256(chain::ByteView(bytes));
  out.bit_identical = out.model_sha256 == out.ledger_model_sha256;
  out.ledger = save.repro;
  out.here = repro_record(settings, &data->train, data->feature_schema, training_device());
  if (save.repro) {
    out.differences = repro_differences(*save.repro, out.here);
  } else {
    out.differences.push_back("the SaveRequest carries no reproducibility record");
  }
  return out;
}

Result<PartnerAgent::VoteCheck> PartnerAgent::check_vote(std::uint64_t height,
                                                         const chain::TrainingState& state,
                                                         const chain::Run& run,
                                                         std::uint64_t turn) {
  const chain::Turn* t = find_turn(run, turn);
  if (t == nullptr) return make_error(no_turn(run, turn));
  auto mine = t->model_votes.find(options_.member_name);
  if (!t->save || !t->save_request_id || mine == t->model_votes.end()) {
    return make_error(options_.member_name + " has no ModelVote on turn " + std::to_string(turn) +
                      " of run " + run.plan.run_id);
  }
  std::string why;
  const auto plan = run_plan(run.plan, &why);
  if (!plan) return make_error("this build cannot use the run's plan: " + why);
  // Measured with the agent's threads, as start() sets them for its votes.
  learning::init_torch(options_.training.torch_threads);
  // The run as the voter saw it: the head it measured the candidate against.
  chain::Run then = run;
  then.head = t->head_before;
  const chain::Turn& then_turn = then.turns[static_cast<std::size_t>(t - run.turns.data())];
  const Step s{height, state, then, then_turn};
  auto measured = measure_candidate(s, *plan);
  if (!measured) {
    auto it = data_failed_.find(run.plan.run_id);
    return make_error("cannot measure the candidate now: " +
                      (it == data_failed_.end() ? std::string("the head or the store failed; "
                                                              "see the log above")
                                                : "the local data do not load: " + it->second));
  }
  const chain::ModelVoteRecord& v = mine->second;
  // A rejected candidate's blob is deleted when its turn ends (agent/agent.h):
  // what this voter measured then cannot be measured again.
  if (measured->measure.refusal.starts_with("missing_blob") && v.validation_size > 0) {
    return make_error("the candidate of turn " + std::to_string(turn) +
                      " is no longer in the object store (a rejected candidate is deleted when "
                      "its turn ends), so this vote cannot be measured again: " +
                      measured->measure.refusal);
  }
  auto vote = decide_save_vote(plan->vote_policy, measured->measure);
  if (!vote) return make_error("cannot decide a vote: " + vote.error().message);
  VoteCheck out;
  out.ledger = SaveVote{
      v.approve, v.auc_candidate_ppm,    v.auc_head_ppm,   v.validation_size, v.p_worse_ppm,
      v.reason,  v.loss_candidate_micro, v.loss_head_micro};
  out.here = *vote;
  auto differ = [&](const char* field, auto a, auto b) {
    if (a != b) {
      out.differences.push_back(std::string(field) + ": ledger " + fmt::format("{}", a) +
                                ", here " + fmt::format("{}", b));
    }
  };
  differ("approve", out.ledger.approve, out.here.approve);
  differ("auc_candidate_ppm", out.ledger.auc_candidate_ppm, out.here.auc_candidate_ppm);
  differ("auc_head_ppm", out.ledger.auc_head_ppm, out.here.auc_head_ppm);
  differ("validation_size", out.ledger.validation_size, out.here.validation_size);
  differ("p_worse_ppm", out.ledger.p_worse_ppm, out.here.p_worse_ppm);
  differ("reason", out.ledger.reason, out.here.reason);
  differ("loss_candidate_micro", out.ledger.loss_candidate_micro, out.here.loss_candidate_micro);
  differ("loss_head_micro", out.ledger.loss_head_micro, out.here.loss_head_micro);
  return out;
}

}  // namespace baton::agent

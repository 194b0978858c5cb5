// The partner agent as a voter on models: measure the candidate and the head
// on local validation data and vote by the plan's policy (agent/agent.h).
#include <nlohmann/json.hpp>

#include "learning/metrics.h"
#include "learning/model.h"
#include "agent/agent.h"
#include "agent/agent_util.h"

namespace baton::agent {
namespace {

using nlohmann::json;
using namespace agent_detail;

}  // namespace

const Evaluation* PartnerAgent::head_evaluation(const chain::Run& run, LoadTimings* timings,
                                                double* eval_s) {
  const chain::ModelRecord* head = run.head ? run.find_model(*run.head) : nullptr;
  if (run.head && head == nullptr) {
    log_once("head/" + run.head->hex(), spdlog::level::err,
             "the head model " + run.head->hex() + " of run " + run.plan.run_id +
                 " is not in the lineage; this node cannot vote");
    return nullptr;
  }
  const std::string key =
      evaluation_key(run.plan.run_id, head ? std::optional(head->model_sha256) : std::nullopt);
  if (auto it = evals_.find(key); it != evals_.end()) return &it->second;
  const LocalData* data = local_data(run.plan);
  if (data == nullptr) return nullptr;
  std::optional<learning::Model> fetched;
  const learning::Model* model = kept_head(run);
  if (model == nullptr) {
    auto loaded = load_head(run, timings);
    if (!loaded) {
      metrics_.error(api::AgentErrorKind::store);
      log_once("head/" + key, spdlog::level::err,
               "cannot load the head model of run " + run.plan.run_id +
                   " to vote: " + loaded.error().message);
      return nullptr;
    }
    fetched.emplace(std::move(*loaded));
    model = &*fetched;
  }
  const auto t0 = Clock::now();
  auto eval = evaluate(*model, data->validation);
  if (eval_s != nullptr) *eval_s += seconds_since(t0);
  if (!eval) {
    log_once("head/" + key, spdlog::level::err,
             "cannot measure the head model of run " + run.plan.run_id +
                 " on the local validation data: " + eval.error().message);
    return nullptr;
  }
  evals_.clear();  // only the current head is ever measured again
  return &evals_.emplace(key, std::move(*eval)).first->second;
}

void PartnerAgent::keep_evaluation(const chain::Run& run, const chain::Hash& model_sha256,
                                   Evaluation evaluation) {
  const chain::ModelRecord* head = run.head ? run.find_model(*run.head) : nullptr;
  const std::string head_key =
      evaluation_key(run.plan.run_id, head ? std::optional(head->model_sha256) : std::nullopt);
  std::erase_if(evals_, [&](const auto& kv) { return kv.first != head_key; });
  evals_.insert_or_assign(evaluation_key(run.plan.run_id, model_sha256), std::move(evaluation));
}

PartnerAgent::Acted PartnerAgent::vote_on_save(const Step& s, const VoteOnSave& v) {
  const chain::Hash& id = v.request_id;
  if (!v.journaled) {
    const auto plan = run_plan(s.run.plan);
    if (!plan) return Acted::failed;  // the core abstains (logged when first seen)
    auto measured = measure_candidate(s, *plan);
    if (!measured) return local_data(s.run.plan) ? Acted::done : Acted::failed;
    auto vote = decide_save_vote(plan->vote_policy, measured->measure);
    if (!vote) {
      log_once("decide/" + id.hex(), spdlog::level::err,
               s.tag() + ": cannot decide a vote: " + vote.error().message);
      return Acted::done;
    }
    record_save_vote(s, *vote, *measured);
  }
  if (const JournalVote* journaled = journal_.vote(id)) {
    submit(s, "vote/" + id.hex(), chain::pb::TX_MODEL_VOTE, journaled->payload,
           s.tag() + ": model vote", /*log_first=*/false);
  }
  return Acted::done;
}

std::optional<PartnerAgent::Measured> PartnerAgent::measure_candidate(const Step& s,
                                                                      const RunPlan& plan) {
  const chain::Hash& id = *s.turn.save_request_id;
  Measured out;
  out.t_start_ms = wall_ms();
  const LocalData* data = local_data(s.run.plan);
  if (data == nullptr) return std::nullopt;
  const Evaluation* head = head_evaluation(s.run, &out.load, &out.eval_s);
  if (head == nullptr) return std::nullopt;  // logged; this node abstains
  out.head_measured = out.eval_s > 0;
  out.measure.auc_head = head->auc;
  if (auto loss = learning::mean_cross_entropy(head->labels, head->scores))
    out.measure.loss_head = *loss;
  const chain::SaveRecord& save = *s.turn.save;
  std::optional<std::string> refusal;
  const std::string expected_key = expected_object_key(s.run.plan, s.turn.index, s.turn.partner);
  if (save.object_key != expected_key) {
    refusal = "wrong_object_key: the candidate of turn " + std::to_string(s.turn.index) +
              " must be stored at " + expected_key + ", not " + save.object_key;
  }
  // A copy of the head or of another candidate of the run measures like the
  // head: no contribution, rejected without fetching it (the ledger refuses
  // such a SaveRequest as duplicate_model, so only a faulty ledger shows one).
  if (!refusal) refusal = repeated_model(s.run, save.model_sha256, s.turn.index);
  // A federated round's candidate must be the aggregate every node can
  // compute from the ledger and the store (issue 15): recomputed here, so an
  // aggregator that submits anything else is rejected whatever its AUC.
  if (!refusal && s.run.plan.federated() && s.turn.round) {
    auto aggregate = compute_round_aggregate(s);
    if (!aggregate) {
      refusal = clip_reason("aggregate_unverifiable: " + aggregate.error().message);
    } else if (chain::sha256(chain::ByteView(aggregate->model_bytes)) != save.model_sha256) {
      refusal = "aggregate_mismatch: the candidate is not the FedAvg of the round's uploads";
    }
  }
  // The plan's spec decides every size: the blob's (checked before it is
  // downloaded), the model's (checked before anything is built) and the
  // time its scoring may take.
  auto ref = ledger_ref(save);
  if (ref) ref->blob_size = plan.sealed_size;
  auto opened =
      refusal ? Result<OpenedModel>(make_error(*refusal))
      : ref   ? fetch_and_open(*store_, *ref, *options_.x25519,
                               binding_for(s.run, s.turn.index, s.turn.partner, save.parent_model_id),
                               keeping_handoff())
              : Result<OpenedModel>(ref.error());
  if (refusal) {
    // Not fetched: the ledger's record already disqualifies it.
  } else if (!opened) {
    const auto code = static_cast<HandoffErrc>(opened.error().code);
    if (code == HandoffErrc::store_failed || code == HandoffErrc::io) {
      log_once("fetch/" + id.hex() + opened.error().message, spdlog::level::warn,
               s.tag() + ": cannot fetch the candidate yet: " + opened.error().message +
                   "; retrying at the next block");
      return std::nullopt;
    }
    refusal = handoff_reason(opened.error());
  } else {
    out.load.fetch.store_s += opened->timings.store_s;
    out.load.fetch.crypto_s += opened->timings.crypto_s;
    const auto t_load = Clock::now();
    auto model = learning::deserialize(opened->model_bytes, plan.spec);
    out.load.deserialize_s += seconds_since(t_load);
    opened->model_bytes = {};  // the model holds the weights now
    if (!model) {
      const bool other_spec =
          model.error().code == static_cast<int>(learning::ModelBlobErrc::wrong_spec);
      refusal = (other_spec ? "wrong_architecture: " : "bad_model: ") + model.error().message;
    } else {
      const auto t0 = Clock::now();
      auto eval =
          evaluate(*model, data->validation,
                   evaluation_budget(plan.spec, data->validation.rows, options_.evaluation_budget));
      out.eval_s += seconds_since(t0);
      if (!eval) {
        refusal = handoff_reason(eval.error());
      } else {
        out.measure.auc_candidate = eval->auc;
        out.measure.validation_rows = data->validation.rows;
        if (auto loss = learning::mean_cross_entropy(eval->labels, eval->scores))
          out.measure.loss_candidate = *loss;
        auto test = learning::delong_paired_test(eval->labels, eval->scores, head->scores);
        if (test) {
          out.measure.p_worse = test->p_one_sided_a_worse;
        } else {
          out.measure.p_missing_why = test.error().message;
        }
        // If approved, this is the next head: its measure and the model
        // itself are kept for the next vote and the next training.
        keep_evaluation(s.run, opened->model_sha256, std::move(*eval));
        kept_.emplace(
            KeptModel{s.run.plan.run_id, opened->model_sha256, save.object_key, std::move(*model)});
      }
    }
  }
  if (refusal) out.measure.refusal = *refusal;
  return out;
}

void PartnerAgent::record_save_vote(const Step& s, const SaveVote& vote, const Measured& m) {
  const chain::Hash& id = *s.turn.save_request_id;
  const chain::pb::ModelVote mv = model_vote(s.run.plan.run_id, id, vote);
  JournalVote jv{"save", s.run.plan.run_id, s.turn.index, vote.approve, mv.SerializeAsString()};
  if (auto st = journal_.put_vote(id, std::move(jv)); !st) {
    journal_failed("cannot write the agent journal, so the vote is not submitted: " +
                   st.error().message);
    return;
  }
  json t{{"run", s.run.plan.run_id},
         {"turn", s.turn.index},
         {"role", "voter"},
         {"phase", "vote"},
         {"node", options_.member_name},
         {"partner", s.turn.partner},
         {"t_start_ms", m.t_start_ms},
         {"t_end_ms", wall_ms()},
         {"store_s", m.load.fetch.store_s},
         {"crypto_s", m.load.fetch.crypto_s},
         {"deserialize_s", m.load.deserialize_s},
         {"eval_s", m.eval_s},
         {"head_measured", m.head_measured},
         {"approve", vote.approve},
         {"auc_candidate_ppm", vote.auc_candidate_ppm},
         {"auc_head_ppm", vote.auc_head_ppm}};
  append_timing(t.dump());
  record_load(m.load);
  if (m.eval_s > 0) metrics_.step(api::AgentStep::evaluate, m.eval_s);
  const std::uint64_t t_end = wall_ms();
  metrics_.step(api::AgentStep::vote,
                t_end > m.t_start_ms ? static_cast<double>(t_end - m.t_start_ms) / 1e3 : 0.0);
  if (m.measure.auc_candidate || m.head_measured)
    metrics_.evaluated(m.measure.auc_candidate, m.measure.auc_head);
  if (!m.measure.auc_candidate) {
    log_->info("{}: voted reject on {}'s candidate: {}", s.tag(), s.turn.partner, vote.reason);
  } else {
    log_->info("{}: voted {} on {}'s candidate: AUC {:.4f} vs head {:.4f} (DeLong p worse {})",
               s.tag(), vote.approve ? "approve" : "reject", s.turn.partner,
               *m.measure.auc_candidate, m.measure.auc_head,
               m.measure.p_worse ? fmt::format("{:.4f}", *m.measure.p_worse) : std::string("n/a"));
  }
}

}  // namespace baton::agent

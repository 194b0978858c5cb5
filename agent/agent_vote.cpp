// The partner agent as a voter on models: measure the candidate and the head
// on local validation data and vote by the plan's policy (agent/agent.h).
#include <nlohmann/json.hpp>

#include "consensus/vote_policy.h"
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

void PartnerAgent::vote_on_save(const Step& s) {
  if (!is_voter() || !s.turn.save_request_id || !s.turn.save) return;
  if (s.turn.model_votes.contains(options_.member_name)) return;
  const chain::Hash& id = *s.turn.save_request_id;
  const JournalVote* v = journal_.vote(id);
  if (v == nullptr) {
    const std::uint64_t t_start = wall_ms();
    const LocalData* data = local_data(s.run.plan);
    if (data == nullptr) return;
    double eval_s = 0;
    LoadTimings load;  // the head's, when it had to be fetched, then the candidate's
    const Evaluation* head = head_evaluation(s.run, &load, &eval_s);
    if (head == nullptr) return;  // logged; this node abstains
    const bool head_measured = eval_s > 0;
    const chain::SaveRecord& save = *s.turn.save;
    std::optional<std::string> refusal;
    std::optional<Evaluation> candidate;
    const std::string expected_key = expected_object_key(s.run.plan.run_id, s.turn.index);
    if (save.object_key != expected_key) {
      refusal = clip("wrong_object_key: the candidate of turn " + std::to_string(s.turn.index) +
                     " must be stored at " + expected_key + ", not " + save.object_key);
    }
    // The plan's spec decides every size: the blob's (checked before it is
    // downloaded), the model's (checked before anything is built) and the
    // time its scoring may take. head_evaluation() loaded it already.
    auto spec = learning::spec_from_json(s.run.plan.model_spec);
    if (!spec) return;
    auto ref = ledger_ref(save);
    if (ref) ref->blob_size = expected_blob_size(*spec, handoff_.chunk_size);
    auto opened = refusal ? Result<OpenedModel>(make_error(*refusal))
                  : ref   ? fetch_and_open(*store_, *ref, *options_.x25519,
                                           binding_for(s.run, s.turn.index, save.parent_model_id),
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
        return;
      }
      refusal = handoff_reason(opened.error());
    } else {
      load.fetch.store_s += opened->timings.store_s;
      load.fetch.crypto_s += opened->timings.crypto_s;
      const auto t_load = Clock::now();
      auto model = learning::deserialize(opened->model_bytes, *spec);
      load.deserialize_s += seconds_since(t_load);
      opened->model_bytes = {};  // the model holds the weights now
      if (!model) {
        const bool other_spec =
            model.error().code == static_cast<int>(learning::ModelBlobErrc::wrong_spec);
        refusal =
            clip((other_spec ? "wrong_architecture: " : "bad_model: ") + model.error().message);
      } else {
        const auto t0 = Clock::now();
        auto eval =
            evaluate(*model, data->validation,
                     evaluation_budget(*spec, data->validation.rows, options_.evaluation_budget));
        eval_s += seconds_since(t0);
        if (!eval) {
          refusal = handoff_reason(eval.error());
        } else {
          candidate = *eval;
          // If approved, this is the next head: its measure and the model
          // itself are kept for the next vote and the next training.
          keep_evaluation(s.run, opened->model_sha256, std::move(*eval));
          kept_.emplace(KeptModel{s.run.plan.run_id, opened->model_sha256, save.object_key,
                                  std::move(*model)});
        }
      }
    }
    consensus::VoteDecision d;
    std::optional<double> p_worse;
    if (refusal) {
      d.approve = false;
      d.auc_head_ppm = consensus::to_ppm(head->auc);
      d.reason = *refusal;
    } else {
      consensus::Measurement m{candidate->auc, head->auc, std::nullopt};
      auto test = learning::delong_paired_test(candidate->labels, candidate->scores, head->scores);
      if (test) m.p_candidate_worse = p_worse = test->p_one_sided_a_worse;
      auto decided = consensus::decide(consensus::VotePolicy::from_plan(s.run.plan), m);
      if (!decided) {
        log_once("decide/" + id.hex(), spdlog::level::err,
                 s.tag() + ": cannot decide a vote: " + decided.error().message +
                     (test ? std::string() : " (DeLong test: " + test.error().message + ")"));
        return;
      }
      d = std::move(*decided);
    }
    chain::pb::ModelVote mv;
    mv.set_run_id(s.run.plan.run_id);
    mv.set_request_id(id_bytes(id));
    mv.set_approve(d.approve);
    mv.set_auc_candidate_ppm(d.auc_candidate_ppm);
    mv.set_auc_head_ppm(d.auc_head_ppm);
    // A candidate refused unmeasured claims no measurement: validation size
    // 0, candidate AUC 0, p 0 (the ledger's rule, chain::vote_follows_policy).
    mv.set_validation_size(refusal ? 0 : data->validation.rows);
    mv.set_p_worse_ppm(p_worse ? consensus::to_ppm(*p_worse) : d.p_worse_ppm);
    mv.set_reason(clip(d.reason));
    JournalVote jv{"save", s.run.plan.run_id, s.turn.index, d.approve, mv.SerializeAsString()};
    if (auto st = journal_.put_vote(id, std::move(jv)); !st) {
      log_once(
          "journal", spdlog::level::err,
          "cannot write the agent journal, so the vote is not submitted: " + st.error().message);
      return;
    }
    json t{{"run", s.run.plan.run_id},
           {"turn", s.turn.index},
           {"role", "voter"},
           {"phase", "vote"},
           {"node", options_.member_name},
           {"partner", s.turn.partner},
           {"t_start_ms", t_start},
           {"t_end_ms", wall_ms()},
           {"store_s", load.fetch.store_s},
           {"crypto_s", load.fetch.crypto_s},
           {"deserialize_s", load.deserialize_s},
           {"eval_s", eval_s},
           {"head_measured", head_measured},
           {"approve", d.approve},
           {"auc_candidate_ppm", d.auc_candidate_ppm},
           {"auc_head_ppm", d.auc_head_ppm}};
    append_timing(t.dump());
    v = journal_.vote(id);
    if (refusal) {
      log_->info("{}: voted reject on {}'s candidate: {}", s.tag(), s.turn.partner, *refusal);
    } else {
      log_->info("{}: voted {} on {}'s candidate: AUC {:.4f} vs head {:.4f} (DeLong p worse {})",
                 s.tag(), d.approve ? "approve" : "reject", s.turn.partner, candidate->auc,
                 head->auc, p_worse ? fmt::format("{:.4f}", *p_worse) : std::string("n/a"));
    }
  }
  submit(s, "vote/" + id.hex(), chain::pb::TX_MODEL_VOTE, v->payload, s.tag() + ": model vote",
         /*log_first=*/false);
}

}  // namespace baton::agent

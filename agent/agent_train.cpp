// The partner agent's own turn: train the head on local data, seal, upload,
// journal and submit the candidate (agent/agent.h).
#include <algorithm>

#include <nlohmann/json.hpp>

#include "chain/privacy_steps.h"
#include "chain/protocol.h"
#include "learning/model.h"
#include "learning/train.h"
#include "agent/agent.h"
#include "agent/agent_keys.h"
#include "agent/agent_util.h"
#include "agent/repro.h"
#include "agent/save_vote.h"
#include "agent/turn_privacy.h"

namespace baton::agent {
namespace {

using nlohmann::json;
using namespace agent_detail;

// Per-epoch losses go into the self-reported metrics up to this many epochs
// (a transaction stays small whatever the plan).
constexpr std::size_t kMaxReportedEpochs = 256;

}  // namespace

learning::TrainSettings PartnerAgent::turn_settings(const chain::Run& run, std::uint64_t turn,
                                                    const RunPlan& parsed,
                                                    std::uint64_t epochs) const {
  learning::TrainSettings settings = parsed.training;
  settings.epochs = static_cast<int>(epochs);
  // Plain training: plan.seed + turn. DP-SGD's sampling and noise must
  // not follow from the ledger's values: a seed from the hospital's key.
  settings.seed = settings.dp_sgd
                      ? dp_sgd_seed(dp_noise_key(*options_.x25519), run.plan.run_id, turn)
                      : run.plan.seed + turn;
  settings.threads = options_.training.torch_threads;
  settings.device = options_.training.device;
  return settings;
}

PartnerAgent::Acted PartnerAgent::train_and_save(const Step& s) {
  const std::string& run_id = s.run.plan.run_id;
  const std::string turn_key = run_id + "/" + std::to_string(s.turn.index);
  const JournalCandidate* c = journal_.candidate(run_id, s.turn.index);
  if (c == nullptr) {
    const std::uint64_t t_start = wall_ms();
    const auto parsed = run_plan(s.run.plan);
    if (!parsed) return Acted::failed;  // the core gives the turn up (logged when first seen)
    const LocalData* data = local_data(s.run.plan);
    if (data == nullptr) return Acted::failed;  // data_failed_ says why
    const chain::TrainingPlan& plan = s.run.plan;
    // How many epochs its privacy budget allows, and what they spend (issue 14).
    const auto privacy =
        plan_turn_privacy(plan, chain::privacy_spent_by(s.run, options_.member_name),
                          options_.training.malicious_ignore_privacy_budget);
    if (!privacy || privacy->epochs == 0) {
      // Neither happens on a turn the ledger began: it skips a partner whose
      // budget is spent (budget_spent) and validated the plan's numbers.
      const std::string why =
          privacy ? "its privacy budget is spent (epsilon " +
                        epsilon_text(privacy->spend.epsilon_total_micro) + " of " +
                        epsilon_text(plan.privacy.budget_micro) + "): not even one more epoch fits"
                  : "cannot account for the plan's privacy: " + privacy.error().message;
      log_once("train/" + s.tag(), spdlog::level::err, s.tag() + ": not training: " + why);
      failures_[turn_key] = TurnFailure{chain::LoadFailure::training_failed, why, false, 1};
      return Acted::failed;
    }
    if (privacy->epochs > privacy->epochs_in_budget) {
      log_->warn(
          "{}: MALICIOUS (malicious_ignore_privacy_budget): training {} epochs where its "
          "privacy budget allows {}",
          s.tag(), privacy->epochs, privacy->epochs_in_budget);
    }
    LoadTimings fetch;
    auto model = load_head(s.run, &fetch);
    if (!model) {
      head_load_failed(s, model.error());
      return Acted::failed;
    }
    const learning::TrainSettings settings =
        turn_settings(s.run, s.turn.index, *parsed, privacy->epochs);
    const auto t_train = Clock::now();
    auto report = learning::train(*model, data->train, settings);
    const double train_s = seconds_since(t_train);
    if (!report) {
      metrics_.error(api::AgentErrorKind::training);
      log_once("train/" + s.tag(), spdlog::level::err,
               s.tag() + ": training failed: " + report.error().message);
      failures_[turn_key] = TurnFailure{chain::LoadFailure::training_failed,
                                        "training failed: " + report.error().message, false, 1};
      return Acted::failed;
    }
    // No measure of its own here: the trainer does not vote on its candidate,
    // and the voters measure it on their own data.
    const auto t_serialize = Clock::now();
    chain::Bytes bytes = learning::serialize(*model);
    const double serialize_s = seconds_since(t_serialize);
    // The ledger refuses a model already submitted in the run
    // (duplicate_model): training that changed no weight gives the turn up.
    if (auto same = repeated_model(s.run, chain::sha256(chain::ByteView(bytes)), s.turn.index)) {
      log_once("train/" + s.tag(), spdlog::level::err,
               s.tag() + ": the trained model is not submitted: " + *same +
                   "; check the plan's learning rate and epochs and the local training data");
      failures_[turn_key] = TurnFailure{chain::LoadFailure::training_failed,
                                        "training changed nothing: " + *same, false, 1};
      return Acted::failed;
    }
    auto sealed = seal_and_upload(*store_, bytes,
                                  binding_for(s.run, s.turn.index, s.turn.partner, s.run.head),
                                  candidate_recipients(members_), keeping_handoff());
    if (!sealed) {
      metrics_.error(api::AgentErrorKind::store);
      const std::uint32_t attempts = ++store_failures_["seal/" + turn_key];
      failures_[turn_key] =
          upload_failure(static_cast<HandoffErrc>(sealed.error().code),
                         "cannot upload the candidate: " + sealed.error().message, attempts);
      if (attempts < options_.store_attempts) {
        log_once("seal/" + s.tag() + sealed.error().message, spdlog::level::warn,
                 s.tag() + ": cannot upload the candidate: " + sealed.error().message +
                     "; retrying at the next block");
      }
      return Acted::failed;
    }
    if (!sealed->keep_error.empty()) {
      log_once("keep/" + sealed->object_key, spdlog::level::warn,
               s.tag() + ": cannot keep a copy of the candidate: " + sealed->keep_error);
    }
    bytes = {};  // sealed and stored; the model keeps the weights
    // Self-reported: the training's own figures, which cost nothing to give.
    json metrics{
        {"train_rows", data->train.rows},
        {"final_train_loss", report->epoch_loss.empty() ? 0.0 : report->epoch_loss.back()}};
    if (report->epoch_loss.size() <= kMaxReportedEpochs)
      metrics["epoch_losses"] = report->epoch_loss;
    if (plan.privacy.enabled()) {
      metrics["epochs"] = privacy->epochs;
      metrics["epsilon"] = static_cast<double>(privacy->spend.epsilon_total_micro) / 1e6;
      metrics["epsilon_turn"] = static_cast<double>(privacy->spend.epsilon_turn_micro) / 1e6;
    }
    chain::SaveRecord record =
        save_record_for(*sealed, s.run.head, data->train.rows, metrics.dump());
    // Fields 15..22: how to retrain this model bit for bit (issue 16).
    record.repro = repro_record(settings, &data->train, data->feature_schema, training_device());
    chain::pb::SaveRequest r = chain::save_request_to_proto(run_id, s.turn.index, record);
    set_privacy_fields(r, privacy->spend);  // fields 12..14 (docs/PROTOCOL.md §20.2)
    JournalCandidate jc = journal_candidate(run_id, s.turn.index, *sealed, data->train.rows,
                                            metrics.dump(), r.SerializeAsString());
    if (auto st = journal_.put_candidate(std::move(jc)); !st) {
      journal_failed("cannot write the agent journal, so the candidate is not submitted: " +
                     st.error().message);
      return Acted::done;
    }
    json t{{"run", run_id},
           {"turn", s.turn.index},
           {"role", "trainer"},
           {"phase", "train_and_save"},
           {"node", options_.member_name},
           {"t_start_ms", t_start},
           {"t_end_ms", wall_ms()},
           {"fetch_store_s", fetch.fetch.store_s},
           {"fetch_crypto_s", fetch.fetch.crypto_s},
           {"deserialize_s", fetch.deserialize_s},
           {"head_kept", fetch.kept},
           {"train_s", train_s},
           {"serialize_s", serialize_s},
           {"store_s", sealed->timings.store_s},
           {"crypto_s", sealed->timings.crypto_s},
           {"blob_bytes", sealed->blob_size},
           {"train_rows", data->train.rows},
           {"epochs", privacy->epochs},
           {"epsilon_turn_micro", privacy->spend.epsilon_turn_micro},
           {"epsilon_total_micro", privacy->spend.epsilon_total_micro}};
    append_timing(t.dump());
    record_load(fetch);
    metrics_.step(api::AgentStep::train, train_s);
    metrics_.step(api::AgentStep::seal, serialize_s + sealed->timings.crypto_s);
    metrics_.step(api::AgentStep::upload, sealed->timings.store_s);
    log_->info("{}: trained {} epochs on {} rows in {:.2f} s{}; final training loss {:.4f}",
               s.tag(), settings.epochs, data->train.rows, train_s,
               data->labels_flipped ? " (labels flipped)" : "",
               report->epoch_loss.empty() ? 0.0 : report->epoch_loss.back());
    if (plan.privacy.enabled())
      log_->info("{}: privacy: {}", s.tag(),
                 describe_turn_privacy(plan.privacy, plan.epochs, *privacy));
    // Kept: if approved it is the head this node measures at its next vote.
    kept_.emplace(KeptModel{run_id, sealed->model_sha256, sealed->object_key, std::move(*model)});
    c = journal_.candidate(run_id, s.turn.index);
  }
  submit(s, "save/" + run_id + "/" + std::to_string(s.turn.index), chain::pb::TX_SAVE_REQUEST,
         c->payload,
         s.tag() + ": submitted candidate " + c->object_key + " (model " +
             c->model_sha256.substr(0, 12) + ")");
  return Acted::done;
}

}  // namespace baton::agent

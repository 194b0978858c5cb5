#include "node/agent.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "chain/protocol.h"
#include "consensus/vote_policy.h"
#include "learning/metrics.h"
#include "learning/model.h"
#include "learning/train.h"
#include "node/agent_keys.h"

namespace baton::node {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxReasonBytes = 240;
constexpr std::size_t kCommitTimesKept = 4096;

std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string id_bytes(const std::optional<chain::Hash>& h) {
  return h ? std::string(reinterpret_cast<const char*>(h->bytes.data()), h->bytes.size())
           : std::string();
}

std::string short_hex(const std::optional<chain::Hash>& h) {
  return h ? h->hex().substr(0, 12) : std::string("initial model");
}

std::string clip(std::string text) {
  if (text.size() > kMaxReasonBytes) {
    text.resize(kMaxReasonBytes - 3);
    text += "...";
  }
  return text;
}

// Where turn `turn`'s candidate must live: runs/RUN/models/turn-N.blob.
std::string expected_object_key(const std::string& run_id, std::uint64_t turn) {
  auto key = model_object_key(run_id, "turn-" + std::to_string(turn));
  return key ? *key : std::string();
}

bool is_approved_object(const chain::TrainingState& state, const std::string& key) {
  for (const auto& [id, run] : state.runs)
    for (const auto& m : run.models)
      if (m.object_key == key) return true;
  return false;
}

std::string handoff_reason(const Error& e) {
  return clip(std::string(handoff_errc_name(static_cast<HandoffErrc>(e.code))) + ": " + e.message);
}

}  // namespace

struct PartnerAgent::Step {
  std::uint64_t height;
  const chain::TrainingState& state;
  const chain::Run& run;
  const chain::Turn& turn;
  std::string tag() const {
    return "turn " + std::to_string(turn.index) + " of " + run.plan.run_id;
  }
};

// ---------------------------------------------------------------- lifecycle

Result<std::unique_ptr<PartnerAgent>> PartnerAgent::open(
    AgentOptions options, std::unique_ptr<storage::ObjectStore> store, AgentTxSink& sink,
    std::shared_ptr<spdlog::logger> log) {
  if (!options.x25519) return make_error("the partner agent needs this member's X25519 key");
  std::error_code ec;
  fs::create_directories(options.training.work_dir, ec);
  if (ec) {
    return make_error("cannot create the agent's work directory " +
                      options.training.work_dir.string() + ": " + ec.message());
  }
  auto journal = AgentJournal::open(options.training.work_dir / "journal.json");
  if (!journal) return journal.error();
  return std::unique_ptr<PartnerAgent>(new PartnerAgent(std::move(options), std::move(store), sink,
                                                        std::move(log), std::move(*journal)));
}

PartnerAgent::PartnerAgent(AgentOptions options, std::unique_ptr<storage::ObjectStore> store,
                           AgentTxSink& sink, std::shared_ptr<spdlog::logger> log,
                           AgentJournal journal)
    : options_(std::move(options)),
      store_(std::move(store)),
      sink_(sink),
      log_(std::move(log)),
      journal_(std::move(journal)) {
  handoff_.work_dir = options_.training.work_dir / "tmp";
}

PartnerAgent::~PartnerAgent() { stop(); }

void PartnerAgent::start() {
  learning::init_torch(options_.training.torch_threads);
  worker_ = std::thread([this] { run_worker(); });
  log_->info("partner agent of {} started: store {}, train {}, validation {}{}",
             options_.member_name, store_->uri(), options_.training.train_csv.string(),
             options_.training.validation_csv.string(),
             options_.training.malicious_label_flip ? " (MALICIOUS: training labels flipped)" : "");
}

void PartnerAgent::stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void PartnerAgent::on_committed(std::uint64_t height, chain::TrainingState state) {
  {
    std::lock_guard lock(mutex_);
    pending_.emplace(height, std::move(state));
    commit_ms_[height] = wall_ms();
    latest_height_ = std::max(latest_height_, height);
    while (commit_ms_.size() > kCommitTimesKept) commit_ms_.erase(commit_ms_.begin());
  }
  wake_.notify_one();
}

void PartnerAgent::step(std::uint64_t height, const chain::TrainingState& state) {
  {
    std::lock_guard lock(mutex_);
    commit_ms_.try_emplace(height, wall_ms());
    latest_height_ = std::max(latest_height_, height);
  }
  process(height, state);
}

void PartnerAgent::run_worker() {
  for (;;) {
    std::pair<std::uint64_t, chain::TrainingState> view;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_requested_ || pending_.has_value(); });
      if (stop_requested_) return;
      view = std::move(*pending_);
      pending_.reset();
    }
    try {
      process(view.first, view.second);
    } catch (const std::exception& e) {
      // A bug or an allocation failure in a step must not take the node down;
      // the next commit retries from the journal.
      log_->error("partner agent: a step at height {} failed: {}", view.first, e.what());
    }
  }
}

// ---------------------------------------------------------------- dispatch

void PartnerAgent::process(std::uint64_t height, const chain::TrainingState& state) {
  if (first_view_) {
    // Turns that ended before this start were reported (or not) by the last
    // process; their commit times are unknown now.
    for (const auto& [id, run] : state.runs)
      for (const auto& t : run.turns)
        if (t.phase == chain::TurnPhase::done)
          reported_turns_.insert(id + "/" + std::to_string(t.index));
    first_view_ = false;
  }
  delete_refused_candidates(state);
  report_finished_turns(state);
  const chain::Run* run = state.active();
  if (run == nullptr || stopping_.load()) return;
  const chain::Turn* turn = run->current_turn();
  if (turn == nullptr) return;
  const Step s{height, state, *run, *turn};
  if (turn->partner == options_.member_name) {
    my_turn(s);
  } else if (turn->phase == chain::TurnPhase::load_voting) {
    vote_on_load(s);
  } else if (turn->phase == chain::TurnPhase::save_voting) {
    vote_on_save(s);
  }
}

void PartnerAgent::my_turn(const Step& s) {
  if (s.turn.phase == chain::TurnPhase::awaiting_load_request) {
    // Without usable local data there is nothing to train: let the load
    // deadline pass rather than hold the token (local_data logged why).
    if (local_data(s.run.plan) == nullptr) return;
    chain::pb::LoadRequest r;
    r.set_run_id(s.run.plan.run_id);
    r.set_turn(s.turn.index);
    r.set_head_model_id(id_bytes(s.run.head));
    submit(s, "load/" + s.run.plan.run_id + "/" + std::to_string(s.turn.index),
           chain::pb::TX_LOAD_REQUEST, r.SerializeAsString(),
           s.tag() + ": requested the load token (head " + short_hex(s.run.head) + ")");
  } else if (s.turn.phase == chain::TurnPhase::training) {
    train_and_save(s);
  }
}

void PartnerAgent::vote_on_load(const Step& s) {
  if (!is_voter() || !s.turn.load_request_id) return;
  if (s.turn.load_approvals.contains(options_.member_name)) return;
  const chain::Hash& id = *s.turn.load_request_id;
  const JournalVote* v = journal_.vote(id);
  if (v == nullptr) {
    chain::pb::LoadApproval a;
    a.set_run_id(s.run.plan.run_id);
    a.set_request_id(id_bytes(id));
    a.set_approve(true);
    a.set_reason("scheduled partner, current head");
    JournalVote jv{"load", s.run.plan.run_id, s.turn.index, true, a.SerializeAsString()};
    if (auto st = journal_.put_vote(id, std::move(jv)); !st) {
      log_once("journal", spdlog::level::err,
               "cannot write the agent journal: " + st.error().message);
      return;
    }
    v = journal_.vote(id);
  }
  submit(s, "vote/" + id.hex(), chain::pb::TX_LOAD_APPROVAL, v->payload,
         s.tag() + ": approved the load request of " + s.turn.partner);
}

// ---------------------------------------------------------------- housekeeping

void PartnerAgent::delete_refused_candidates(const chain::TrainingState& state) {
  auto remove = [&](const std::string& key, const std::string& why) {
    if (journal_.deleted(key)) return;
    if (auto st = store_->remove(key); !st) {
      log_once("rm/" + key, spdlog::level::warn,
               "cannot delete the refused candidate " + key + ": " + st.error().message +
                   "; retrying at the next block");
      return;
    }
    if (auto st = journal_.mark_deleted(key); !st) {
      log_once("journal", spdlog::level::err,
               "cannot write the agent journal: " + st.error().message);
      return;
    }
    log_->info("{}: deleted the candidate blob {}", why, key);
  };
  for (const auto& [id, run] : state.runs) {
    for (const auto& t : run.turns) {
      if (t.outcome != chain::TurnOutcome::rejected && t.outcome != chain::TurnOutcome::expired)
        continue;
      const std::string why = "turn " + std::to_string(t.index) + " of " + id + " " +
                              std::string(chain::to_string(t.outcome));
      // Only the turn's own key: a SaveRequest naming another object (say,
      // the head's blob) must not make every node delete it.
      if (t.save && !journal_.deleted(t.save->object_key) &&
          t.save->object_key == expected_object_key(id, t.index) &&
          !is_approved_object(state, t.save->object_key)) {
        remove(t.save->object_key, why);
      }
      // A candidate uploaded by this node whose SaveRequest never made it.
      if (const JournalCandidate* c = journal_.candidate(id, t.index);
          c && !journal_.deleted(c->object_key) &&
          (!t.save || t.save->object_key != c->object_key) &&
          !is_approved_object(state, c->object_key)) {
        remove(c->object_key, why);
      }
    }
  }
}

void PartnerAgent::report_finished_turns(const chain::TrainingState& state) {
  for (const auto& [id, run] : state.runs) {
    for (const auto& t : run.turns) {
      if (t.phase != chain::TurnPhase::done) continue;
      const std::string key = id + "/" + std::to_string(t.index);
      if (!reported_turns_.insert(key).second) continue;
      json j{{"run", id},
             {"turn", t.index},
             {"partner", t.partner},
             {"role", "observer"},
             {"phase", "turn_done"},
             {"node", options_.member_name},
             {"outcome", std::string(chain::to_string(t.outcome))}};
      auto at = [&](const char* name, std::uint64_t h, bool present) {
        if (present) j[name] = {{"height", h}, {"ms", commit_ms(h)}};
      };
      at("turn_start", t.start_height, true);
      at("load_request", t.load_request_height, t.load_request_id.has_value());
      at("load_token", t.load_token_height, t.load_token_id.has_value());
      at("save_request", t.save_request_height, t.save_request_id.has_value());
      at("save_token", t.save_token_height, t.save_token_id.has_value());
      at("end", t.end_height, true);
      append_timing(j.dump());
      log_->info("turn {} of {} ({}) ended {}", t.index, id, t.partner,
                 chain::to_string(t.outcome));
    }
  }
}

// ---------------------------------------------------------------- helpers

void PartnerAgent::submit(const Step& s, const std::string& intent, chain::pb::TxType type,
                          const std::string& payload, const std::string& what, bool log_first) {
  auto it = submitted_at_.find(intent);
  if (it != submitted_at_.end() && s.height < it->second.height + options_.resubmit_after_blocks)
    return;
  const bool first = it == submitted_at_.end();
  if (!first) {
    // Still awaited after several blocks: lost with a restarted mempool, or
    // included and refused (the ledger says why).
    if (const chain::Refusal* r = chain::find_refusal(s.state, it->second.hash)) {
      log_once("refused/" + it->second.hash.hex(), spdlog::level::warn,
               what + ": the ledger refused it at height " + std::to_string(r->height) + " (" +
                   std::string(chain::to_string(r->reason)) + ")");
    }
  }
  if (stopping_.load()) return;
  const AgentSubmitResult r = sink_.submit(type, payload);
  if (!r.accepted) {
    // Retry at the next block (busy node, full pool); say why once.
    log_once("submit/" + intent + "/" + r.reason, spdlog::level::warn,
             what + ": the node did not take the transaction (" + r.reason +
                 "); retrying at the next block");
    return;
  }
  // Count from the newest commit, not the view's: a step may take seconds
  // (training) while blocks go on.
  submitted_at_[intent] = Submitted{std::max(s.height, latest_height()), r.hash};
  if (first) {
    if (log_first) log_->info("{}", what);
  } else {
    log_->info("{} (sent again: not on the ledger after {} blocks)", what,
               options_.resubmit_after_blocks);
  }
}

bool PartnerAgent::is_voter() const {
  for (const auto& m : options_.members)
    if (m.name == options_.member_name) return m.power > 0;
  return false;
}

void PartnerAgent::log_once(const std::string& key, spdlog::level::level_enum level,
                            const std::string& text) {
  if (!logged_.insert(key).second) return;
  log_->log(level, "{}", text);
}

void PartnerAgent::append_timing(const std::string& json_line) {
  std::ofstream out(options_.training.work_dir / "timings.jsonl", std::ios::app);
  out << json_line << "\n";
  if (!out) log_once("timings", spdlog::level::warn, "cannot append to timings.jsonl");
}

std::uint64_t PartnerAgent::latest_height() const {
  std::lock_guard lock(mutex_);
  return latest_height_;
}

std::uint64_t PartnerAgent::commit_ms(std::uint64_t height) const {
  std::lock_guard lock(mutex_);
  auto it = commit_ms_.find(height);
  return it == commit_ms_.end() ? 0 : it->second;
}

ModelBinding PartnerAgent::binding_for(const chain::Run& run, std::uint64_t turn,
                                       const std::optional<chain::Hash>& parent) const {
  return {options_.chain_id, run.plan.run_id, "turn-" + std::to_string(turn),
          parent ? parent->hex() : std::string()};
}

Result<LedgerModelRef> PartnerAgent::ledger_ref(const chain::SaveRecord& save) const {
  auto envelope = envelope_for_member(save, options_.member_name, options_.x25519->public_key());
  if (!envelope) return envelope.error();
  return LedgerModelRef{save.object_key, save.ciphertext_sha256, save.model_sha256,
                        std::move(*envelope)};
}

const LocalData* PartnerAgent::local_data(const chain::TrainingPlan& plan) {
  if (auto it = data_.find(plan.run_id); it != data_.end()) return &it->second;
  if (data_failed_.contains(plan.run_id)) return nullptr;
  auto loaded = load_local_data(options_.training, plan);
  if (loaded) {
    auto spec = learning::spec_from_json(plan.model_spec);
    if (spec && spec->input_size() != loaded->train.features) {
      loaded = make_error("the plan's model takes " + std::to_string(spec->input_size()) +
                          " features but the local data encode to " +
                          std::to_string(loaded->train.features));
    }
  }
  if (!loaded) {
    data_failed_.insert(plan.run_id);
    log_->error("run {}: this node cannot take part: {} (fix [training] and restart the node)",
                plan.run_id, loaded.error().message);
    return nullptr;
  }
  log_->info("run {}: {} training rows{}, {} validation rows, {} features", plan.run_id,
             loaded->train.rows, loaded->labels_flipped ? " (labels FLIPPED)" : "",
             loaded->validation.rows, loaded->train.features);
  return &data_.emplace(plan.run_id, std::move(*loaded)).first->second;
}

Result<learning::Model> PartnerAgent::load_head(const chain::Run& run, HandoffTimings* timings) {
  auto spec = learning::spec_from_json(run.plan.model_spec);
  if (!spec)
    return make_error("the plan's model spec is not one this build knows: " + spec.error().message);
  if (!run.head) return learning::Model::create(*spec, run.plan.seed);
  const chain::ModelRecord* m = run.find_model(*run.head);
  const chain::SaveRecord* save = chain::find_save(run, *run.head);
  if (m == nullptr || save == nullptr)
    return make_error("the head model " + run.head->hex() + " is not in the lineage");
  auto ref = ledger_ref(*save);
  if (!ref) return ref.error();
  auto opened = fetch_and_open(*store_, *ref, *options_.x25519,
                               binding_for(run, m->turn, m->parent), handoff_);
  if (!opened) return opened.error();
  if (timings != nullptr) *timings = opened->timings;
  auto model = learning::deserialize(opened->model_bytes);
  if (!model) return model.error();
  if (model->spec() != *spec) return make_error("the head model is not the plan's architecture");
  return model;
}

const Evaluation* PartnerAgent::head_evaluation(const chain::Run& run, double* eval_s) {
  const std::string key = run.plan.run_id + "/" + (run.head ? run.head->hex() : "initial");
  if (auto it = head_evals_.find(key); it != head_evals_.end()) return &it->second;
  const LocalData* data = local_data(run.plan);
  if (data == nullptr) return nullptr;
  auto model = load_head(run, nullptr);
  if (!model) {
    log_once("head/" + key, spdlog::level::err,
             "cannot load the head model of run " + run.plan.run_id +
                 " to vote: " + model.error().message);
    return nullptr;
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
  head_evals_.clear();  // only the current head is ever measured again
  return &head_evals_.emplace(key, std::move(*eval)).first->second;
}

// ---------------------------------------------------------------- training

void PartnerAgent::train_and_save(const Step& s) {
  const std::string& run_id = s.run.plan.run_id;
  const JournalCandidate* c = journal_.candidate(run_id, s.turn.index);
  if (c == nullptr) {
    const std::uint64_t t_start = wall_ms();
    const LocalData* data = local_data(s.run.plan);
    if (data == nullptr) return;
    HandoffTimings fetch;
    auto model = load_head(s.run, &fetch);
    if (!model) {
      log_once("train/" + s.tag() + model.error().message, spdlog::level::err,
               s.tag() + ": cannot load the head model: " + model.error().message +
                   "; retrying at the next block");
      return;
    }
    const chain::TrainingPlan& plan = s.run.plan;
    learning::TrainSettings settings;
    settings.epochs = static_cast<int>(plan.epochs);
    settings.batch_size = static_cast<int>(plan.batch_size);
    auto optimizer = learning::parse_optimizer(plan.optimizer);
    if (!optimizer) {
      log_once("train/" + s.tag(), spdlog::level::err,
               s.tag() + ": the plan's optimizer is unknown: " + optimizer.error().message);
      return;
    }
    settings.optimizer = *optimizer;
    settings.learning_rate = static_cast<double>(plan.learning_rate_nano) / 1e9;
    settings.weight_decay = static_cast<double>(plan.weight_decay_nano) / 1e9;
    settings.seed = plan.seed + s.turn.index;
    settings.threads = options_.training.torch_threads;
    const auto t_train = Clock::now();
    auto report = learning::train(*model, data->train, settings);
    const double train_s = seconds_since(t_train);
    if (!report) {
      log_once("train/" + s.tag(), spdlog::level::err,
               s.tag() + ": training failed: " + report.error().message);
      return;
    }
    const auto t_eval = Clock::now();
    auto own = evaluate(*model, data->validation);
    const double eval_s = seconds_since(t_eval);
    const chain::Bytes bytes = learning::serialize(*model);
    std::vector<chain::MemberPublicKeys> recipients;
    for (const auto& m : options_.members) recipients.push_back({m.name, m.ed25519, m.x25519});
    std::sort(recipients.begin(), recipients.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    auto sealed = seal_and_upload(*store_, bytes, binding_for(s.run, s.turn.index, s.run.head),
                                  recipients, handoff_);
    if (!sealed) {
      log_once("seal/" + s.tag() + sealed.error().message, spdlog::level::warn,
               s.tag() + ": cannot upload the candidate: " + sealed.error().message +
                   "; retrying at the next block");
      return;
    }
    json metrics{
        {"train_rows", data->train.rows},
        {"validation_rows", data->validation.rows},
        {"final_train_loss", report->epoch_loss.empty() ? 0.0 : report->epoch_loss.back()}};
    if (own) metrics["validation_auc"] = own->auc;
    const chain::pb::SaveRequest r = chain::save_request_to_proto(
        run_id, s.turn.index,
        save_record_for(*sealed, s.run.head, data->train.rows, metrics.dump()));
    JournalCandidate jc;
    jc.run_id = run_id;
    jc.turn = s.turn.index;
    jc.object_key = sealed->object_key;
    jc.ciphertext_sha256 = sealed->blob_sha256.hex();
    jc.model_sha256 = sealed->model_sha256.hex();
    jc.envelope_json = sealed->envelope_json;
    jc.train_samples = data->train.rows;
    jc.metrics_json = metrics.dump();
    jc.payload = r.SerializeAsString();
    if (auto st = journal_.put_candidate(std::move(jc)); !st) {
      log_once("journal", spdlog::level::err,
               "cannot write the agent journal, so the candidate is not submitted: " +
                   st.error().message);
      return;
    }
    json t{{"run", run_id},
           {"turn", s.turn.index},
           {"role", "trainer"},
           {"phase", "train_and_save"},
           {"node", options_.member_name},
           {"t_start_ms", t_start},
           {"t_end_ms", wall_ms()},
           {"fetch_store_s", fetch.store_s},
           {"fetch_crypto_s", fetch.crypto_s},
           {"fetch_io_s", fetch.io_s},
           {"train_s", train_s},
           {"eval_s", eval_s},
           {"store_s", sealed->timings.store_s},
           {"crypto_s", sealed->timings.crypto_s},
           {"io_s", sealed->timings.io_s},
           {"blob_bytes", sealed->blob_size},
           {"train_rows", data->train.rows}};
    append_timing(t.dump());
    log_->info("{}: trained {} epochs on {} rows in {:.2f} s{}; own validation AUC {}", s.tag(),
               plan.epochs, data->train.rows, train_s,
               data->labels_flipped ? " (labels flipped)" : "",
               own ? fmt::format("{:.4f}", own->auc) : std::string("n/a"));
    c = journal_.candidate(run_id, s.turn.index);
  }
  submit(s, "save/" + run_id + "/" + std::to_string(s.turn.index), chain::pb::TX_SAVE_REQUEST,
         c->payload,
         s.tag() + ": submitted candidate " + c->object_key + " (model " +
             c->model_sha256.substr(0, 12) + ")");
}

// ---------------------------------------------------------------- voting on models

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
    const Evaluation* head = head_evaluation(s.run, &eval_s);
    if (head == nullptr) return;  // logged; this node abstains
    const chain::SaveRecord& save = *s.turn.save;
    std::optional<std::string> refusal;
    HandoffTimings fetch;
    std::optional<Evaluation> candidate;
    const std::string expected_key = expected_object_key(s.run.plan.run_id, s.turn.index);
    if (save.object_key != expected_key) {
      refusal = clip("wrong_object_key: the candidate of turn " + std::to_string(s.turn.index) +
                     " must be stored at " + expected_key + ", not " + save.object_key);
    }
    auto ref = ledger_ref(save);
    auto opened =
        refusal ? Result<OpenedModel>(make_error(*refusal))
        : ref   ? fetch_and_open(*store_, *ref, *options_.x25519,
                                 binding_for(s.run, s.turn.index, save.parent_model_id), handoff_)
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
      fetch = opened->timings;
      auto model = learning::deserialize(opened->model_bytes);
      auto spec = learning::spec_from_json(s.run.plan.model_spec);
      if (!model) {
        refusal = clip("bad_model: " + model.error().message);
      } else if (!spec || model->spec() != *spec) {
        refusal = "wrong_architecture: the candidate is not the plan's model";
      } else {
        const auto t0 = Clock::now();
        auto eval = evaluate(*model, data->validation);
        eval_s += seconds_since(t0);
        if (!eval) {
          refusal = handoff_reason(eval.error());
        } else {
          candidate = std::move(*eval);
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
    mv.set_validation_size(data->validation.rows);
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
           {"store_s", fetch.store_s},
           {"crypto_s", fetch.crypto_s},
           {"io_s", fetch.io_s},
           {"eval_s", eval_s},
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

}  // namespace baton::node

#include "agent/agent.h"

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "chain/protocol.h"
#include "learning/model.h"
#include "agent/agent_datasets.h"
#include "agent/agent_keys.h"
#include "agent/agent_util.h"
#include "agent/turn_privacy.h"
#include "storage/secret_file.h"

namespace baton::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace agent_detail;

constexpr std::size_t kCommitTimesKept = 4096;

}  // namespace

// ---------------------------------------------------------------- lifecycle

Result<std::unique_ptr<PartnerAgent>> PartnerAgent::open(
    AgentOptions options, std::unique_ptr<storage::ObjectStore> store, AgentTxSink& sink,
    std::shared_ptr<spdlog::logger> log) {
  if (!options.x25519) return make_error("the partner agent needs this member's X25519 key");
  // It holds the journal and, with the model cache, others' models in the
  // clear: mode 0700 when the agent makes it.
  auto work_dir = storage::make_private_directory(options.training.work_dir);
  if (!work_dir) {
    return make_error("cannot make the agent's work directory: " + work_dir.error().message);
  }
  if (work_dir->open_to_others) {
    log->warn(
        "the agent's work directory {} has mode {:04o}: other users of this host may read "
        "its journal and cached models; chmod 700 it",
        options.training.work_dir.string(), work_dir->mode);
  }
  auto journal = AgentJournal::open(options.training.work_dir / "journal.json");
  if (!journal) return journal.error();
  std::unique_ptr<ModelCache> cache;
  if (options.model_cache.enabled) {
    if (options.model_cache.dir.empty())
      options.model_cache.dir = options.training.work_dir / "model_cache";
    auto opened = ModelCache::open(options.model_cache);
    if (!opened) return opened.error();
    cache = std::move(*opened);
  }
  auto agent = std::unique_ptr<PartnerAgent>(new PartnerAgent(
      std::move(options), std::move(store), sink, std::move(log), std::move(*journal)));
  agent->cache_ = std::move(cache);
  return agent;
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
  members_ = options_.members;
}

PartnerAgent::~PartnerAgent() { stop(); }

void PartnerAgent::start() {
  learning::init_torch(options_.training.torch_threads);
  worker_ = std::thread([this] { run_worker(); });
  log_->info("partner agent of {} started: store {}, train {}, validation {}{}{}",
             options_.member_name, store_->uri(), options_.training.train_csv.string(),
             options_.training.validation_csv.string(),
             options_.training.malicious_label_flip ? " (MALICIOUS: training labels flipped)" : "",
             options_.training.malicious_ignore_privacy_budget
                 ? " (MALICIOUS: ignores the plan's privacy budget and trains every epoch)"
                 : "");
}

void PartnerAgent::stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::thread repair;
  {
    std::lock_guard lock(repair_mutex_);
    repair.swap(repair_thread_);
  }
  if (repair.joinable()) repair.join();
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
      processed_height_ = view.first;
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
  if (!confirm_identity()) return;
  delete_refused_candidates(state);
  report_finished_turns(state);
  look_after_models(state);
  grant_released_models(height, state);
  const chain::Run* run = state.active();
  if (run == nullptr || stopping_.load()) return;
  if (!members_asked_.contains(run->plan.run_id)) {
    if (!refresh_members("run " + run->plan.run_id + " starts")) return;
    members_asked_.insert(run->plan.run_id);
  }
  if (!run->plan.schema_id.empty() && !consortium_schemas_.contains(run->plan.run_id)) {
    // Frozen by the run's start (§23): derived once, the same on every node.
    std::optional<std::string> derived;
    if (auto it = state.schemas.find(run->plan.schema_id); it != state.schemas.end())
      if (auto d = chain::derive_consortium_schema(it->second)) derived = std::move(*d);
    consortium_schemas_[run->plan.run_id] = std::move(derived);
  }
  if (run->status == chain::RunStatus::preparing) {
    post_readiness(std::max(height, latest_height()), state, *run);
    return;
  }
  if (options_.training.test_drop_out_after_upload && run->plan.federated()) {
    for (const auto& t : run->turns) {
      if (t.round && t.round->uploads.contains(options_.member_name)) {
        log_once("drop-out/" + run->plan.run_id, spdlog::level::warn,
                 "TEST (test_drop_out_after_upload): takes no more part in run " +
                     run->plan.run_id + " after its masked upload of round " +
                     std::to_string(t.index));
        return;
      }
    }
  }
  const chain::Turn* turn = run->current_turn();
  if (turn == nullptr) return;
  const Step s{height, state, *run, *turn};
  if (act(s, decide(s)) == Acted::failed) {
    // A failure was recorded: when the core now gives the turn up, it is
    // given up in this view, not a block later. Anything else (a retry)
    // waits for the next view.
    const NextStep again = decide(s);
    if (std::holds_alternative<Abandon>(again) || std::holds_alternative<Complain>(again))
      (void)act(s, again);
  }
}

NextStep PartnerAgent::decide(const Step& s) {
  // Count from the newest commit: the view may be older than what the node
  // has committed since (a step takes seconds).
  return next_step(std::max(s.height, latest_height()), s.state, identity(), recall(s),
                   options_.store_attempts);
}

AgentMemory PartnerAgent::recall(const Step& s) {
  AgentMemory m;
  const std::string& run_id = s.run.plan.run_id;
  std::string why;
  if (!run_plan(s.run.plan, &why)) m.plan_unusable = why;
  if (auto it = data_failed_.find(run_id); it != data_failed_.end()) m.data_unusable = it->second;
  m.candidate_journaled = journal_.candidate(run_id, s.turn.index) != nullptr;
  m.load_vote_journaled = s.turn.load_request_id && journal_.vote(*s.turn.load_request_id);
  m.save_vote_journaled = s.turn.save_request_id && journal_.vote(*s.turn.save_request_id);
  const chain::ModelRecord* head = s.run.head ? s.run.find_model(*s.run.head) : nullptr;
  m.head_measured = (!s.run.head || head) &&
                    evals_.contains(evaluation_key(
                        run_id, head ? std::optional(head->model_sha256) : std::nullopt));
  const std::string key = run_id + "/" + std::to_string(s.turn.index);
  if (auto it = failures_.find(key); it != failures_.end()) m.failure = it->second;
  if (auto it = abandoned_.find(key); it != abandoned_.end()) m.abandoned = it->second;
  if (s.run.plan.federated()) {
    m.share_journaled = journal_.round(run_id, s.turn.index, "share") != nullptr;
    m.upload_journaled = journal_.round(run_id, s.turn.index, "upload") != nullptr;
    m.unmask_journaled = journal_.round(run_id, s.turn.index, "unmask") != nullptr;
    if (auto it = complained_.find(key); it != complained_.end()) m.complained = it->second;
  }
  return m;
}

namespace {

// What the agent reports it is doing while it carries `next` out (nothing for
// a step that only sends a transaction).
std::optional<api::AgentActivity> activity_of(const NextStep& next) {
  using A = api::AgentActivity;
  if (std::holds_alternative<VoteOnSave>(next)) return A::voting;
  if (std::holds_alternative<Train>(next) || std::holds_alternative<SubmitSave>(next) ||
      std::holds_alternative<TrainRound>(next))
    return A::training;
  if (std::holds_alternative<MeasureHead>(next)) return A::measuring;
  if (std::holds_alternative<ShareRound>(next)) return A::sharing;
  if (std::holds_alternative<RevealShares>(next)) return A::unmasking;
  if (std::holds_alternative<AggregateRound>(next)) return A::aggregating;
  return std::nullopt;
}

}  // namespace

PartnerAgent::Acted PartnerAgent::act(const Step& s, const NextStep& next) {
  metrics_.at(s.run.plan.run_id, s.turn.index);
  std::optional<AgentMetrics::Working> working;
  if (const auto activity = activity_of(next)) working.emplace(metrics_, *activity);
  // Recipients and voters follow the ledger (issue 18): asked again right
  // before a seal or a vote; a step that cannot ask waits for the next view.
  const bool votes =
      std::holds_alternative<VoteOnLoad>(next) || std::holds_alternative<VoteOnSave>(next);
  const bool seals = std::holds_alternative<Train>(next) ||
                     std::holds_alternative<SubmitSave>(next) ||
                     std::holds_alternative<AggregateRound>(next);
  if ((votes || seals) && !refresh_members((votes ? "the vote on " : "the seal of ") + s.tag()))
    return Acted::done;
  if (votes && !is_voter()) {
    log_once("not-voter/" + s.tag(), spdlog::level::info,
             s.tag() + ": " + options_.member_name + " holds no voting power in the ledger's " +
                 "members after block " + std::to_string(members_height_) + ": no vote");
    return Acted::done;
  }
  if (const auto* v = std::get_if<VoteOnLoad>(&next)) {
    vote_on_load(s, *v);
  } else if (const auto* v = std::get_if<VoteOnSave>(&next)) {
    return vote_on_save(s, *v);
  } else if (std::holds_alternative<RequestLoad>(next)) {
    return request_load(s);
  } else if (std::holds_alternative<Train>(next) || std::holds_alternative<SubmitSave>(next)) {
    return train_and_save(s);
  } else if (std::holds_alternative<MeasureHead>(next)) {
    // Idle while the partner trains: load the local data and measure the
    // head now (kept per head), so that the vote on the candidate only
    // measures the candidate. After an approved save the head was measured
    // as the candidate; this matters for a run's first turn and after a
    // restart.
    LoadTimings load;
    double eval_s = 0;
    if (const Evaluation* head = head_evaluation(s.run, &load, &eval_s); head && eval_s > 0) {
      record_load(load);
      metrics_.step(api::AgentStep::evaluate, eval_s);
      metrics_.evaluated(std::nullopt, head->auc);
    }
  } else if (const auto* a = std::get_if<Abandon>(&next)) {
    abandon_turn(s, *a);
  } else if (std::holds_alternative<ShareRound>(next)) {
    return share_round(s);
  } else if (std::holds_alternative<TrainRound>(next)) {
    return train_round(s);
  } else if (std::holds_alternative<RevealShares>(next)) {
    return reveal_shares(s);
  } else if (std::holds_alternative<AggregateRound>(next)) {
    return aggregate_round(s);
  } else if (const auto* c = std::get_if<Complain>(&next)) {
    complain(s, *c);
  }
  return Acted::done;
}

PartnerAgent::Acted PartnerAgent::request_load(const Step& s) {
  // Without usable local data there is nothing to train: the core gives the
  // turn up at once (local_data logged why) rather than hold the token.
  if (local_data(s.run.plan) == nullptr) return Acted::failed;
  chain::pb::LoadRequest r;
  r.set_run_id(s.run.plan.run_id);
  r.set_turn(s.turn.index);
  r.set_head_model_id(id_bytes(s.run.head));
  submit(s, "load/" + s.run.plan.run_id + "/" + std::to_string(s.turn.index),
         chain::pb::TX_LOAD_REQUEST, r.SerializeAsString(),
         s.tag() + ": requested the load token (head " + short_hex(s.run.head) + ")");
  return Acted::done;
}

void PartnerAgent::vote_on_load(const Step& s, const VoteOnLoad& v) {
  const chain::Hash& id = v.request_id;
  const JournalVote* journaled = journal_.vote(id);
  if (journaled == nullptr) {
    chain::pb::LoadApproval a;
    a.set_run_id(s.run.plan.run_id);
    a.set_request_id(id_bytes(id));
    a.set_approve(true);
    a.set_reason("scheduled partner, current head");
    JournalVote jv{"load", s.run.plan.run_id, s.turn.index, true, a.SerializeAsString()};
    if (auto st = journal_.put_vote(id, std::move(jv)); !st) {
      journal_failed("cannot write the agent journal: " + st.error().message);
      return;
    }
    journaled = journal_.vote(id);
  }
  submit(s, "vote/" + id.hex(), chain::pb::TX_LOAD_APPROVAL, journaled->payload,
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
      journal_failed("cannot write the agent journal: " + st.error().message);
      return;
    }
    log_->info("{}: deleted the candidate blob {}", why, key);
  };
  for (const auto& [id, run] : state.runs) {
    for (const auto& t : run.turns) {
      if (t.outcome != chain::TurnOutcome::rejected && t.outcome != chain::TurnOutcome::expired &&
          t.outcome != chain::TurnOutcome::abandoned)
        continue;
      const std::string why = "turn " + std::to_string(t.index) + " of " + id + " " +
                              std::string(chain::to_string(t.outcome));
      // Only the turn's own key: a SaveRequest naming another object (say,
      // the head's blob) must not make every node delete it.
      if (t.save && !journal_.deleted(t.save->object_key) &&
          t.save->object_key == expected_object_key(run.plan, t.index, t.partner) &&
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
      if (t.abandon) j["abandon_reason"] = std::string(chain::to_string(t.abandon->reason));
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
      log_->info("turn {} of {} ({}) ended {}{}", t.index, id, t.partner,
                 chain::to_string(t.outcome),
                 t.abandon ? ": " + std::string(chain::to_string(t.abandon->reason)) + " (" +
                                 t.abandon->detail + ")"
                           : std::string());
    }
  }
}

// ---------------------------------------------------------------- helpers

void PartnerAgent::submit(const Step& s, const std::string& intent, chain::pb::TxType type,
                          const std::string& payload, const std::string& what, bool log_first) {
  submit(s.height, s.state, intent, type, payload, what, log_first);
}

void PartnerAgent::submit(std::uint64_t height, const chain::TrainingState& state,
                          const std::string& intent, chain::pb::TxType type,
                          const std::string& payload, const std::string& what, bool log_first) {
  auto it = submitted_at_.find(intent);
  if (it != submitted_at_.end() && height < it->second.height + options_.resubmit_after_blocks)
    return;
  const bool first = it == submitted_at_.end();
  if (!first) {
    // Still awaited after several blocks: lost with a restarted mempool, or
    // included and refused (the ledger says why).
    if (const chain::Refusal* r = chain::find_refusal(state, it->second.hash)) {
      log_once("refused/" + it->second.hash.hex(), spdlog::level::warn,
               what + ": the ledger refused it at height " + std::to_string(r->height) + " (" +
                   std::string(chain::to_string(r->reason)) + ")");
    }
  }
  if (stopping_.load()) return;
  const AgentSubmitResult r = sink_.submit(type, payload);
  if (!r.accepted) {
    metrics_.error(api::AgentErrorKind::submit);
    // Retry at the next block (busy node, full pool); say why once.
    log_once("submit/" + intent + "/" + r.reason, spdlog::level::warn,
             what + ": the node did not take the transaction (" + r.reason +
                 "); retrying at the next block");
    return;
  }
  // Count from the newest commit, not the view's: a step may take seconds
  // (training) while blocks go on.
  submitted_at_[intent] = Submitted{std::max(height, latest_height()), r.hash};
  if (first) {
    if (log_first) log_->info("{}", what);
  } else {
    log_->info("{} (sent again: not on the ledger after {} blocks)", what,
               options_.resubmit_after_blocks);
  }
}

bool PartnerAgent::refresh_members(const std::string& what) {
  if (member_source_ == nullptr) return true;
  auto now = member_source_->current_members();
  if (!now) {
    log_once("members/" + now.error().message, spdlog::level::warn,
             "cannot learn the ledger's current members from the node before " + what + ": " +
                 now.error().message + "; waiting for the node and asking again");
    return false;
  }
  auto names = [](const std::vector<chain::GenesisMember>& list) {
    std::string out;
    for (const auto& m : list) out += (out.empty() ? "" : ", ") + m.name;
    return out;
  };
  const bool changed = now->members.size() != members_.size() ||
                       !std::equal(now->members.begin(), now->members.end(), members_.begin(),
                                   [](const auto& a, const auto& b) {
                                     return a.name == b.name && a.ed25519 == b.ed25519 &&
                                            a.x25519 == b.x25519 && a.power == b.power &&
                                            a.roles == b.roles;
                                   });
  if (changed) {
    log_->info("the ledger's members after block {}: {}", now->height, names(now->members));
  }
  members_ = std::move(now->members);
  members_height_ = now->height;
  if (changed && identity_confirmed_) {
    // A rotation or removal committed since: the key is checked again.
    const auto me = std::find_if(members_.begin(), members_.end(),
                                 [&](const auto& m) { return m.name == options_.member_name; });
    if (me == members_.end() || me->x25519 != options_.x25519->public_key()) {
      identity_confirmed_ = false;
      logged_.erase("identity/0");
      logged_.erase("identity/1");
      return confirm_identity();
    }
  }
  return true;
}

bool PartnerAgent::confirm_identity() {
  if (identity_confirmed_) return true;
  if (!refresh_members("checking this agent's key")) return false;
  const chain::X25519PublicKey mine = options_.x25519->public_key();
  const auto me = std::find_if(members_.begin(), members_.end(),
                               [&](const auto& m) { return m.name == options_.member_name; });
  if (me == members_.end() || me->x25519 != mine) {
    log_once("identity/" + std::to_string(me == members_.end()), spdlog::level::warn,
             me == members_.end()
                 ? options_.member_name + " is no member in the ledger after block " +
                       std::to_string(members_height_) +
                       " (not yet admitted by vote, or removed): the agent acts once the "
                       "ledger lists it (`baton member list`)"
                 : "the ledger's X25519 key of " + options_.member_name + " after block " +
                       std::to_string(members_height_) +
                       " is not this agent's key file's: the agent waits (a rotation not yet "
                       "committed, or the wrong key_file)");
    return false;
  }
  identity_confirmed_ = true;
  log_->info("{} is a member of the ledger with this key (members after block {})",
             options_.member_name, members_height_);
  return true;
}

bool PartnerAgent::is_voter() const {
  for (const auto& m : members_)
    if (m.name == options_.member_name) return m.power > 0;
  return false;
}

void PartnerAgent::log_once(const std::string& key, spdlog::level::level_enum level,
                            const std::string& text) {
  if (!logged_.insert(key).second) return;
  log_->log(level, "{}", text);
}

void PartnerAgent::journal_failed(const std::string& text) {
  metrics_.error(api::AgentErrorKind::journal);
  log_once("journal", spdlog::level::err, text);
}

void PartnerAgent::record_load(const LoadTimings& load) {
  if (load.kept || load.fetch.store_s + load.fetch.crypto_s + load.deserialize_s <= 0) return;
  metrics_.step(api::AgentStep::fetch, load.fetch.store_s);
  metrics_.step(api::AgentStep::open, load.fetch.crypto_s + load.deserialize_s);
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
                                       const std::string& author,
                                       const std::optional<chain::Hash>& parent) const {
  return {options_.chain_id, run.plan.run_id, candidate_model_id(run.plan, turn, author),
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
  const auto parsed = run_plan(plan);
  if (!parsed) return nullptr;  // logged when the run was first seen
  const auto schema = consortium_schemas_.find(plan.run_id);
  auto training =
      training_for_plan(options_.training, options_.config_path, plan,
                        schema == consortium_schemas_.end() ? std::nullopt : schema->second);
  auto loaded = training ? load_local_data(*training, plan, parsed->spec,
                                           local_dp_seed(dp_noise_key(*options_.x25519),
                                                         plan.run_id, options_.member_name))
                         : Result<LocalData>(training.error());
  if (!loaded) {
    data_failed_[plan.run_id] = loaded.error().message;
    data_failure_[plan.run_id] =
        training ? data_failure(loaded.error()) : chain::ReadinessFailure::data_unusable;
    metrics_.error(api::AgentErrorKind::data);
    log_->error(
        "run {}: this node cannot take part: {} (fix the dataset in agent.toml: the next run "
        "reads it again)",
        plan.run_id, loaded.error().message);
    return nullptr;
  }
  log_->info("run {}: {} training rows{}{}, {} validation rows, {} features", plan.run_id,
             loaded->train.rows, loaded->labels_flipped ? " (labels FLIPPED)" : "",
             loaded->local_dp ? " (local DP noise added once)" : "", loaded->validation.rows,
             loaded->train.features);
  return &data_.emplace(plan.run_id, std::move(*loaded)).first->second;
}

std::shared_ptr<const RunPlan> PartnerAgent::run_plan(const chain::TrainingPlan& plan,
                                                      std::string* why) const {
  std::lock_guard lock(plans_mutex_);
  auto it = plans_.find(plan.run_id);
  if (it == plans_.end() || it->second.model_spec_hash != plan.model_spec_hash) {
    // First seen: parsed here, once, and kept.
    ParsedPlan p{plan.model_spec_hash, nullptr, {}};
    auto parsed = parse_run_plan(plan, handoff_.chunk_size);
    if (parsed) {
      p.plan = std::make_shared<const RunPlan>(std::move(*parsed));
    } else {
      p.why = parsed.error().message;
      log_->error("run {}: this build cannot train the run's plan: {}", plan.run_id, p.why);
    }
    it = plans_.insert_or_assign(plan.run_id, std::move(p)).first;
  }
  if (!it->second.plan && why != nullptr) *why = it->second.why;
  return it->second.plan;
}

const learning::Model* PartnerAgent::kept_head(const chain::Run& run) const {
  if (!kept_ || !run.head || kept_->run_id != run.plan.run_id) return nullptr;
  const chain::ModelRecord* m = run.find_model(*run.head);
  if (m == nullptr || m->model_sha256 != kept_->model_sha256 || m->object_key != kept_->object_key)
    return nullptr;
  return &kept_->model;
}

Result<learning::Model> PartnerAgent::load_head(const chain::Run& run, LoadTimings* timings) {
  std::string why;
  const auto plan = run_plan(run.plan, &why);
  if (!plan) return make_error("this build cannot use the run's plan: " + why);
  const learning::ModelSpec& spec = plan->spec;
  if (!run.head) return learning::Model::create(spec, run.plan.seed);
  if (kept_head(run) != nullptr) {
    // Checked against the ledger's model hash when it was opened (or made
    // here), and its architecture against the plan's when it was measured.
    learning::Model model = std::move(kept_->model);
    kept_.reset();
    if (timings != nullptr) timings->kept = true;
    if (model.spec() != spec) return make_error("the head model is not the plan's architecture");
    return model;
  }
  const chain::ModelRecord* m = run.find_model(*run.head);
  const chain::SaveRecord* save = chain::find_save(run, *run.head);
  if (m == nullptr || save == nullptr)
    return make_error("the head model " + run.head->hex() + " is not in the lineage");
  auto ref = ledger_ref(*save);
  if (!ref) return ref.error();
  ref->blob_size = plan->sealed_size;  // refused before download
  const ModelBinding binding = binding_for(run, m->turn, m->contributor, m->parent);
  auto opened = fetch_and_open(*store_, *ref, *options_.x25519, binding, keeping_handoff());
  if (!opened) opened = open_from_copy(run, *ref, binding, opened.error());
  if (!opened) return opened.error();
  const auto t0 = Clock::now();
  auto model = learning::deserialize(opened->model_bytes, spec);
  if (timings != nullptr) {
    timings->fetch.store_s += opened->timings.store_s;
    timings->fetch.crypto_s += opened->timings.crypto_s;
    timings->deserialize_s += seconds_since(t0);
  }
  if (!model) return model.error();  // another spec than the plan's included
  return model;
}

}  // namespace baton::agent

// The partner agent's copies of models and its care for the object store's
// copies; giving up a turn it cannot take part in (agent/agent.h, "Copies and
// failures").
#include "chain/protocol.h"
#include "agent/agent.h"
#include "agent/agent_util.h"

namespace baton::agent {

using storage::CopyCheckOptions;
using storage::StoredCopy;
namespace {

using namespace agent_detail;

// Which load failures are about the head's bytes in the store, so that a
// copy of this node's own may help.
bool copy_may_help(HandoffErrc code) {
  switch (code) {
    case HandoffErrc::missing_blob:
    case HandoffErrc::hash_mismatch:
    case HandoffErrc::wrong_size:
    case HandoffErrc::authentication_failed:
    case HandoffErrc::model_hash_mismatch:
    case HandoffErrc::store_failed:
      return true;
    default:
      return false;
  }
}

bool head_trouble(const chain::Turn& t) {
  if (t.outcome != chain::TurnOutcome::abandoned || !t.abandon) return false;
  switch (t.abandon->reason) {
    case chain::LoadFailure::head_missing:
    case chain::LoadFailure::head_hash_mismatch:
    case chain::LoadFailure::head_unusable:
      return true;
    default:
      return false;
  }
}

// What `state` looks like to the retention rule: runs, their status, turn
// counts, heads and current phases.
std::string retention_summary(const chain::TrainingState& state) {
  std::string out;
  for (const auto& [id, run] : state.runs) {
    out += id + ":" + std::to_string(static_cast<int>(run.status)) + ":" +
           std::to_string(run.turns.size()) + ":" + short_hex(run.head);
    if (const chain::Turn* t = run.current_turn())
      out += ":" + std::to_string(static_cast<int>(t->phase));
    out += ";";
  }
  return out;
}

}  // namespace

HandoffOptions PartnerAgent::keeping_handoff() const {
  HandoffOptions o = handoff_;
  if (cache_) o.keep_in = &cache_->store();
  return o;
}

Result<OpenedModel> PartnerAgent::open_from_copy(const chain::Run& run, const LedgerModelRef& ref,
                                                 const ModelBinding& binding,
                                                 const Error& store_error) {
  const auto code = static_cast<HandoffErrc>(store_error.code);
  if (!cache_ || !copy_may_help(code)) return store_error;
  auto opened = fetch_and_open(cache_->store(), ref, *options_.x25519, binding, handoff_);
  if (!opened) {
    if (static_cast<HandoffErrc>(opened.error().code) != HandoffErrc::missing_blob) {
      log_once("copy/" + ref.object_key + opened.error().message, spdlog::level::warn,
               "this node's copy of " + ref.object_key +
                   " is not usable either: " + opened.error().message);
    }
    return store_error;
  }
  // Every check passed on this node's copy: the store's is the one at fault.
  log_->warn(
      "run {}: the head {} did not load from the object store ({}); loaded this node's "
      "verified copy instead",
      run.plan.run_id, ref.object_key, handoff_reason(store_error));
  if (code != HandoffErrc::store_failed) {
    if (auto st = restore_copy(cache_->store(), *store_, ref.object_key, ref.blob_sha256,
                               handoff_.work_dir);
        st) {
      log_->warn("run {}: restored {} in {} from this node's verified copy", run.plan.run_id,
                 ref.object_key, store_->uri());
    } else {
      log_once("restore/" + ref.object_key + st.error().message, spdlog::level::err,
               "run " + run.plan.run_id + ": cannot restore " + ref.object_key + " in " +
                   store_->uri() + ": " + st.error().message);
    }
  }
  return opened;
}

void PartnerAgent::head_load_failed(const Step& s, const Error& e) {
  const auto code = static_cast<HandoffErrc>(e.code);
  const std::string key = s.run.plan.run_id + "/" + std::to_string(s.turn.index);
  const bool transient = code == HandoffErrc::store_failed || code == HandoffErrc::io;
  const std::uint32_t attempts = transient ? ++store_failures_["load/" + key] : 1;
  metrics_.error(api::AgentErrorKind::store);
  failures_[key] = head_load_failure(code, handoff_reason(e), attempts);
  if (transient && attempts < options_.store_attempts) {
    log_->warn("{}: cannot load the head model ({} of {} attempts): {}; retrying at the next block",
               s.tag(), attempts, options_.store_attempts, e.message);
    return;
  }
  log_->error("{}: cannot load the head model and this node holds no usable copy of it: {}",
              s.tag(), e.message);
}

void PartnerAgent::abandon_turn(const Step& s, const Abandon& abandon) {
  const std::string key = s.run.plan.run_id + "/" + std::to_string(s.turn.index);
  const bool first = abandoned_.try_emplace(key, abandon).second;
  const Abandon& a = abandoned_.at(key);  // the first decided: resent as is
  chain::pb::TurnAbandon t;
  t.set_run_id(s.run.plan.run_id);
  t.set_turn(s.turn.index);
  t.set_head_model_id(id_bytes(s.run.head));
  t.set_reason(static_cast<std::uint32_t>(a.reason));
  t.set_detail(a.detail);
  submit(s, "abandon/" + key, chain::pb::TX_TURN_ABANDON, t.SerializeAsString(),
         first ? s.tag() + ": gave up the turn (" + std::string(chain::to_string(a.reason)) + ": " +
                     a.detail + ")"
               : s.tag() + ": gave up the turn",
         /*log_first=*/first);
}

// ---------------------------------------------------------------- the store's copies

void PartnerAgent::check_and_restore(const std::string& run_id, const std::string& key,
                                     const chain::Hash& ciphertext_sha256, bool full,
                                     const std::string& why) {
  if (!cache_) return;
  auto mine = cache_->store().head(key);
  if (!mine) return;  // no copy here: nothing this node could put back
  CopyCheckOptions o;
  o.full_check_max_bytes = full ? UINT64_MAX : cache_->config().full_check_max_bytes;
  o.expected_size = mine->size;
  o.work_dir = handoff_.work_dir;
  const CopyCheck c = check_copy(*store_, key, ciphertext_sha256, o);
  if (c.state == StoredCopy::ok) return;
  if (c.state == StoredCopy::unreachable) {
    log_once("check/" + key + c.detail, spdlog::level::warn,
             "run " + run_id + ": cannot check the store's copy of " + key + ": " + c.detail);
    return;
  }
  auto st = restore_copy(cache_->store(), *store_, key, ciphertext_sha256, handoff_.work_dir);
  if (!st) {
    log_once("restore/" + key + st.error().message, spdlog::level::err,
             "run " + run_id + ": the store's copy of " + key + " is " +
                 std::string(to_string(c.state)) + " (" + c.detail +
                 ") and this node cannot restore it: " + st.error().message);
    return;
  }
  log_->warn(
      "run {}: the store's copy of {} was {} ({}; found {}); restored it from this node's "
      "verified copy",
      run_id, key, to_string(c.state), c.detail, why);
}

void PartnerAgent::look_after_models(const chain::TrainingState& state) {
  if (!cache_) return;
  if (std::string summary = retention_summary(state); summary != retained_for_) {
    auto gone = cache_->retain(state);
    if (!gone) {
      log_once("retain/" + gone.error().message, spdlog::level::warn,
               "cannot tidy the model cache " + cache_->config().dir.string() + ": " +
                   gone.error().message);
    } else {
      retained_for_ = std::move(summary);
      for (const auto& key : *gone) log_->debug("model cache: dropped {}", key);
    }
  }
  for (const auto& [id, run] : state.runs) {
    if (stopping_.load()) return;
    // A new head, or a run that just finished: its model in the store.
    if (const chain::ModelRecord* head = run.head ? run.find_model(*run.head) : nullptr) {
      const std::string tag =
          (run.status == chain::RunStatus::finished ? "final/" : "head/") + head->id.hex();
      if (checked_heads_[id] != tag) {
        checked_heads_[id] = tag;
        check_and_restore(
            id, head->object_key, head->ciphertext_sha256, false,
            run.status == chain::RunStatus::finished ? "at the run's end" : "on a new head");
      }
    }
    // A partner gave up its turn because of the head: check it in full.
    for (const auto& t : run.turns) {
      if (!head_trouble(t)) continue;
      if (!handled_abandons_.insert(id + "/" + std::to_string(t.index)).second) continue;
      if (!t.head_before) continue;  // the initial model: nothing stored
      if (const chain::ModelRecord* m = run.find_model(*t.head_before)) {
        check_and_restore(id, m->object_key, m->ciphertext_sha256, true,
                          "after " + t.partner + " gave up turn " + std::to_string(t.index) + " (" +
                              std::string(chain::to_string(t.abandon->reason)) + ")");
      }
    }
  }
  // Every so often: every kept model.
  const auto now = Clock::now();
  if (now < next_check_) return;
  next_check_ = now + std::chrono::seconds(cache_->config().check_interval_s);
  for (const auto& w :
       wanted_models(state, cache_->config().keep_lineage, cache_->config().keep_finished)) {
    if (stopping_.load()) return;
    if (w.why == WantedModel::Why::candidate || !w.ciphertext_sha256) continue;
    check_and_restore(w.run_id, w.object_key, *w.ciphertext_sha256, false, "in a routine check");
  }
}

std::optional<std::uint64_t> PartnerAgent::sealed_size(const chain::Run& run) const {
  const auto plan = run_plan(run.plan);
  if (!plan) return std::nullopt;
  return plan->sealed_size;
}

std::optional<CopyCheck> PartnerAgent::check_head_copy(const chain::Run& run) {
  const chain::ModelRecord* head = run.head ? run.find_model(*run.head) : nullptr;
  if (head == nullptr) return std::nullopt;
  CopyCheckOptions o;
  o.work_dir = handoff_.work_dir;
  o.expected_size = sealed_size(run);
  if (cache_) {
    o.full_check_max_bytes = cache_->config().full_check_max_bytes;
    if (auto mine = cache_->store().head(head->object_key)) o.expected_size = mine->size;
  }
  return check_copy(*store_, head->object_key, head->ciphertext_sha256, o);
}

std::vector<ModelRepair> PartnerAgent::repair_run(const chain::Run& run) {
  auto out = repair_run_models(*store_, cache_ ? &cache_->store() : nullptr, run, handoff_.work_dir,
                               sealed_size(run));
  for (const auto& m : out) {
    if (m.outcome == ModelRepair::Outcome::restored) {
      log_->warn("run {}: restored {} in {} from this node's verified copy (it was {}: {})",
                 run.plan.run_id, m.object_key, store_->uri(), to_string(m.before), m.detail);
    }
  }
  return out;
}

bool PartnerAgent::start_repair(chain::Run run) {
  std::lock_guard lock(repair_mutex_);
  if (stopping_.load() || (repair_job_ && repair_job_->running)) return false;
  if (repair_thread_.joinable()) repair_thread_.join();  // the last one is done
  repair_job_ = RepairJob{run.plan.run_id, true, {}};
  repair_thread_ = std::thread([this, run = std::move(run)] {
    auto models = repair_run(run);
    std::lock_guard done(repair_mutex_);
    repair_job_->models = std::move(models);
    repair_job_->running = false;
  });
  return true;
}

std::optional<PartnerAgent::RepairJob> PartnerAgent::last_repair() const {
  std::lock_guard lock(repair_mutex_);
  return repair_job_;
}

}  // namespace baton::agent

// Node, storage side: what the node does when a write it needs to take part
// in consensus fails (the ledger, the consensus checkpoint, the signer
// state), and how it resumes by itself once the disk takes writes again;
// and the periodic state snapshots (docs/PROTOCOL.md §24).
// node/storage_faults.h makes the decisions (halt, log or hold back, when to
// retry); this file carries them out. Split from node.cpp along that seam;
// the thread rules in node.h apply: everything here runs on the event loop.
#include <chrono>
#include <filesystem>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "node/node.h"
#include "node/tip_reconcile.h"
#include "storage/byte_stream.h"
#include "storage/state_snapshot.h"

namespace baton::node {
namespace {

std::uint64_t steady_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

int cause_of(StorageArea area) {
  switch (area) {
    case StorageArea::ledger:
      return Metrics::ledger;
    case StorageArea::checkpoint:
      return Metrics::checkpoint;
    case StorageArea::signer_state:
      return Metrics::signer_state;
  }
  return Metrics::consensus;
}

const char* cause_name(StorageArea area) {
  switch (area) {
    case StorageArea::ledger:
      return "ledger";
    case StorageArea::checkpoint:
      return "checkpoint";
    case StorageArea::signer_state:
      return "signer_state";
  }
  return "storage";
}

}  // namespace

void Node::storage_failed(StorageArea area, const std::string& why) {
  ++metrics_.storage_errors;
  const bool was_halted = storage_faults_.halted();
  if (auto line = storage_faults_.on_failure(area, why, steady_ms())) {
    log_->log(was_halted ? spdlog::level::err : spdlog::level::critical, "{}", *line);
  }
  // Stop signing and committing at once (also a driver that recovery has
  // just started and that failed again). A new driver is built from what is
  // on disk (checkpoint, signer state) when writes work again: the same
  // position a restart of the process would resume from.
  if (driver_) driver_->stop();
  if (!was_halted) publish_halt();
}

void Node::publish_halt() {
  NodeSnapshot s;
  if (!permanent_halt_.empty()) {
    s.halted = true;
    s.halt_reason = permanent_halt_;
    s.halt_cause = "consensus";
    metrics_.halt_cause = Metrics::consensus;
  } else if (storage_faults_.halted()) {
    s.halted = true;
    s.halt_reason = storage_faults_.reason() +
                    "; the node retries by itself and resumes once the disk takes writes again";
    s.halt_cause = cause_name(storage_faults_.area());
    metrics_.halt_cause = cause_of(storage_faults_.area());
  } else {
    metrics_.halt_cause = Metrics::none;
  }
  metrics_.halted = s.halted ? 1 : 0;
  std::lock_guard lock(snapshot_mutex_);
  snapshot_.halted = s.halted;
  snapshot_.halt_reason = std::move(s.halt_reason);
  snapshot_.halt_cause = std::move(s.halt_cause);
}

void Node::recover_storage() {
  const std::uint64_t now = steady_ms();
  if (!storage_faults_.retry_due(now) || !permanent_halt_.empty() || stopping_.load()) return;
  auto retry_later = [&](const std::string& why) {
    if (auto line = storage_faults_.on_retry_failed(why, now)) log_->error("{}", *line);
  };
  // The checkpoint and the signer state are small files in the data
  // directory, rewritten before every vote; a probe of the same kind first.
  const std::filesystem::path probe = config_.data_dir / ".baton-write-probe";
  if (auto s = storage::write_file_durably(probe, std::string(64 * 1024, '\0')); !s) {
    return retry_later("the data directory still refuses writes: " + s.error().message);
  }
  std::error_code ignored;
  std::filesystem::remove(probe, ignored);
  if (auto s = store_->recover(); !s) return retry_later(s.error().message);
  if (auto s = reconcile_tip(); !s) {
    halt("after a storage failure the ledger does not match what this node committed: " +
         s.error().message);
    return;
  }
  if (consensus_waits()) {  // state sync or repair starts consensus itself
    log_->warn("{}", storage_faults_.on_recovered(now));
    publish_halt();
    return;
  }
  auto driver = build_driver();
  if (!driver) {
    halt(driver.error().message);
    return;
  }
  if (driver_) retired_drivers_.push_back(std::move(driver_));
  driver_ = std::move(driver).value();
  if (auto s = driver_->start(state_->height + 1); !s) {
    halt(s.error().message);
    return;
  }
  if (!driver_->running()) {
    // Its first checkpoint or signature could not be written: still halted.
    return retry_later("consensus could not write its checkpoint or signer state on restart");
  }
  ++metrics_.storage_recoveries;
  log_->warn("{} at height {}; block sync fetches what the network committed meanwhile",
             storage_faults_.on_recovered(now), state_->height);
  publish_halt();
  refresh_snapshot();
  send_status(std::nullopt);
  maybe_request_blocks();
}

Status Node::reconcile_tip() {
  const storage::Tip tip = store_->tip();
  while (true) {
    const TipDecision d = next_tip_step(tip, *state_);
    if (d.step == TipStep::refuse) return make_error(d.why);
    if (d.step == TipStep::in_step) break;
    auto stored = store_->block_at(d.height);
    if (!stored) return stored.error();
    auto after = adopt_stored_block(*spec_, *state_, d.height, tip.height, *stored);
    if (!after) return after.error();
    log_->warn("height {} was stored although its write was reported as failed; keeping it",
               d.height);
    adopt_committed(std::move(after).value(), d.height);
  }
  if (state_->height == 0) return {};
  auto stored = store_->block_at(state_->height);
  if (!stored) return stored.error();
  return tip_reads_back(*state_, *stored);
}

void Node::maybe_write_snapshot() {
  const std::uint64_t every = config_.ledger.snapshot_interval_blocks;
  if (every == 0 || state_->height == 0 || state_->height % every != 0) return;
  // Posted: the commit's own work (consensus output, wake-ups) goes first.
  // The state is immutable and shared, so the one written is exactly the
  // state after that block even if more blocks commit before this runs.
  boost::asio::post(loop_, [this, state = state_] {
    if (stopping_.load() || storage_faults_.halted()) return;
    store_snapshot(*state);
  });
}

void Node::store_snapshot(const chain::LedgerState& state) {
  const auto started = std::chrono::steady_clock::now();
  const std::string record = storage::encode_snapshot(state);
  const auto encoded = std::chrono::steady_clock::now();
  if (auto s = store_->put_snapshot(state.height, record, storage::kSnapshotsKept); !s) {
    log_->warn(
        "cannot store the state snapshot at height {}: {}; a restart replays more blocks until "
        "the next one is stored",
        state.height, s.error().message);
    return;
  }
  refresh_stored_snapshots();  // GET /status lists them (state sync trust)
  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  log_->info(
      "state snapshot at height {} stored ({} bytes; encoded in {:.1f} ms, written in {:.1f} ms)",
      state.height, record.size(), ms(encoded - started),
      ms(std::chrono::steady_clock::now() - encoded));
}

}  // namespace baton::node

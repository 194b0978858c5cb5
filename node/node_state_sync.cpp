// Node, state sync side (docs/PROTOCOL.md §24.4): serving snapshots to
// peers; taking the trusted snapshot from them when the ledger is empty and
// node.toml has [statesync]; backfilling the history below it; and
// refetching a stored block found damaged at start-up. node/state_sync.h
// decides what a peer's answer is worth; this file carries it out. Split
// from node.cpp along that seam; the thread rules in node.h apply:
// everything here runs on the event loop.
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "chain/block.h"
#include "chain/membership.h"
#include "chain/validation.h"
#include "storage/ledger_replay.h"
#include "node/node.h"
#include "p2p/peer_text.h"

namespace baton::node {
namespace {

// How long a damaged block may wait for a peer's good copy before the node
// stops, naming the height.
constexpr std::uint64_t kRepairPatienceMs = 20'000;
// How often the node repeats, while no peer has the trusted block id, that
// the trust may be wrong.
constexpr std::uint64_t kAdviceIntervalMs = 10'000;
constexpr std::uint32_t kBackfillBatch = 64;

}  // namespace

void Node::begin_state_sync(const StateSyncTrust& trust) {
  state_sync_->trust = trust;
  state_sync_->phase = "fetching the snapshot at height " + std::to_string(trust.height);
  log_->info(
      "state sync: the ledger is empty; asking peers for the state snapshot at height {} (trusted "
      "block id {})",
      trust.height, trust.block_id.hex());
}

void Node::begin_repair(std::uint64_t height, const std::string& why) {
  state_sync_->repair_height = height;
  state_sync_->repair_why = why;
  state_sync_->repair_since_ms = 0;
  state_sync_->phase = "repairing the stored block at height " + std::to_string(height);
  log_->warn(
      "the stored block at height {} {}; consensus waits while the node fetches it again from "
      "peers",
      height, why);
}

void Node::refresh_stored_snapshots() {
  std::vector<NodeSnapshot::StoredSnapshot> out;
  auto heights = store_->snapshot_heights();
  if (!heights) return;
  for (const std::uint64_t h : *heights) {
    auto stored = store_->block_at(h);
    if (!stored || !stored->has_value()) continue;
    auto committed = chain::decode_committed_block(**stored);
    if (!committed) continue;
    out.push_back({h, chain::block_id(committed->block())});
  }
  state_sync_->stored = std::move(out);
}

std::vector<chain::PublicKey> Node::peers_at_least(std::uint64_t height) const {
  std::vector<chain::PublicKey> out;
  for (const auto& [peer, h] : sync_.peer_heights()) {
    if (h >= height) out.push_back(peer);
  }
  return out;
}

void Node::start_consensus() {
  auto driver = build_driver();
  if (!driver) {
    halt(driver.error().message);
    return;
  }
  driver_ = std::move(driver).value();
  if (auto s = driver_->start(state_->height + 1); !s) {
    halt(s.error().message);
    return;
  }
  send_status(std::nullopt);
  maybe_request_blocks();
}

// ---------------------------------------------------------------- serving

void Node::serve_snapshot(const p2p::PeerId& to, const pb::SnapshotRequest& request) {
  std::optional<std::string> record, block;
  // Only a snapshot at or above the history held: its block is stored.
  if (auto r = store_->snapshot_at(request.height()); r && r->has_value()) {
    if (auto b = store_->block_at(request.height()); b && b->has_value()) {
      record = std::move(**r);
      block = std::move(**b);
    }
  }
  pb::NodeMessage m;
  *m.mutable_snapshot_response() = plan_snapshot_response(request, record, block);
  transport_->send(to, encode_node_message(m));
}

// ---------------------------------------------------------------- the snapshot

void Node::handle_snapshot_response(const p2p::PeerId& from, const pb::SnapshotResponse& response) {
  StateSyncRun& run = *state_sync_;
  if (!run.trust || run.snapshot_peers.asking() != from || !run.download) return;
  run.snapshot_peers.answered(from);
  if (auto bad = run.download->add(response)) {
    run.download.reset();
    run.snapshot_peers.refuse(from);
    if (bad->reason == SnapshotRefusal::not_held) {
      log_->info("state sync: peer {} holds no snapshot at height {}", name_of(from),
                 run.trust->height);
      return;
    }
    ++metrics_.state_sync_peer_refusals;
    log_->warn("state sync: peer {} sent a wrong snapshot ({}); asking another peer", name_of(from),
               p2p::printable_sentence(bad->message()));
    return;
  }
  if (!run.download->complete()) {
    run.snapshot_peers.next({from}, now_ms());  // the same peer, the next chunk
    pb::NodeMessage m;
    m.mutable_snapshot_request()->set_height(run.trust->height);
    m.mutable_snapshot_request()->set_offset(run.download->offset());
    transport_->send(from, encode_node_message(m));
    return;
  }
  auto checked =
      check_trusted_snapshot(*spec_, *run.trust, run.download->block(), run.download->state());
  run.download.reset();
  if (!checked) {
    run.snapshot_peers.refuse(from);
    if (checked.reason().reason == SnapshotRefusal::wrong_block_id) {
      run.other_id.insert(from);
      log_->warn("state sync: {}", p2p::printable_sentence(checked.reason().message()) + " (peer " +
                                       name_of(from) + ")");
    } else {
      ++metrics_.state_sync_peer_refusals;
      log_->warn("state sync: peer {} sent a wrong snapshot ({}); asking another peer",
                 name_of(from), p2p::printable_sentence(checked.reason().message()));
    }
    return;
  }
  TrustedSnapshot snap = std::move(checked).value();
  std::vector<storage::BlockDescription::SenderNonce> nonces;
  for (const auto& [k, next] : snap.state.next_nonces) nonces.push_back({k, next - 1});
  if (auto s = store_->install_trusted(snap.block, snap.record, nonces); !s) {
    halt("state sync: cannot store the snapshot at height " + std::to_string(run.trust->height) +
         ": " + s.error().message);
    return;
  }
  log_->info(
      "state sync: the snapshot at height {} from peer {} checks out ({} state bytes); consensus "
      "starts at height {} and history 1..{} is backfilled in the background",
      run.trust->height, name_of(from), snap.record.size() - 40, run.trust->height + 1,
      run.trust->height - 1);
  run.trust.reset();
  run.phase.clear();
  refresh_stored_snapshots();
  const std::uint64_t height = snap.state.height;
  adopt_committed(std::move(snap.state), height);
  start_consensus();
}

void Node::state_sync_snapshot_step(std::uint64_t now) {
  StateSyncRun& run = *state_sync_;
  const std::vector<chain::PublicKey> peers = peers_at_least(run.trust->height);
  if (!peers.empty() && run.other_id.size() >= peers.size() &&
      now >= run.last_advice_ms + kAdviceIntervalMs) {
    run.last_advice_ms = now;
    log_->error(
        "state sync: no peer has block id {} at height {}; check [statesync] trust_block_id in "
        "node.toml against a peer's `baton status` (consensus does not start on an untrusted "
        "state)",
        run.trust->block_id.hex(), run.trust->height);
    run.phase = "no peer has the trusted block id at height " + std::to_string(run.trust->height);
  }
  const auto peer = run.snapshot_peers.next(peers, now);
  if (!peer) {
    // Everyone was asked and refused: start over after a while, a peer
    // may have stored the snapshot since (or come back).
    if (!peers.empty() && !run.snapshot_peers.asking() && run.snapshot_peers.refused_count() > 0 &&
        now >= run.last_advice_ms + kAdviceIntervalMs) {
      run.snapshot_peers.forgive_all();
      run.other_id.clear();
    }
    return;
  }
  run.download.emplace(run.trust->height);
  pb::NodeMessage m;
  m.mutable_snapshot_request()->set_height(run.trust->height);
  m.mutable_snapshot_request()->set_offset(0);
  transport_->send(*peer, encode_node_message(m));
}

// ---------------------------------------------------------------- history and repair

bool Node::handle_history_response(const p2p::PeerId& from, const pb::BlockResponse& response) {
  StateSyncRun& run = *state_sync_;
  if (run.repair_height && response.from_height() == *run.repair_height &&
      run.repair_peers.asking() == from) {
    run.repair_peers.answered(from);
    repair_with(from, response);
    return true;
  }
  if (!run.history_request || response.from_height() != run.history_request->from_height() ||
      run.history_peers.asking() != from) {
    return false;
  }
  run.history_peers.answered(from);
  run.history_request.reset();
  // From the top down: each block's id is what the block above it names.
  const std::uint64_t from_height = response.from_height();
  const auto count = static_cast<std::uint64_t>(response.blocks_size());
  std::uint64_t stored = 0;
  for (std::uint64_t i = count; i-- > 0;) {
    const std::uint64_t height = from_height + i;
    if (height + 1 != store_->history_from()) continue;  // the server stopped short: ask again
    auto above = store_->block_at(height + 1);
    if (!above || !above->has_value()) return true;
    const auto named = id_named_by(**above);
    if (!named) return true;  // the block above is damaged: repair finds it
    const std::string& bytes = response.blocks(static_cast<int>(i));
    // While the ledger's members never changed, the genesis set signed every
    // block below the tip (§25).
    const chain::ValidatorSet* signers =
        &chain::current_validators(*spec_, *state_) == &spec_->validators ? &spec_->validators
                                                                          : nullptr;
    if (auto why = check_linked_block(*spec_, height, *named, bytes, signers)) {
      ++metrics_.state_sync_peer_refusals;
      run.history_peers.refuse(from);
      log_->warn("backfill: peer {} sent a wrong block at height {}: {}; asking another peer",
                 name_of(from), height, p2p::printable_sentence(*why));
      return true;
    }
    if (auto s = store_->backfill(bytes); !s) {
      log_->error("backfill: cannot store height {}: {}", height, s.error().message);
      return true;
    }
    ++stored;
    ++metrics_.blocks_backfilled;
  }
  if (store_->history_from() == 1 && stored > 0) {
    log_->info(
        "backfill complete: the ledger holds every block from height 1; `baton ledger verify` "
        "checks it from genesis");
  }
  if (stored > 0) state_sync_tick();  // the next batch at once, not at the next tick
  return true;
}

void Node::repair_with(const p2p::PeerId& from, const pb::BlockResponse& response) {
  StateSyncRun& run = *state_sync_;
  const std::uint64_t height = *run.repair_height;
  if (response.blocks_size() == 0) {
    run.repair_peers.refuse(from);  // it does not have it
    return;
  }
  const std::string& bytes = response.blocks(0);
  // Checked in full on the state before it (the replay stopped there), and
  // its id must be the one the ledger names for the height.
  auto committed = chain::decode_committed_block(bytes);
  std::string why;
  if (!committed) {
    why = "it does not decode";
  } else if (auto after = chain::validate_block(*spec_, *state_, *committed); !after) {
    why = after.reason().message();
  } else if (auto s = store_->replace_block(bytes); !s) {
    why = s.error().message;
  }
  if (!why.empty()) {
    ++metrics_.state_sync_peer_refusals;
    run.repair_peers.refuse(from);
    log_->warn("repair: peer {} sent a wrong block for height {}: {}", name_of(from), height,
               p2p::printable_sentence(why));
    return;
  }
  ++metrics_.blocks_repaired;
  log_->warn("repair: the stored block at height {} was replaced by peer {}'s copy", height,
             name_of(from));
  run.repair_height.reset();
  run.phase.clear();
  // Validate on to the tip; another damaged block starts another repair.
  std::optional<storage::DamagedBlock> damaged;
  auto replayed = storage::replay_from(*spec_, *store_, *state_, &damaged);
  if (!replayed) {
    halt("after repairing height " + std::to_string(height) + ": " + replayed.error().message);
    return;
  }
  const std::uint64_t reached = replayed->state.height;
  if (reached > state_->height) adopt_committed(std::move(replayed->state), reached);
  if (damaged) return begin_repair(damaged->height, damaged->why);
  start_consensus();
}

void Node::state_sync_repair_step(std::uint64_t now) {
  StateSyncRun& run = *state_sync_;
  const std::uint64_t height = *run.repair_height;
  if (run.repair_since_ms == 0) run.repair_since_ms = now;
  if (now >= run.repair_since_ms + kRepairPatienceMs) {
    const std::string why = "the stored block at height " + std::to_string(height) + " " +
                            run.repair_why + " and no peer sent a copy that matches the ledger (" +
                            std::to_string(run.repair_peers.refused_count()) +
                            " refused); restore the data directory from a backup or join again "
                            "by state sync";
    run.repair_height.reset();
    run.phase = why;
    halt(why);
    return;
  }
  const auto peer = run.repair_peers.next(peers_at_least(height), now);
  if (!peer) return;
  pb::NodeMessage m;
  m.mutable_block_request()->set_from_height(height);
  m.mutable_block_request()->set_max_count(1);
  transport_->send(*peer, encode_node_message(m));
}

void Node::state_sync_tick() {
  if (!transport_ || !permanent_halt_.empty() || storage_faults_.halted()) return;
  const std::uint64_t now = now_ms();
  StateSyncRun& run = *state_sync_;
  if (run.trust) return state_sync_snapshot_step(now);
  if (run.repair_height) return state_sync_repair_step(now);
  const std::uint64_t from = store_->history_from();
  if (from <= 1) return;
  run.phase = "backfilling history below height " + std::to_string(from);
  // One request in flight; next() asks another peer once it timed out.
  const auto peer = run.history_peers.next(peers_at_least(from - 1), now);
  if (!peer) {
    if (!run.history_peers.asking() && run.history_peers.refused_count() > 0) {
      run.history_peers.forgive_all();  // try everyone again next tick
    }
    return;
  }
  run.history_request = backfill_request(from, kBackfillBatch);
  pb::NodeMessage m;
  *m.mutable_block_request() = *run.history_request;
  transport_->send(*peer, encode_node_message(m));
}

}  // namespace baton::node

#include "storage/ledger_replay.h"

#include <algorithm>

#include "chain/block.h"
#include "chain/validation.h"
#include "storage/state_snapshot.h"

namespace baton::storage {

namespace {

// The newest snapshot at or below the tip that checks out against the
// chain, with a sentence for each one refused on the way; nullopt: none.
Result<std::optional<chain::LedgerState>> newest_valid_snapshot(const chain::ChainSpec& spec,
                                                                const BlockStore& store,
                                                                std::vector<std::string>& refused) {
  auto heights = store.snapshot_heights();
  if (!heights) return heights.error();
  const std::uint64_t tip = store.tip().height;
  std::sort(heights->rbegin(), heights->rend());
  for (const std::uint64_t height : *heights) {
    if (height == 0) continue;
    if (height > tip) {
      refused.push_back("the state snapshot at height " + std::to_string(height) +
                        " is above the ledger's tip at height " + std::to_string(tip) +
                        "; it is not used");
      continue;
    }
    auto verdict = restore_snapshot(spec, store, height);
    if (!verdict) return verdict.error();
    if (*verdict) return std::optional<chain::LedgerState>(std::move(*verdict).value());
    refused.push_back("the state snapshot at height " + std::to_string(height) + " is refused: " +
                      verdict->reason().why + "; an older snapshot or the genesis is used instead");
  }
  return std::optional<chain::LedgerState>();
}

}  // namespace

Result<ReplayedLedger> replay_ledger(const chain::ChainSpec& spec, const BlockStore& store,
                                     bool use_snapshots, std::optional<DamagedBlock>* damaged,
                                     std::uint64_t max_blocks) {
  chain::LedgerState start = chain::initial_state(spec.genesis_hash);
  std::vector<std::string> refused;
  std::uint64_t snapshot_height = 0;
  if (use_snapshots) {
    auto snapshot = newest_valid_snapshot(spec, store, refused);
    if (!snapshot) return make_error("cannot read the ledger: " + snapshot.error().message);
    if (*snapshot) {
      start = std::move(**snapshot);
      snapshot_height = start.height;
    }
  }
  // State sync (docs/PROTOCOL.md §24.4): below history_from there are no
  // blocks to replay, so only a snapshot at or above it can start the state.
  if (const std::uint64_t from = store.history_from(); start.height + 1 < from) {
    return make_error("the ledger holds blocks only from height " + std::to_string(from) +
                      " (it was made by state sync and its backfill is not complete) and no "
                      "valid state snapshot at or above height " +
                      std::to_string(from) +
                      " is stored; move the data directory away and join again by state sync");
  }
  auto out = replay_from(spec, store, std::move(start), damaged, max_blocks);
  if (!out) return out;
  out->snapshot_height = snapshot_height;
  out->refused_snapshots = std::move(refused);
  return out;
}

Result<ReplayedLedger> replay_from(const chain::ChainSpec& spec, const BlockStore& store,
                                   chain::LedgerState start, std::optional<DamagedBlock>* damaged,
                                   std::uint64_t max_blocks) {
  ReplayedLedger out;
  out.state = std::move(start);
  const Tip tip = store.tip();
  std::uint64_t next = out.state.height + 1;
  auto stop = [&](std::string why) -> Result<ReplayedLedger> {
    if (damaged != nullptr) {
      *damaged = DamagedBlock{next, std::move(why)};
      return std::move(out);
    }
    return make_error("the stored block at height " + std::to_string(next) + " " + why +
                      "; run `baton ledger verify` and restore from a backup");
  };
  std::uint64_t last = tip.height;
  if (last > out.state.height && last - out.state.height > max_blocks) {
    last = out.state.height + max_blocks;
  }
  while (next <= last) {
    auto batch = store.blocks_from(next, std::min<std::uint64_t>(256, last - next + 1));
    if (!batch) return make_error("cannot read the ledger: " + batch.error().message);
    if (batch->empty()) return stop("is missing");
    for (const std::string& bytes : *batch) {
      auto committed = chain::decode_committed_block(bytes);
      if (!committed) return stop("cannot be decoded (" + committed.error().message + ")");
      auto after = chain::validate_block(spec, out.state, *committed);
      if (!after) return stop("is invalid (" + after.reason().message() + ")");
      out.state = std::move(after).value();
      ++out.blocks_replayed;
      ++next;
    }
  }
  return out;
}

}  // namespace baton::storage

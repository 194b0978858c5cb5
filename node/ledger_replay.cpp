#include "node/ledger_replay.h"

#include <algorithm>

#include "chain/block.h"
#include "chain/validation.h"
#include "storage/state_snapshot.h"

namespace baton::node {

namespace {

// The newest snapshot at or below the tip that checks out against the
// chain, with a sentence for each one refused on the way; nullopt: none.
Result<std::optional<chain::LedgerState>> newest_valid_snapshot(const chain::ChainSpec& spec,
                                                                const storage::BlockStore& store,
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
    auto verdict = storage::restore_snapshot(spec, store, height);
    if (!verdict) return verdict.error();
    if (*verdict) return std::optional<chain::LedgerState>(std::move(*verdict).value());
    refused.push_back("the state snapshot at height " + std::to_string(height) + " is refused: " +
                      verdict->reason().why + "; an older snapshot or the genesis is used instead");
  }
  return std::optional<chain::LedgerState>();
}

}  // namespace

Result<ReplayedLedger> replay_ledger(const chain::ChainSpec& spec, const storage::BlockStore& store,
                                     bool use_snapshots) {
  ReplayedLedger out;
  out.state = chain::initial_state(spec.genesis_hash);
  if (use_snapshots) {
    auto snapshot = newest_valid_snapshot(spec, store, out.refused_snapshots);
    if (!snapshot) return make_error("cannot read the ledger: " + snapshot.error().message);
    if (*snapshot) {
      out.state = std::move(**snapshot);
      out.snapshot_height = out.state.height;
    }
  }
  const storage::Tip tip = store.tip();
  std::uint64_t next = out.state.height + 1;
  while (next <= tip.height) {
    auto batch = store.blocks_from(next, 256);
    if (!batch) return make_error("cannot read the ledger: " + batch.error().message);
    if (batch->empty()) break;
    for (const std::string& bytes : *batch) {
      auto committed = chain::decode_committed_block(bytes);
      if (!committed) {
        return make_error("the stored block at height " + std::to_string(next) +
                          " cannot be decoded (" + committed.error().message +
                          "); run `baton ledger verify` and restore from a backup");
      }
      auto after = chain::validate_block(spec, out.state, *committed);
      if (!after) {
        return make_error("the stored block at height " + std::to_string(next) + " is invalid (" +
                          after.reason().message() +
                          "); run `baton ledger verify` and restore from a backup");
      }
      out.state = std::move(after).value();
      ++out.blocks_replayed;
      ++next;
    }
  }
  return out;
}

}  // namespace baton::node

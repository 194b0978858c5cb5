// Rebuilding the ledger state from what a store holds: batond at start-up
// and after a state sync, and `baton ledger` views that name members. The
// store holds only blocks this node validated before appending, but every
// block replayed is checked in full again: a damaged store shows here, as a
// sentence for the operator, not as a fork later.
//
// With snapshots (docs/PROTOCOL.md §24) the replay starts from the newest
// snapshot at or below the tip that storage::restore_snapshot accepts (its
// state re-hashes to the app_state_hash signed in that block's header) and
// validates only the blocks after it; a refused snapshot is reported and the
// next older one tried, then genesis. The state is the same either way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/ledger_state.h"
#include "chain/result.h"
#include "storage/block_store.h"

namespace baton::storage {

struct ReplayedLedger {
  chain::LedgerState state;           // after the tip
  std::uint64_t snapshot_height = 0;  // where the replay started; 0: genesis
  std::uint64_t blocks_replayed = 0;  // blocks validated after it
  // One sentence per snapshot that was refused (with its height and why),
  // for the operator's log; the replay went on without it.
  std::vector<std::string> refused_snapshots;
};

// A stored block that does not decode or validate, found by a replay asked
// to stop there rather than fail (a node then refetches it from peers:
// node_state_sync.cpp).
struct DamagedBlock {
  std::uint64_t height = 0;
  std::string why;  // a sentence
};

// The state after every block of `store`. Starts from the newest valid
// snapshot when `use_snapshots`, else from the genesis state. An error names
// the first height that cannot be read, decoded or validated and tells the
// operator what to do; with `damaged`, a block that cannot be decoded or
// validated instead ends the replay there: *damaged names it and the state
// returned is the one before it. At most `max_blocks` are validated: the
// state returned is then the one at snapshot + max_blocks (a view that must
// answer in bounded time on a ledger without snapshots).
Result<ReplayedLedger> replay_ledger(const chain::ChainSpec& spec, const BlockStore& store,
                                     bool use_snapshots = true,
                                     std::optional<DamagedBlock>* damaged = nullptr,
                                     std::uint64_t max_blocks = UINT64_MAX);

// Validates the stored blocks after `start` up to the tip on top of it, as
// replay_ledger does (the same `damaged` rule).
Result<ReplayedLedger> replay_from(const chain::ChainSpec& spec, const BlockStore& store,
                                   chain::LedgerState start,
                                   std::optional<DamagedBlock>* damaged = nullptr,
                                   std::uint64_t max_blocks = UINT64_MAX);

}  // namespace baton::storage

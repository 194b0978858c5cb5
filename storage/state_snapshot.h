// State snapshots (docs/PROTOCOL.md §24): the ledger state after block H,
// stored beside the chain so that a restart need not apply every block from
// genesis.
//
// A snapshot needs no signature of its own. Block H's header carries
// app_state_hash, the hash of the state after H, and H's commit carries the
// precommits of more than 2/3 of the voting power for that header; so a
// snapshot is true iff its state bytes decode canonically, re-hash to H's
// app_state_hash, and its block id is H's id. restore_snapshot checks exactly
// that, against the block the store holds at H, and trusts nothing else in
// the record: a record whose bytes were changed on disk (a balance raised, a
// nonce lowered) is refused, and the caller falls back to an older snapshot
// or to genesis.
//
// Record layout (the value stored under u64be H):
//   u64be H || last_block_id (32 bytes, block H's id) || state_encoding
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chain/chain_spec.h"
#include "chain/ledger_state.h"
#include "chain/result.h"
#include "chain/verdict.h"
#include "storage/block_store.h"

namespace baton::storage {

// The snapshots a node keeps by default: the newest and the one before, so
// that one damaged record still leaves a recent one.
inline constexpr std::size_t kSnapshotsKept = 2;

// The record of `state` (its height, last_block_id and state_encoding).
std::string encode_snapshot(const chain::LedgerState& state);

// Why a stored snapshot was refused: a sentence, without the height.
struct SnapshotFault {
  std::string why;
};

using SnapshotVerdict = chain::Verdict<chain::LedgerState, SnapshotFault>;

// The state in the snapshot `store` holds at `height`, after checking it
// against the chain in `store`: the record is well formed and names `height`,
// block `height` is stored and passes chain::check_block_stateless (its
// commit included), its id is the record's last_block_id, the state bytes
// decode canonically (chain/state_decode.h) and their state_hash is the
// header's app_state_hash. An error only when the store cannot be read.
Result<SnapshotVerdict> restore_snapshot(const chain::ChainSpec& spec, const BlockStore& store,
                                         std::uint64_t height);

}  // namespace baton::storage

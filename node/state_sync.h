// State sync, the pure half (docs/PROTOCOL.md §24.4): a node with an empty
// ledger and a trusted (height, block id) from its operator takes the state
// snapshot at that height from a peer instead of replaying the chain, then
// backfills the blocks below it, each one linked by its id to the
// previous_block_hash of the block above it. The same hash-chain rule lets a
// node refetch a block it finds damaged on disk (node_state_sync.cpp).
//
// What a peer sends is hostile until checked:
//   - a snapshot arrives in chunks; every size is bounded before anything is
//     kept (SnapshotDownload), and the chunks must come in order;
//   - block H must have the trusted id, pass chain::check_block_stateless,
//     carry a commit signed by more than 2/3 of
//     chain::signers_of_state_block(spec, decoded state), and its
//     app_state_hash must be the decoded state's hash (a cut state decodes as
//     a smaller canonical state: only the hash tells it apart);
//   - a backfilled or refetched block must have the id the block above names
//     and pass the stateless checks (Merkle roots, signatures, commit).
//
// Pure: no I/O, no clock inside, no threads. Not thread-safe; the node uses
// it from its event-loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/crypto.h"
#include "chain/ledger_state.h"
#include "chain/verdict.h"
#include "node/proto/node_message.pb.h"

namespace baton::node {

// [statesync] of node.toml: the snapshot the operator trusts.
struct StateSyncTrust {
  std::uint64_t height = 0;
  chain::Hash block_id;
};

struct SnapshotLimits {
  // State bytes per SnapshotResponse chunk (a server sends at most this; a
  // receiver refuses more).
  std::size_t max_chunk = 512 * 1024;
  // The largest state a receiver takes (checked on the first chunk, before
  // anything is kept; chunks are appended, never preallocated).
  std::uint64_t max_state_bytes = std::uint64_t{1} << 30;
};

// --- serving ---

// The answer to `request` from what the store holds at request.height():
// `record` (its snapshot record, storage/state_snapshot.h) and `block` (the
// stored CommittedBlock bytes). No snapshot, no block, a record shorter than
// its 40-byte prefix or an offset past the end: an answer with state_size 0
// and no block ("not held").
pb::SnapshotResponse plan_snapshot_response(const pb::SnapshotRequest& request,
                                            const std::optional<std::string>& record,
                                            const std::optional<std::string>& block,
                                            const SnapshotLimits& limits = {});

// --- receiving ---

enum class SnapshotRefusal {
  not_held,           // the peer holds no snapshot at the trusted height
  malformed,          // a chunk for another height or offset, sizes that change or do not fit
  oversized,          // state_size above max_state_bytes, or a chunk above max_chunk
  block_undecodable,  // block H does not decode
  wrong_block_id,     // block H's id is not the trusted id
  invalid_block,      // block H fails the stateless checks (roots, signatures)
  bad_commit,         // block H's commit is not signed by > 2/3 of its signers' power
  bad_state,          // the state bytes do not decode canonically
  wrong_state_hash,   // the state does not hash to block H's app_state_hash
};
const char* to_string(SnapshotRefusal reason);

struct SnapshotProblem {
  SnapshotRefusal reason = SnapshotRefusal::malformed;
  std::string detail;
  std::string message() const;  // to_string(reason), then ": " detail when there is one
};

// One peer's snapshot at `height`, chunk by chunk.
class SnapshotDownload {
 public:
  explicit SnapshotDownload(std::uint64_t height, SnapshotLimits limits = {})
      : height_(height), limits_(limits) {}

  // The offset to ask for next.
  std::uint64_t offset() const { return state_.size(); }
  bool complete() const { return state_size_.has_value() && state_.size() == *state_size_; }

  // Takes the chunk that answers the request for offset(): nullopt when it
  // was kept (then complete(), or ask for offset() again), else why the peer
  // is refused (the download is then unusable).
  std::optional<SnapshotProblem> add(const pb::SnapshotResponse& chunk);

  // Precondition: complete().
  const std::string& block() const { return block_; }
  const std::string& state() const { return state_; }

 private:
  std::uint64_t height_;
  SnapshotLimits limits_;
  std::optional<std::uint64_t> state_size_;
  std::string block_;
  std::string state_;
};

struct TrustedSnapshot {
  chain::LedgerState state;  // after block `trust.height`, height and last_block_id set
  std::string block;         // block H's CommittedBlock bytes, to store
  std::string record;        // the snapshot record to store (storage::encode_snapshot)
};

// Checks a downloaded snapshot against the trust (see the header comment).
chain::Verdict<TrustedSnapshot, SnapshotProblem> check_trusted_snapshot(
    const chain::ChainSpec& spec, const StateSyncTrust& trust, const std::string& block,
    std::string_view state_bytes);

// --- backfill and repair ---

// The BlockRequest that fetches history below `history_from` (the lowest
// stored height): up to `batch` heights ending at history_from - 1. nullopt
// when history_from <= 1 (nothing is missing).
std::optional<pb::BlockRequest> backfill_request(std::uint64_t history_from, std::uint32_t batch);

// Checks a block a peer sent for `height` whose id must be `expected_id` (the
// previous_block_hash of the block above, or the id the ledger records):
// nullopt when it may be stored, else a sentence why not. With `signers`
// the senders, proposer and commit are checked against them too: the node
// passes the genesis set while the ledger's members never changed. Without
// (the members that signed an old block may differ from today's, §25) only
// the link and the body count; `baton ledger verify` replays the rest.
std::optional<std::string> check_linked_block(const chain::ChainSpec& spec, std::uint64_t height,
                                              const chain::Hash& expected_id,
                                              const std::string& bytes,
                                              const chain::ValidatorSet* signers);

// The id block `height` must have, from the bytes of the block above it
// (its previous_block_hash); nullopt when those bytes do not decode.
std::optional<chain::Hash> id_named_by(const std::string& block_above);

// --- whom to ask ---

// One request in flight at a time, to a connected peer not refused yet,
// round-robin; a request unanswered after `timeout_ms` goes to the next.
class PeerRotation {
 public:
  explicit PeerRotation(std::uint64_t timeout_ms = 5000) : timeout_ms_(timeout_ms) {}

  // The peer to ask now, or nullopt while a request is in flight (and not
  // timed out) or no connected peer is left that was not refused. Marks the
  // request in flight.
  std::optional<chain::PublicKey> next(const std::vector<chain::PublicKey>& connected,
                                       std::uint64_t now_ms);
  // The peer asked last, while its request is in flight.
  std::optional<chain::PublicKey> asking() const { return asking_; }
  // The answer from `peer` came (whatever it held); a later next() may ask again.
  void answered(const chain::PublicKey& peer);
  // `peer` sent something wrong: it is not asked again until forgive_all().
  void refuse(const chain::PublicKey& peer);
  bool refused(const chain::PublicKey& peer) const { return refused_.count(peer) > 0; }
  std::size_t refused_count() const { return refused_.size(); }
  void forgive_all() { refused_.clear(); }

 private:
  std::uint64_t timeout_ms_;
  std::optional<chain::PublicKey> asking_;
  std::uint64_t asked_ms_ = 0;
  std::size_t rotation_ = 0;
  std::set<chain::PublicKey> refused_;
};

}  // namespace baton::node

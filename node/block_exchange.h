// Block sync between nodes, the pure half: how much a peer's BlockRequest
// can make this node read and send (serving), and which blocks of a peer's
// BlockResponse this node checks and how, before it stores them (syncing).
// node_p2p.cpp carries these decisions out; node/block_sync.h decides whom
// to ask for what. Every other hospital may be hostile: a request is bounded
// before the store is read, and a synced block counts only after the same
// checks `baton ledger verify` makes (its commit signed by more than 2/3 of
// the power of the validators after the block before it, as the ledger has
// them: chain::current_validators, docs/PROTOCOL.md §25; its height and
// previous hash on the committed tip, its transactions and state hash).
//
// Pure: no I/O, no clock, no threads; callable from any thread with a shared
// const ChainSpec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/ledger_state.h"
#include "chain/validation.h"
#include "chain/verdict.h"
#include "node/proto/node_message.pb.h"

namespace baton::node {

// The most a BlockResponse may carry.
struct BlockServeLimits {
  std::uint32_t max_blocks = 64;
  // Total block bytes; below node_message_limit so that the response's own
  // framing fits.
  std::size_t max_bytes = 0;
};
BlockServeLimits block_serve_limits(const chain::ConsensusParams& params);

// The committed heights to read for a peer's request: [from_height,
// from_height + count), count = min(max_count, limits.max_blocks). Nothing
// for from_height 0 or max_count 0.
struct BlockRange {
  std::uint64_t from_height = 0;
  std::uint32_t count = 0;
};
std::optional<BlockRange> blocks_to_read(const pb::BlockRequest& request,
                                         const BlockServeLimits& limits);

// The response to send: the leading `blocks` (as read from the store, from
// `from_height` on) whose total size stays within limits.max_bytes, and at
// least the first block so that a maximal block can always be fetched.
pb::BlockResponse plan_block_response(std::uint64_t from_height, std::vector<std::string> blocks,
                                      const BlockServeLimits& limits);

// Which blocks of a BlockResponse holding `count` blocks from `from_height`
// to check and store, given the committed tip: the index of the block at
// tip + 1, or nullopt when the response starts beyond tip + 1 (a gap: ignore
// it) or holds nothing above the tip. The blocks from that index on are
// consecutive heights, checked one after the other.
std::optional<std::size_t> place_synced_blocks(std::uint64_t from_height, std::size_t count,
                                               std::uint64_t tip_height);

// The state after the committed block stored as `bytes` (a serialized
// chain.pb.CommittedBlock, from a peer or read back from the ledger), or why
// it cannot follow `before`: malformed_block when it does not decode, else
// chain::validate_block's fault (height, previous hash, commit signed by
// more than 2/3 of the power of chain::current_validators(spec, before),
// transactions, state hash).
chain::Verdict<chain::LedgerState, chain::BlockFault> check_committed_bytes(
    const chain::ChainSpec& spec, const chain::LedgerState& before, const std::string& bytes);

}  // namespace baton::node

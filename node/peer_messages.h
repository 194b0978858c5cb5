// What a peer may send this node, and what the node does about it: the pure
// half of node_p2p.cpp. Every other hospital may be hostile, so each rule
// here bounds or refuses before the node spends anything on the message.
//
//   - check_peer_message: the bytes of one P2P message (the transport has
//     already bounded them by max_message_size) must parse as a NodeMessage
//     with a body; a consensus message must be well formed; every gossiped
//     transaction must pass stage 1 of mempool admission (tx_admission.h),
//     since a correct peer gossips only what its mempool checked.
//   - inbound_action: how many checked messages may wait for the event loop;
//     beyond the bound, consensus and gossip are dropped (the engine
//     rebroadcasts and block sync fills gaps), the rest always queue.
//   - consensus_reply: what the engine's verdict on a peer's consensus
//     message means for that peer (disconnect, or it is ahead: sync).
//   - node_message_limit: the largest message between nodes.
// What a peer may ask for and send in block sync is in node/block_exchange.h.
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
#include "chain/transaction.h"
#include "chain/verdict.h"
#include "consensus/messages.h"
#include "node/proto/node_message.pb.h"
#include "node/tx_admission.h"

namespace baton::node {

// Why a peer's message was refused; each one means the peer misbehaved and
// the node disconnects it.
enum class PeerMessageFault {
  undecodable,          // not a NodeMessage
  no_body,              // a NodeMessage without a body
  malformed_consensus,  // consensus::check_well_formed found misbehaviour
  invalid_transaction,  // a gossiped transaction failed stage 1 of admission
};
const char* to_string(PeerMessageFault fault);

// A message that passed check_peer_message. For a `txs` body, the
// transactions have been moved out of `message` into `gossip` (in order,
// every one valid); for any other body `gossip` is empty.
struct PeerMessage {
  pb::NodeMessage message;
  std::vector<OfferedTx> gossip;
};

// Checks one message as received. Costs one Ed25519 verification per
// gossiped transaction, stopping at the first that fails. `members`:
// chain::current_validators(spec, committed state). A transaction whose
// sender is no member of `members` is left out of `gossip` without a fault:
// membership changes by vote, and a peer one block apart relays it in good
// faith (the chain refuses it in a block all the same).
chain::Verdict<PeerMessage, PeerMessageFault> check_peer_message(const chain::ChainSpec& spec,
                                                                 const chain::ValidatorSet& members,
                                                                 chain::ByteView bytes);

enum class InboundAction { queue, drop };

// `waiting`: checked messages posted to the event loop and not yet handled.
// Consensus and gossip are dropped once `waiting` reaches `max_waiting`.
InboundAction inbound_action(const pb::NodeMessage& message, std::size_t waiting,
                             std::size_t max_waiting);

// What the node does with the peer after the engine's verdict on its
// consensus message.
struct ConsensusReply {
  bool disconnect = false;  // malformed, oversized, from no validator, or a bad signature
  // The message is for a height beyond the engine's: block sync should ask
  // for blocks, and the peer has at least `peer_at_least` committed (unset
  // when the message names no height).
  bool request_blocks = false;
  std::optional<std::uint64_t> peer_at_least;
};
ConsensusReply consensus_reply(consensus::MessageVerdict verdict,
                               const consensus::pb::ConsensusMessage& message);

// The largest P2P message between nodes: room for a maximal block plus
// 1 MiB, and at least 4 MiB (the transport's max_message_size, which holds
// 32 bits of it).
std::uint64_t node_message_limit(const chain::ConsensusParams& params);

}  // namespace baton::node

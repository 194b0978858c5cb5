#include "node/peer_messages.h"

#include <algorithm>
#include <utility>

namespace baton::node {

const char* to_string(PeerMessageFault fault) {
  switch (fault) {
    case PeerMessageFault::undecodable:
      return "the message is not a NodeMessage";
    case PeerMessageFault::no_body:
      return "the message has no body";
    case PeerMessageFault::malformed_consensus:
      return "the consensus message is not well formed";
    case PeerMessageFault::invalid_transaction:
      return "a gossiped transaction is invalid";
  }
  return "invalid message";
}

chain::Verdict<PeerMessage, PeerMessageFault> check_peer_message(const chain::ChainSpec& spec,
                                                                 const chain::ValidatorSet& members,
                                                                 chain::ByteView bytes) {
  PeerMessage out;
  if (!out.message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return PeerMessageFault::undecodable;
  }
  if (out.message.body_case() == pb::NodeMessage::BODY_NOT_SET) return PeerMessageFault::no_body;
  if (out.message.has_consensus() &&
      consensus::is_misbehaviour(consensus::check_well_formed(out.message.consensus()))) {
    return PeerMessageFault::malformed_consensus;
  }
  if (out.message.has_txs()) {
    auto* txs = out.message.mutable_txs()->mutable_transactions();
    out.gossip.reserve(static_cast<std::size_t>(txs->size()));
    for (std::string& tx : *txs) {
      OfferedTx offer = offer_transaction(spec, members, std::move(tx));
      // Members change by vote: a peer a block ahead of (or behind) this
      // node may relay a newcomer's (or a removed member's) transaction in
      // good faith. It is dropped, not held against the peer.
      if (!offer.valid() && offer.checked.reason() == chain::TxInvalid::unknown_sender) continue;
      if (!offer.valid()) return PeerMessageFault::invalid_transaction;
      out.gossip.push_back(std::move(offer));
    }
    txs->Clear();
  }
  return out;
}

InboundAction inbound_action(const pb::NodeMessage& message, std::size_t waiting,
                             std::size_t max_waiting) {
  const bool droppable = message.has_consensus() || message.has_txs();
  return droppable && waiting >= max_waiting ? InboundAction::drop : InboundAction::queue;
}

ConsensusReply consensus_reply(consensus::MessageVerdict verdict,
                               const consensus::pb::ConsensusMessage& message) {
  using consensus::MessageVerdict;
  ConsensusReply out;
  switch (verdict) {
    case MessageVerdict::future_height: {
      // A message for height H shows the peer committed H - 1.
      const std::uint64_t h = message.has_proposal() ? message.proposal().height()
                              : message.has_vote()   ? message.vote().height()
                                                     : 0;
      out.request_blocks = true;
      if (h > 0) out.peer_at_least = h - 1;
      break;
    }
    case MessageVerdict::malformed:
    case MessageVerdict::oversized:
    case MessageVerdict::unknown_validator:
    case MessageVerdict::bad_signature:
      out.disconnect = true;
      break;
    // The rest leave the session up; the engine itself records an
    // equivocation as evidence.
    case MessageVerdict::accepted:
    case MessageVerdict::duplicate:
    case MessageVerdict::stale:
    case MessageVerdict::wrong_proposer:
    case MessageVerdict::round_too_far:
    case MessageVerdict::invalid_block:
    case MessageVerdict::equivocation:
      break;
  }
  return out;
}

std::uint64_t node_message_limit(const chain::ConsensusParams& params) {
  return std::max<std::uint64_t>(4u << 20, params.max_block_bytes + (1u << 20));
}

}  // namespace baton::node

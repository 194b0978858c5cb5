// Node, transport side: what peers send (consensus messages, gossiped
// transactions, status and block-sync requests) and what this node sends
// them. Split from node.cpp along the seam node.h draws ("TransportListener
// (transport thread)" and the loop-thread handlers it posts to); the thread
// rules in node.h apply unchanged.
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "chain/block.h"
#include "chain/transaction.h"
#include "consensus/messages.h"
#include "node/node.h"
#include "p2p/peer_text.h"

namespace baton::node {
namespace {

namespace asio = boost::asio;

std::uint64_t message_height(const consensus::pb::ConsensusMessage& m) {
  if (m.has_proposal()) return m.proposal().height();
  if (m.has_vote()) return m.vote().height();
  return 0;
}

}  // namespace

chain::Bytes encode_node_message(const pb::NodeMessage& m) {
  chain::Bytes out(m.ByteSizeLong());
  m.SerializeToArray(out.data(), static_cast<int>(out.size()));
  return out;
}

// ---------------------------------------------------------------- transport side

p2p::MessageVerdict Node::on_message(const p2p::PeerId& from, chain::ByteView bytes) {
  auto message = std::make_shared<pb::NodeMessage>();
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      message->body_case() == pb::NodeMessage::BODY_NOT_SET) {
    ++metrics_.peer_messages_invalid;
    return p2p::MessageVerdict::disconnect;
  }
  if (message->has_consensus() &&
      consensus::is_misbehaviour(consensus::check_well_formed(message->consensus()))) {
    ++metrics_.peer_messages_invalid;
    return p2p::MessageVerdict::disconnect;
  }
  std::shared_ptr<std::vector<chain::pb::Transaction>> gossiped;
  if (message->has_txs()) {
    // Signatures are checked here, on the transport thread, off the event
    // loop. A correct peer gossips only what its mempool checked, so one bad
    // transaction is misbehaviour.
    gossiped = std::make_shared<std::vector<chain::pb::Transaction>>();
    for (const std::string& tx : message->txs().transactions()) {
      auto checked = chain::check_transaction(tx, spec_->network(), spec_->validators,
                                              spec_->params().max_tx_bytes);
      if (!checked) {
        ++metrics_.peer_messages_invalid;
        return p2p::MessageVerdict::disconnect;
      }
      gossiped->push_back(std::move(checked).value());
    }
  }
  const bool droppable = message->has_consensus() || message->has_txs();
  if (droppable && pending_inbound_.load() >= kMaxPendingInbound) {
    ++metrics_.peer_messages_dropped;
    return p2p::MessageVerdict::accept;
  }
  ++pending_inbound_;
  asio::post(loop_, [this, from, message, gossiped] {
    --pending_inbound_;
    if (stopping_.load()) return;
    if (gossiped) {
      add_gossiped(*message, *gossiped);
    } else {
      handle(from, *message);
    }
  });
  return p2p::MessageVerdict::accept;
}

void Node::on_peer_connected(const p2p::PeerId& peer) {
  ++metrics_.peers_connected;
  asio::post(loop_, [this, peer] {
    if (stopping_.load()) return;
    send_status(peer);
    if (driver_ && transport_) {
      for (const auto& m : driver_->messages_to_rebroadcast()) {
        pb::NodeMessage out;
        *out.mutable_consensus() = m;
        transport_->send(peer, encode_node_message(out));
      }
    }
  });
}

void Node::on_peer_disconnected(const p2p::PeerId& peer, p2p::DisconnectReason reason) {
  if (metrics_.peers_connected > 0) --metrics_.peers_connected;
  asio::post(loop_, [this, peer] { sync_.on_peer_disconnected(peer); });
  (void)reason;
}

void Node::on_problem(const p2p::TransportProblem& problem) {
  const std::string who = problem.peer ? name_of(*problem.peer) : problem.remote;
  // A peer closing its side (it restarted or shut down) or our own shutdown
  // is routine; everything else (refused handshakes, garbage) is a warning.
  const bool routine = problem.reason == p2p::DisconnectReason::closed_by_peer ||
                       problem.reason == p2p::DisconnectReason::stopped || stopping_.load();
  const auto level = routine ? spdlog::level::info : spdlog::level::warn;
  if (problem.suppressed > 0) {
    log_->log(level, "p2p {}: {} ({}) [{} similar problems not logged]", who, problem.detail,
              to_string(problem.reason), problem.suppressed);
  } else {
    log_->log(level, "p2p {}: {} ({})", who, problem.detail, to_string(problem.reason));
  }
}

void Node::handle(const p2p::PeerId& from, const pb::NodeMessage& message) {
  switch (message.body_case()) {
    case pb::NodeMessage::kConsensus: {
      if (!driver_) return;
      const auto verdict = driver_->on_message(message.consensus());
      if (verdict == consensus::MessageVerdict::future_height) {
        const std::uint64_t h = message_height(message.consensus());
        if (h > 0) sync_.on_peer_at_least(from, h - 1);
        maybe_request_blocks();
      } else if (verdict == consensus::MessageVerdict::malformed ||
                 verdict == consensus::MessageVerdict::oversized ||
                 verdict == consensus::MessageVerdict::unknown_validator ||
                 verdict == consensus::MessageVerdict::bad_signature) {
        ++metrics_.peer_messages_invalid;
        transport_->disconnect(from);
      }
      return;
    }
    case pb::NodeMessage::kTxs:
      return;  // checked on the transport thread, added by add_gossiped()
    case pb::NodeMessage::kStatus:
      sync_.on_peer_height(from, message.status().height());
      maybe_request_blocks();
      return;
    case pb::NodeMessage::kBlockRequest:
      serve_blocks(from, message.block_request());
      return;
    case pb::NodeMessage::kBlockResponse:
      handle_block_response(from, message.block_response());
      return;
    case pb::NodeMessage::BODY_NOT_SET:
      return;
  }
}

void Node::add_gossiped(const pb::NodeMessage& message,
                        const std::vector<chain::pb::Transaction>& checked) {
  bool any = false;
  for (int i = 0; i < message.txs().transactions_size() && i < static_cast<int>(checked.size());
       ++i) {
    const AddResult r =
        mempool_.add_checked(message.txs().transactions(i), checked[static_cast<std::size_t>(i)],
                             [this](const chain::PublicKey& k) { return state_->next_nonce(k); });
    verified_txs_.add(r.hash);  // on_message verified these bytes
    if (r.accepted()) {
      any = true;
      ++metrics_.txs_accepted;
    }
  }
  if (any && driver_) driver_->poke();
}

void Node::serve_blocks(const p2p::PeerId& to, const pb::BlockRequest& request) {
  const std::uint32_t count = std::min<std::uint32_t>(request.max_count(), 64);
  if (request.from_height() == 0 || count == 0) return;
  auto blocks = store_->blocks_from(request.from_height(), count);
  if (!blocks) {
    log_->error("cannot read blocks for a peer: {}", blocks.error().message);
    return;
  }
  pb::NodeMessage m;
  auto* r = m.mutable_block_response();
  r->set_from_height(request.from_height());
  const std::size_t limit =
      std::max<std::uint64_t>(4u << 20, spec_->params().max_block_bytes + (1u << 20)) - 4096;
  std::size_t used = 0;
  for (std::string& b : *blocks) {
    if (r->blocks_size() > 0 && used + b.size() > limit) break;
    used += b.size();
    r->add_blocks(std::move(b));
  }
  transport_->send(to, encode_node_message(m));
}

void Node::handle_block_response(const p2p::PeerId& from, const pb::BlockResponse& response) {
  sync_.on_response(from);
  if (storage_faults_.halted()) return;  // the ledger takes no writes; asked again on recovery
  std::uint64_t height = response.from_height();
  for (const std::string& bytes : response.blocks()) {
    if (height <= state_->height) {
      ++height;
      continue;  // consensus got there first
    }
    if (height != state_->height + 1) break;
    auto committed = chain::decode_committed_block(bytes);
    chain::Verdict<chain::LedgerState, chain::BlockFault> after =
        committed ? chain::validate_block(*spec_, *state_, *committed)
                  : chain::Verdict<chain::LedgerState, chain::BlockFault>(chain::BlockFault{
                        chain::BlockInvalid::malformed_block, committed.error().message});
    if (!after) {
      ++metrics_.peer_messages_invalid;
      // The reason can quote the peer's bytes (e.g. its header's chain id).
      log_->warn("peer {} sent an invalid block at height {}: {}; disconnecting it", name_of(from),
                 height, p2p::printable_sentence(after.reason().message()));
      transport_->disconnect(from);
      return;
    }
    if (auto s = apply_committed(bytes, std::move(after).value(), height); !s) {
      log_->error("cannot store synced block {}: {}", height, s.error().message);
      return;
    }
    ++metrics_.blocks_synced;
    if (driver_) driver_->on_block_committed(height);
    ++height;
  }
  maybe_request_blocks();
}

void Node::send_status(const std::optional<p2p::PeerId>& to) {
  if (!transport_) return;
  pb::NodeMessage m;
  m.mutable_status()->set_height(state_->height);
  m.mutable_status()->set_tip_id(
      std::string(state_->last_block_id.bytes.begin(), state_->last_block_id.bytes.end()));
  if (to) {
    transport_->send(*to, encode_node_message(m));
  } else {
    transport_->broadcast(encode_node_message(m));
  }
}

void Node::maybe_request_blocks() {
  if (storage_faults_.halted()) return;
  auto req = sync_.next_request(state_->height, now_ms());
  if (!req || !transport_) return;
  pb::NodeMessage m;
  m.mutable_block_request()->set_from_height(req->from_height);
  m.mutable_block_request()->set_max_count(req->max_count);
  transport_->send(req->peer, encode_node_message(m));
}

void Node::gossip_transactions(std::vector<std::string> txs) {
  for (auto& t : txs) gossip_queue_.push_back(std::move(t));
  if (gossip_scheduled_) return;
  gossip_scheduled_ = true;
  // A short delay batches the transactions submitted meanwhile into one message.
  gossip_timer_.expires_after(std::chrono::milliseconds(1));
  gossip_timer_.async_wait([this](const boost::system::error_code& ec) {
    gossip_scheduled_ = false;
    if (ec || stopping_.load() || gossip_queue_.empty() || !transport_) return;
    pb::NodeMessage m;
    for (auto& t : gossip_queue_) m.mutable_txs()->add_transactions(std::move(t));
    gossip_queue_.clear();
    transport_->broadcast(encode_node_message(m));
  });
}

}  // namespace baton::node

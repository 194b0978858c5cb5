// Node, transport side: what peers send (consensus messages, gossiped
// transactions, status and block-sync requests) and what this node sends
// them. Split from node.cpp along the seam node.h draws ("TransportListener
// (transport thread)" and the loop-thread handlers it posts to); the thread
// rules in node.h apply unchanged. What a peer may send and ask for, and the
// checks its blocks pass, are decided in node/peer_messages.h and
// node/block_exchange.h; this file carries the decisions out.
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "chain/membership.h"
#include "node/block_exchange.h"
#include "node/node.h"
#include "node/peer_messages.h"
#include "node/tx_admission.h"
#include "p2p/peer_text.h"

namespace baton::node {
namespace {

namespace asio = boost::asio;

}  // namespace

chain::Bytes encode_node_message(const pb::NodeMessage& m) {
  chain::Bytes out(m.ByteSizeLong());
  m.SerializeToArray(out.data(), static_cast<int>(out.size()));
  return out;
}

// ---------------------------------------------------------------- transport side

p2p::MessageVerdict Node::on_message(const p2p::PeerId& from, chain::ByteView bytes) {
  // Gossiped transactions' signatures are checked here, on the transport
  // thread, off the event loop.
  const auto committed = views_.committed_state();
  auto checked = check_peer_message(*spec_, chain::current_validators(*spec_, *committed), bytes);
  if (!checked) {
    ++metrics_.peer_messages_invalid;
    return p2p::MessageVerdict::disconnect;
  }
  auto message = std::make_shared<PeerMessage>(std::move(checked).value());
  if (inbound_action(message->message, pending_inbound_.load(), kMaxPendingInbound) ==
      InboundAction::drop) {
    ++metrics_.peer_messages_dropped;
    return p2p::MessageVerdict::accept;
  }
  ++pending_inbound_;
  asio::post(loop_, [this, from, message] {
    --pending_inbound_;
    if (stopping_.load()) return;
    if (message->message.has_txs()) {
      add_gossiped(std::move(message->gossip));
    } else {
      handle(from, message->message);
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
      const ConsensusReply reply =
          consensus_reply(driver_->on_message(message.consensus()), message.consensus());
      if (reply.peer_at_least) sync_.on_peer_at_least(from, *reply.peer_at_least);
      if (reply.request_blocks) maybe_request_blocks();
      if (reply.disconnect) {
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
    case pb::NodeMessage::kSnapshotRequest:  // state sync (node_state_sync.cpp)
      serve_snapshot(from, message.snapshot_request());
      return;
    case pb::NodeMessage::kSnapshotResponse:
      handle_snapshot_response(from, message.snapshot_response());
      return;
    case pb::NodeMessage::BODY_NOT_SET:
      return;
  }
}

void Node::add_gossiped(std::vector<OfferedTx> offers) {
  bool any = false;
  for (OfferedTx& offer : offers) {
    const AddResult r =
        admit_transaction(mempool_, std::move(offer),
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
  const BlockServeLimits limits = block_serve_limits(spec_->params());
  const std::optional<BlockRange> range = blocks_to_read(request, limits);
  if (!range) return;
  auto blocks = store_->blocks_from(range->from_height, range->count);
  if (!blocks) {
    log_->error("cannot read blocks for a peer: {}", blocks.error().message);
    return;
  }
  pb::NodeMessage m;
  *m.mutable_block_response() =
      plan_block_response(range->from_height, std::move(blocks).value(), limits);
  transport_->send(to, encode_node_message(m));
}

void Node::handle_block_response(const p2p::PeerId& from, const pb::BlockResponse& response) {
  if (handle_history_response(from, response)) return;  // backfill or repair
  sync_.on_response(from);
  if (consensus_waits()) return;         // state sync: nothing chains on the state yet
  if (storage_faults_.halted()) return;  // the ledger takes no writes; asked again on recovery
  const auto count = static_cast<std::size_t>(response.blocks_size());
  // Placed again after each block: consensus may commit meanwhile.
  while (const auto i = place_synced_blocks(response.from_height(), count, state_->height)) {
    const std::uint64_t height = state_->height + 1;
    const std::string& bytes = response.blocks(static_cast<int>(*i));
    auto after = check_committed_bytes(*spec_, *state_, bytes);
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
  if (storage_faults_.halted() || consensus_waits()) return;
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

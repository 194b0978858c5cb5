// Node, admin side: what the admin HTTP thread asks of the node (the
// AdminNode port, node/admin_node.h). Reads that live on the event loop
// (mempool, nonces) and submissions are posted to it and waited for with a
// timeout; the thread rules in node.h apply. Split from node.cpp along that
// seam; the decisions are in node/tx_admission.h.
#include <chrono>
#include <future>
#include <memory>
#include <utility>

#include <boost/asio/post.hpp>

#include "chain/membership.h"
#include "node/node.h"
#include "node/training_metrics.h"
#include "node/tx_admission.h"

namespace baton::node {
namespace {

namespace asio = boost::asio;

}  // namespace

template <class Fn>
bool Node::run_on_loop(Fn&& fn, int timeout_ms) {
  if (stopping_.load()) return false;
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  asio::post(loop_, [fn = std::forward<Fn>(fn), done]() mutable {
    fn();
    done->set_value();
  });
  return future.wait_for(std::chrono::milliseconds(timeout_ms)) == std::future_status::ready;
}

NodeSnapshot Node::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

std::string Node::metrics_text() const {
  std::string text = metrics_.prometheus_text(config_.name);
  if (const std::shared_ptr<const chain::LedgerState> state = committed_state())
    text += training_metrics_text(state->training, config_.name);
  return text;
}

std::vector<PeerStatus> Node::peers() const {
  std::vector<PeerStatus> out;
  if (!transport_) return out;
  for (const p2p::PeerInfo& p : transport_->peers()) {
    out.push_back({name_of(p.key), p.address, p.state == p2p::PeerState::connected, p.last_error});
  }
  return out;
}

SubmitOutcome Node::submit_transaction(std::string tx_bytes) {
  // Stage 1 of admission (the signature) runs here, on the caller's (HTTP)
  // thread, so that the event loop only does the cheap, stateful part.
  const auto committed = views_.committed_state();
  OfferedTx offer =
      offer_transaction(*spec_, chain::current_validators(*spec_, *committed), std::move(tx_bytes));
  if (!offer.valid()) {
    ++metrics_.txs_rejected;
    const AddResult r = offer.refusal();
    SubmitOutcome bad;
    bad.hash = r.hash;
    bad.reason = r.reason();
    return bad;
  }
  auto out = std::make_shared<SubmitOutcome>();
  const bool ran = run_on_loop([this, out, offer = std::move(offer)]() mutable {
    std::string bytes = offer.bytes;  // gossiped when accepted
    const AddResult r =
        admit_transaction(mempool_, std::move(offer),
                          [this](const chain::PublicKey& k) { return state_->next_nonce(k); });
    verified_txs_.add(r.hash);  // checked above, even if the pool refused it
    out->hash = r.hash;
    out->nonce = r.nonce;
    if (!r.accepted()) {
      ++metrics_.txs_rejected;
      out->reason = r.reason();
      out->pool_full = r.rejected == TxRejection::pool_full;
      return;
    }
    out->accepted = true;
    ++metrics_.txs_accepted;
    gossip_transactions({std::move(bytes)});
    if (driver_) driver_->poke();
  });
  if (!ran) {
    SubmitOutcome busy;
    busy.busy = true;
    busy.reason = "the node is busy or stopping; retry";
    return busy;
  }
  return *out;
}

std::optional<std::uint64_t> Node::next_nonce(const chain::PublicKey& sender) {
  auto out = std::make_shared<std::uint64_t>(0);
  if (!run_on_loop([this, out, sender] {
        *out =
            next_nonce_to_sign(state_->next_nonce(sender), mempool_.highest_pending_nonce(sender));
      })) {
    return std::nullopt;
  }
  return *out;
}

std::optional<std::string> Node::pending_transaction(const chain::Hash& hash) {
  auto out = std::make_shared<std::optional<std::string>>();
  if (!run_on_loop([this, out, hash] { *out = mempool_.get(hash); })) return std::nullopt;
  return *out;
}

}  // namespace baton::node

#include "node/block_sync.h"

#include <algorithm>
#include <vector>

namespace baton::node {

void BlockSync::on_peer_height(const chain::PublicKey& peer, std::uint64_t height) {
  heights_[peer] = height;
}

void BlockSync::on_peer_at_least(const chain::PublicKey& peer, std::uint64_t height) {
  auto& h = heights_[peer];
  h = std::max(h, height);
}

void BlockSync::on_peer_disconnected(const chain::PublicKey& peer) {
  heights_.erase(peer);
  if (in_flight_ && in_flight_->peer == peer) in_flight_.reset();
}

void BlockSync::on_response(const chain::PublicKey& peer) {
  if (in_flight_ && in_flight_->peer == peer) in_flight_.reset();
}

std::optional<SyncRequest> BlockSync::next_request(std::uint64_t tip_height, std::uint64_t now_ms) {
  if (in_flight_) {
    if (now_ms - in_flight_->sent_ms < options_.request_timeout_ms) return std::nullopt;
    in_flight_.reset();  // unanswered: try another peer
  }
  std::vector<chain::PublicKey> ahead;
  for (const auto& [peer, height] : heights_) {
    if (height > tip_height) ahead.push_back(peer);
  }
  if (ahead.empty()) return std::nullopt;
  const chain::PublicKey& peer = ahead[rotation_++ % ahead.size()];
  const std::uint64_t want = heights_[peer] - tip_height;
  in_flight_ = InFlight{peer, now_ms};
  return SyncRequest{peer, tip_height + 1,
                     static_cast<std::uint32_t>(std::min<std::uint64_t>(want, options_.batch))};
}

std::uint64_t BlockSync::best_peer_height() const {
  std::uint64_t best = 0;
  for (const auto& [peer, height] : heights_) best = std::max(best, height);
  return best;
}

}  // namespace baton::node

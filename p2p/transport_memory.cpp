#include "p2p/transport_memory.h"

#include <cstdlib>
#include <optional>

namespace baton::p2p {

struct MemoryNetwork::Delivery {
  enum class Kind { message, connected, disconnected };
  Kind kind = Kind::message;
  PeerId from;
  PeerId to;
  chain::Bytes message;
  DisconnectReason reason = DisconnectReason::closed_by_peer;
};

MemoryNetwork::MemoryNetwork(std::uint32_t max_message_size)
    : max_message_size_(max_message_size) {}
MemoryNetwork::~MemoryNetwork() = default;

std::unique_ptr<MemoryTransport> MemoryNetwork::endpoint(const PeerId& self) {
  return std::unique_ptr<MemoryTransport>(new MemoryTransport(*this, self));
}

MemoryNetwork::Link MemoryNetwork::link(const PeerId& a, const PeerId& b) {
  return a < b ? Link{a, b} : Link{b, a};
}

bool MemoryNetwork::connected_locked(const PeerId& a, const PeerId& b) const {
  return sessions_.contains(link(a, b));
}

void MemoryNetwork::on_started(MemoryTransport* t) {
  std::lock_guard lock(mutex_);
  if (started_.contains(t->self())) std::abort();  // two live endpoints with one id
  for (const auto& [other, endpoint] : started_) {
    const Link l = link(t->self(), other);
    if (cut_.contains(l)) continue;
    sessions_.insert(l);
    queue_.push_back(
        std::make_unique<Delivery>(Delivery{Delivery::Kind::connected, other, t->self(), {}, {}}));
    queue_.push_back(
        std::make_unique<Delivery>(Delivery{Delivery::Kind::connected, t->self(), other, {}, {}}));
  }
  started_[t->self()] = t;
}

void MemoryNetwork::on_stopped(MemoryTransport* t) {
  std::lock_guard lock(mutex_);
  started_.erase(t->self());
  for (const auto& [other, endpoint] : started_) {
    const Link l = link(t->self(), other);
    if (sessions_.erase(l) == 0) continue;
    queue_.push_back(std::make_unique<Delivery>(Delivery{
        Delivery::Kind::disconnected, t->self(), other, {}, DisconnectReason::closed_by_peer}));
  }
  // Nothing may be delivered to a stopped endpoint.
  std::erase_if(queue_, [&](const auto& d) { return d->to == t->self(); });
}

void MemoryNetwork::set_link(const PeerId& a, const PeerId& b, bool up) {
  std::lock_guard lock(mutex_);
  const Link l = link(a, b);
  if (up) {
    cut_.erase(l);
    if (!started_.contains(a) || !started_.contains(b) || sessions_.contains(l)) return;
    sessions_.insert(l);
    queue_.push_back(std::make_unique<Delivery>(Delivery{Delivery::Kind::connected, a, b, {}, {}}));
    queue_.push_back(std::make_unique<Delivery>(Delivery{Delivery::Kind::connected, b, a, {}, {}}));
  } else {
    cut_.insert(l);
    if (sessions_.erase(l) == 0) return;
    // Messages in flight across the link are lost, as on a broken TCP session.
    std::erase_if(queue_, [&](const auto& d) {
      return d->kind == Delivery::Kind::message && link(d->from, d->to) == l;
    });
    queue_.push_back(std::make_unique<Delivery>(
        Delivery{Delivery::Kind::disconnected, a, b, {}, DisconnectReason::io_error}));
    queue_.push_back(std::make_unique<Delivery>(
        Delivery{Delivery::Kind::disconnected, b, a, {}, DisconnectReason::io_error}));
  }
}

void MemoryNetwork::partition(const PeerId& a, const PeerId& b) { set_link(a, b, false); }
void MemoryNetwork::heal(const PeerId& a, const PeerId& b) { set_link(a, b, true); }

bool MemoryNetwork::enqueue_message(const PeerId& from, const PeerId& to, chain::Bytes message) {
  if (message.size() > max_message_size_) return false;
  std::lock_guard lock(mutex_);
  if (!connected_locked(from, to)) return true;
  queue_.push_back(std::make_unique<Delivery>(
      Delivery{Delivery::Kind::message, from, to, std::move(message), {}}));
  return true;
}

void MemoryNetwork::drop_session(const PeerId& a, const PeerId& b, DisconnectReason reason) {
  std::lock_guard lock(mutex_);
  const Link l = link(a, b);
  if (!sessions_.contains(l)) return;
  std::erase_if(queue_, [&](const auto& d) {
    return d->kind == Delivery::Kind::message && link(d->from, d->to) == l;
  });
  // Like the TCP transport: the session ends on both sides, then comes back.
  queue_.push_back(
      std::make_unique<Delivery>(Delivery{Delivery::Kind::disconnected, b, a, {}, reason}));
  queue_.push_back(std::make_unique<Delivery>(
      Delivery{Delivery::Kind::disconnected, a, b, {}, DisconnectReason::closed_by_peer}));
  queue_.push_back(std::make_unique<Delivery>(Delivery{Delivery::Kind::connected, b, a, {}, {}}));
  queue_.push_back(std::make_unique<Delivery>(Delivery{Delivery::Kind::connected, a, b, {}, {}}));
}

std::size_t MemoryNetwork::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t MemoryNetwork::run_until_idle(std::size_t max_deliveries) {
  std::size_t made = 0;
  while (made < max_deliveries) {
    std::unique_ptr<Delivery> d;
    TransportListener* listener = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) break;
      d = std::move(queue_.front());
      queue_.pop_front();
      auto it = started_.find(d->to);
      if (it == started_.end()) continue;
      listener = it->second->listener_;
    }
    ++made;
    switch (d->kind) {
      case Delivery::Kind::connected:
        listener->on_peer_connected(d->from);
        break;
      case Delivery::Kind::disconnected:
        listener->on_peer_disconnected(d->from, d->reason);
        break;
      case Delivery::Kind::message:
        if (listener->on_message(d->from, d->message) == MessageVerdict::disconnect) {
          drop_session(d->to, d->from, DisconnectReason::invalid_message);
        }
        break;
    }
  }
  return made;
}

MemoryTransport::~MemoryTransport() { stop(); }

Status MemoryTransport::start(TransportListener& listener) {
  if (listener_ != nullptr) std::abort();  // start() twice is a caller bug
  listener_ = &listener;
  network_.on_started(this);
  return {};
}

bool MemoryTransport::send(const PeerId& peer, chain::Bytes message) {
  if (stopped_ || listener_ == nullptr) return message.size() <= network_.max_message_size_;
  return network_.enqueue_message(self_, peer, std::move(message));
}

bool MemoryTransport::broadcast(chain::Bytes message) {
  if (message.size() > network_.max_message_size_) return false;
  for (const PeerInfo& p : peers()) {
    if (p.state == PeerState::connected) (void)send(p.key, message);
  }
  return true;
}

void MemoryTransport::disconnect(const PeerId& peer) {
  network_.drop_session(self_, peer, DisconnectReason::requested);
}

std::vector<PeerInfo> MemoryTransport::peers() const {
  std::lock_guard lock(network_.mutex_);
  std::vector<PeerInfo> out;
  for (const auto& [key, endpoint] : network_.started_) {
    if (key == self_) continue;
    PeerInfo info;
    info.key = key;
    info.state =
        network_.connected_locked(self_, key) ? PeerState::connected : PeerState::disconnected;
    out.push_back(std::move(info));
  }
  return out;
}

void MemoryTransport::stop() {
  if (stopped_ || listener_ == nullptr) {
    stopped_ = true;
    return;
  }
  stopped_ = true;
  network_.on_stopped(this);
}

}  // namespace baton::p2p

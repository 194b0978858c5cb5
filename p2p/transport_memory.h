// MemoryTransport: the in-process Transport for unit tests of the layers
// above (consensus wiring, mempool gossip, block sync). No sockets, no
// threads: a MemoryNetwork holds one FIFO of pending deliveries, and the test
// pumps it with run_until_idle() on its own thread, so runs are repeatable.
//
// Two started endpoints are connected unless the test cut the link between
// them with partition(); heal() reconnects them. Connect/disconnect
// notifications and messages are delivered in the order they were caused.
// A message sent across a cut link, to an unknown or stopped endpoint, or
// larger than the limit, is dropped (send() returns false only for the size).
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include "p2p/transport.h"

namespace baton::p2p {

class MemoryTransport;

class MemoryNetwork {
 public:
  explicit MemoryNetwork(std::uint32_t max_message_size = 4u << 20);
  ~MemoryNetwork();
  MemoryNetwork(const MemoryNetwork&) = delete;
  MemoryNetwork& operator=(const MemoryNetwork&) = delete;

  // A new endpoint named `self` on this network. The network must outlive it.
  // Precondition: no other live endpoint has the same id.
  std::unique_ptr<MemoryTransport> endpoint(const PeerId& self);

  // Cuts / restores the link between two endpoints (both directions).
  void partition(const PeerId& a, const PeerId& b);
  void heal(const PeerId& a, const PeerId& b);

  // Delivers pending notifications and messages on the calling thread until
  // there are none left or `max_deliveries` were made; returns how many were
  // made. Listeners may send while being called; those are delivered too.
  std::size_t run_until_idle(std::size_t max_deliveries = 1'000'000);

  std::size_t pending() const;

 private:
  friend class MemoryTransport;
  struct Delivery;
  using Link = std::pair<PeerId, PeerId>;  // ordered (lower, higher)
  static Link link(const PeerId& a, const PeerId& b);
  bool connected_locked(const PeerId& a, const PeerId& b) const;
  void on_started(MemoryTransport* t);
  void on_stopped(MemoryTransport* t);
  void set_link(const PeerId& a, const PeerId& b, bool up);
  bool enqueue_message(const PeerId& from, const PeerId& to, chain::Bytes message);
  void drop_session(const PeerId& a, const PeerId& b, DisconnectReason reason);

  std::uint32_t max_message_size_;
  mutable std::mutex mutex_;
  std::map<PeerId, MemoryTransport*> started_;
  std::set<Link> cut_;
  std::set<Link> sessions_;  // links currently "connected"
  std::deque<std::unique_ptr<Delivery>> queue_;
};

class MemoryTransport final : public Transport {
 public:
  ~MemoryTransport() override;  // calls stop()
  MemoryTransport(const MemoryTransport&) = delete;
  MemoryTransport& operator=(const MemoryTransport&) = delete;

  const PeerId& self() const { return self_; }

  Status start(TransportListener& listener) override;
  bool send(const PeerId& peer, chain::Bytes message) override;
  bool broadcast(chain::Bytes message) override;
  void disconnect(const PeerId& peer) override;  // the link stays up: it reconnects at once
  std::vector<PeerInfo> peers() const override;  // every other started endpoint
  void stop() override;

 private:
  friend class MemoryNetwork;
  MemoryTransport(MemoryNetwork& network, const PeerId& self) : network_(network), self_(self) {}

  MemoryNetwork& network_;
  PeerId self_;
  TransportListener* listener_ = nullptr;
  bool stopped_ = false;
};

}  // namespace baton::p2p

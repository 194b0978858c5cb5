// TcpTransport: the real Transport, over TCP with Boost.Asio.
//
// Every connection runs the handshake of handshake.h (refusing unknown keys,
// other genesis hashes, bad signatures and ourselves), then carries
// ChaCha20-Poly1305 frames (secure_channel.h). The byte formats are in
// docs/PROTOCOL.md, "P2P transport".
//
// Threads: one io thread, started by start() and joined by stop(). All
// sockets, timers and listener callbacks run on it. send/broadcast/disconnect
// post to it and return at once; peers() reads a snapshot under a mutex.
//
// Connections: we dial every member that has an address (except ourselves),
// and accept anyone who completes the handshake as a member. When a dial
// fails or a session ends, the member is redialled after an exponential
// backoff with jitter: delay = min(max, initial * 2^failures) scaled by a
// random factor in [0.5, 1]. There is at most one session per peer: when a
// second one completes (both sides dialled at once), both ends keep the one
// dialled by the lower public key (bytewise), and if both were dialled by the
// same side, the newer one (the dialler only redials when its old session is
// gone, so the old one is stale).
//
// Slow peers: each session has a bounded send queue (messages and bytes). A
// send that would overflow it disconnects that peer (send_queue_full) rather
// than silently dropping one message in the middle of a stream: the layers
// above then see on_peer_disconnected and resynchronise on reconnect.
//
// Members at run time: set_members() (posted to the io thread) replaces the
// list. A member that left loses its session, its handshakes in progress and
// its redials, and its handshake is refused from then on; a new one is
// dialled (and accepted); a member whose address changed is redialled there
// when it has no session. A replaced key is a member that left plus one that
// came.
//
// Keepalive: a session sends a keepalive frame after `keepalive_interval`
// without sending anything, and drops a peer from which nothing arrived for
// `idle_timeout`.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chain/crypto.h"
#include "p2p/transport.h"

namespace baton::p2p {

struct TransportLimits {
  // Largest application message (send() refuses larger ones, a peer that
  // sends a larger frame is dropped). The frame body limit is this + 17.
  std::uint32_t max_message_size = 4u << 20;
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds dial_timeout{3000};
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::milliseconds keepalive_interval{2000};
  std::chrono::milliseconds idle_timeout{10000};
  // Per session; a send beyond either bound disconnects the peer.
  std::size_t send_queue_messages = 16384;
  std::size_t send_queue_bytes = 64u << 20;
  // Unauthenticated (handshaking) inbound connections at once; more are
  // closed at accept.
  std::size_t max_pending_inbound = 64;
  // TransportListener::on_problem calls per second (burst of twice this);
  // the rest are counted in TransportProblem::suppressed.
  double problems_per_second = 5.0;
};

struct TcpTransportOptions {
  std::string chain_id;
  chain::Hash genesis_hash;
  // Every member at start, ourselves included or not (we never dial
  // ourselves); set_members() replaces the list later.
  std::vector<MemberAddress> members;
  std::string listen_host = "0.0.0.0";
  std::uint16_t listen_port = 0;  // 0: the OS picks one (see listen_port())
  TransportLimits limits;
};

class TcpTransport final : public Transport {
 public:
  // `identity` is this node's Ed25519 key (copied). Nothing runs until start().
  TcpTransport(const chain::SigningKey& identity, TcpTransportOptions options);
  ~TcpTransport() override;  // calls stop()
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  Status start(TransportListener& listener) override;
  bool send(const PeerId& peer, chain::Bytes message) override;
  bool broadcast(chain::Bytes message) override;
  void disconnect(const PeerId& peer) override;
  std::vector<PeerInfo> peers() const override;
  void set_members(std::vector<MemberAddress> members) override;
  void stop() override;

  // The port actually listened on (after a successful start()), else 0.
  std::uint16_t listen_port() const;

  class Impl;  // transport_tcp.cpp

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::p2p

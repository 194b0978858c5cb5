// Transport: the port through which the node talks to the other genesis
// members. Messages are opaque byte strings (the node's own Protobuf
// messages); peers are named by their Ed25519 identity. Two implementations:
// TcpTransport (transport_tcp.h: Boost.Asio, authenticated handshake,
// encrypted frames) and MemoryTransport (transport_memory.h: in-process, for
// unit tests of the layers above).
//
// Delivery is best effort: a message sent to a peer that is not connected, or
// queued on a connection that then breaks, is lost. Messages from one peer
// arrive in the order that peer sent them. Layers above re-send what matters
// (e.g. on on_peer_connected).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chain/crypto.h"
#include "chain/result.h"

namespace baton::p2p {

using PeerId = chain::PublicKey;

// What the listener decides about a delivered message.
enum class MessageVerdict {
  accept,      // fine (even if ignored)
  disconnect,  // invalid (e.g. does not parse): drop this connection
};

// Why a connection ended (or never became a session).
enum class DisconnectReason {
  closed_by_peer = 1,  // EOF or reset
  io_error,            // read/write error other than EOF
  handshake_refused,   // see HandshakeRefusal in the problem's detail
  handshake_timeout,
  oversized_frame,       // the length prefix announced more than the limit
  not_authentic,         // a frame failed AEAD authentication
  bad_envelope,          // an authentic frame with an unknown kind
  invalid_message,       // the listener returned MessageVerdict::disconnect
  idle_timeout,          // nothing received for TransportLimits::idle_timeout
  send_queue_full,       // the peer reads too slowly (see TransportLimits)
  duplicate_connection,  // another connection to the same peer won the tie-break
  too_many_pending,      // too many unauthenticated connections at once
  requested,             // Transport::disconnect() was called
  stopped,               // Transport::stop()
};
const char* to_string(DisconnectReason reason);

enum class PeerState {
  disconnected,  // no session; a redial may be scheduled
  connecting,    // dialling or in the handshake
  connected,     // an authenticated session is up
};
const char* to_string(PeerState state);

// One genesis member as the transport sees it.
struct PeerInfo {
  PeerId key;
  std::string address;  // "host:port" we dial, empty when we only accept
  PeerState state = PeerState::disconnected;
  bool outbound = false;           // when connected: we dialled this session
  std::uint32_t failed_dials = 0;  // consecutive, reset when a session comes up
  std::string last_error;          // last reason a session ended or a dial failed
};

// Something a peer did wrong or an I/O failure, for the node's log. The
// transport rate-limits these (TransportLimits::problems_per_second) and
// counts what it held back in `suppressed`.
struct TransportProblem {
  std::string remote;          // "ip:port" of the socket, when there is one
  std::optional<PeerId> peer;  // when the peer's identity is known
  DisconnectReason reason = DisconnectReason::io_error;
  std::string detail;            // a sentence
  std::uint64_t suppressed = 0;  // problems dropped since the last one reported
};

// Notifications out. Called on the transport's own thread (TcpTransport: its
// io thread; MemoryTransport: the thread that pumps the network), one at a
// time, never after stop() has returned. Handlers must be quick and must not
// call Transport::stop(); they may call send/broadcast/disconnect/peers.
// A member as the transport needs it: who may connect, and where to dial.
struct MemberAddress {
  PeerId key;
  std::string host;        // empty: never dialled (it may still dial us)
  std::uint16_t port = 0;  // 0: never dialled
};

class TransportListener {
 public:
  virtual ~TransportListener() = default;
  // `message` is only valid during the call.
  virtual MessageVerdict on_message(const PeerId& from, chain::ByteView message) = 0;
  // A session to `peer` came up (it had none before).
  virtual void on_peer_connected(const PeerId& peer) {}
  // The last session to `peer` ended.
  virtual void on_peer_disconnected(const PeerId& peer, DisconnectReason reason) {}
  virtual void on_problem(const TransportProblem& problem) {}
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Starts listening and dialling; `listener` must outlive stop(). Errors
  // (address in use, unresolvable listen address) are returned, nothing runs.
  // Precondition: called once.
  virtual Status start(TransportListener& listener) = 0;

  // Queues `message` for `peer`. Thread-safe, non-blocking. Returns false (and
  // sends nothing) when the message exceeds the configured message limit;
  // true otherwise, which does not mean it will arrive (see above).
  virtual bool send(const PeerId& peer, chain::Bytes message) = 0;
  // Queues `message` for every connected peer. Same contract as send().
  virtual bool broadcast(chain::Bytes message) = 0;

  // Drops the session to `peer` (if any) with DisconnectReason::requested;
  // a member with an address is redialled after the backoff. Thread-safe.
  virtual void disconnect(const PeerId& peer) = 0;

  // A snapshot of every member other than us. Thread-safe.
  virtual std::vector<PeerInfo> peers() const = 0;

  // Replaces the members (ourselves included or not): a member that left is
  // disconnected and refused from then on, a new one is dialled and
  // accepted. Thread-safe, non-blocking (it takes effect on the transport's
  // own thread, in order with sends). The node calls it from its event loop
  // when the ledger's membership changes. Transports without a handshake
  // (MemoryTransport) keep everyone connected and ignore it.
  virtual void set_members(std::vector<MemberAddress> members) { (void)members; }

  // Closes every connection and the listening socket, joins the transport's
  // threads. Idempotent. Not from inside a listener callback.
  virtual void stop() = 0;
};

}  // namespace baton::p2p

// One TCP connection of the TcpTransport: handshake, then encrypted frames.
// Internal to the transport (only transport_tcp.cpp and tests include it).
//
// Thread: everything runs on the transport's io thread, including the owner
// callbacks. The connection is held by shared_ptr; its pending Asio handlers
// keep it alive until they complete.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio.hpp>

#include "p2p/frame.h"
#include "p2p/handshake.h"
#include "p2p/secure_channel.h"
#include "p2p/transport_tcp.h"

namespace baton::p2p {

class PeerConnection;

// The transport side of a connection. Called on the io thread.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  virtual void on_handshake_done(const std::shared_ptr<PeerConnection>& conn) = 0;
  virtual MessageVerdict on_message(PeerConnection& conn, chain::ByteView message) = 0;
  // Called exactly once per connection, from close().
  virtual void on_closed(const std::shared_ptr<PeerConnection>& conn, DisconnectReason reason,
                         const std::string& detail) = 0;
};

class PeerConnection : public std::enable_shared_from_this<PeerConnection> {
 public:
  using Clock = std::chrono::steady_clock;

  // `handshake` matches `outbound` (initiator when we dialled). `limits` must
  // outlive the connection (the transport owns them).
  PeerConnection(boost::asio::ip::tcp::socket socket, ConnectionOwner& owner,
                 std::unique_ptr<Handshake> handshake, const TransportLimits& limits,
                 bool outbound);
  ~PeerConnection();
  PeerConnection(const PeerConnection&) = delete;
  PeerConnection& operator=(const PeerConnection&) = delete;

  // Sends our hello, starts reading and the handshake timer.
  void start();

  // Queues an application message. Precondition: established(). Closes the
  // connection with send_queue_full when the bounded queue would overflow.
  void send(std::shared_ptr<const chain::Bytes> message);

  // Closes the socket and reports to the owner once. Idempotent.
  void close(DisconnectReason reason, std::string detail);

  bool outbound() const { return outbound_; }
  bool established() const { return sealer_ != nullptr && !closed_; }
  bool closed() const { return closed_; }
  // The verified identity; valid once the handshake completed.
  const PeerId& peer() const { return peer_; }
  const std::string& remote() const { return remote_; }
  // False while not a single byte has arrived (e.g. a port probe).
  bool received_any() const { return received_any_; }

 private:
  struct Outgoing {
    std::shared_ptr<const chain::Bytes> message;  // null: keepalive
  };

  void read_more();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  // Returns false when the connection was closed while handling.
  bool handle_frame(chain::Bytes body);
  bool handle_handshake_frame(chain::ByteView body);
  void queue_raw(chain::ByteView frame_body);
  void write_more();
  void on_written(const boost::system::error_code& ec);
  void arm_handshake_timer();
  void arm_tick();
  void on_tick();

  boost::asio::ip::tcp::socket socket_;
  ConnectionOwner& owner_;
  const TransportLimits& limits_;
  const bool outbound_;
  std::string remote_;

  std::unique_ptr<Handshake> handshake_;
  FrameDecoder decoder_{kMaxHandshakeFrame};
  std::unique_ptr<FrameSealer> sealer_;
  std::unique_ptr<FrameOpener> opener_;
  PeerId peer_;

  boost::asio::steady_timer timer_;  // handshake deadline, then keepalive ticks
  std::array<std::uint8_t, 64 * 1024> read_buffer_{};
  chain::Bytes raw_;  // handshake frames waiting to be written
  std::deque<Outgoing> queue_;
  std::size_t queued_bytes_ = 0;
  chain::Bytes writing_;  // the bytes of the write in flight
  bool write_in_flight_ = false;
  bool closed_ = false;
  bool received_any_ = false;
  Clock::time_point last_received_ = Clock::now();
  Clock::time_point last_sent_ = Clock::now();
};

}  // namespace baton::p2p

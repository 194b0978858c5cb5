#include "p2p/peer_connection.h"

#include <algorithm>
#include <utility>

namespace baton::p2p {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// One write gathers queued messages up to about this many bytes, so that a
// burst of small messages costs one system call rather than one each.
constexpr std::size_t kWriteBatchBytes = 1u << 20;

std::string remote_of(const asio::ip::tcp::socket& socket) {
  error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace

PeerConnection::PeerConnection(asio::ip::tcp::socket socket, ConnectionOwner& owner,
                               std::unique_ptr<Handshake> handshake, const TransportLimits& limits,
                               bool outbound)
    : socket_(std::move(socket)),
      owner_(owner),
      limits_(limits),
      outbound_(outbound),
      remote_(remote_of(socket_)),
      handshake_(std::move(handshake)),
      timer_(socket_.get_executor()) {}

PeerConnection::~PeerConnection() {
  error_code ignored;
  socket_.close(ignored);
}

void PeerConnection::start() {
  error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  queue_raw(handshake_->hello());
  arm_handshake_timer();
  read_more();
}

void PeerConnection::arm_handshake_timer() {
  timer_.expires_after(limits_.handshake_timeout);
  timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->closed_ || self->sealer_) return;
    self->close(DisconnectReason::handshake_timeout,
                "The peer did not finish the handshake within " +
                    std::to_string(self->limits_.handshake_timeout.count()) + " ms.");
  });
}

void PeerConnection::arm_tick() {
  timer_.expires_after(limits_.keepalive_interval);
  timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->closed_) return;
    self->on_tick();
  });
}

void PeerConnection::on_tick() {
  const auto now = Clock::now();
  if (now - last_received_ > limits_.idle_timeout) {
    close(DisconnectReason::idle_timeout, "Nothing arrived from the peer for " +
                                              std::to_string(limits_.idle_timeout.count()) +
                                              " ms.");
    return;
  }
  if (now - last_sent_ >= limits_.keepalive_interval && queue_.empty() && !write_in_flight_) {
    queue_.push_back(Outgoing{});
    write_more();
  }
  arm_tick();
}

void PeerConnection::read_more() {
  socket_.async_read_some(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_read(ec, n); });
}

void PeerConnection::on_read(const error_code& ec, std::size_t n) {
  if (closed_) return;
  if (ec) {
    if (ec == asio::error::eof || ec == asio::error::connection_reset) {
      close(DisconnectReason::closed_by_peer, "The peer closed the connection.");
    } else {
      close(DisconnectReason::io_error, "Reading from the peer failed: " + ec.message() + ".");
    }
    return;
  }
  last_received_ = Clock::now();
  received_any_ = true;
  decoder_.feed(chain::ByteView(read_buffer_.data(), n));
  for (;;) {
    FrameResult result = decoder_.next();
    if (result.status == FrameStatus::need_more) break;
    if (result.status == FrameStatus::oversized) {
      close(DisconnectReason::oversized_frame,
            "The peer announced a frame of " + std::to_string(result.announced) +
                " bytes; the limit is " + std::to_string(decoder_.max_body()) + ".");
      return;
    }
    if (!handle_frame(std::move(result.body))) return;
  }
  read_more();
}

bool PeerConnection::handle_frame(chain::Bytes body) {
  if (!sealer_) return handle_handshake_frame(body);
  FrameOpener::Opened opened = opener_->open(body);
  if (!opened.frame) {
    const DisconnectReason reason =
        opened.failure == OpenFailure::not_authentic || opened.failure == OpenFailure::too_short
            ? DisconnectReason::not_authentic
            : DisconnectReason::bad_envelope;
    close(reason, std::string("Dropped the peer: ") + to_string(opened.failure) + ".");
    return false;
  }
  if (opened.frame->kind == EnvelopeKind::keepalive) return true;
  const MessageVerdict verdict = owner_.on_message(*this, opened.frame->payload);
  if (closed_) return false;
  if (verdict == MessageVerdict::disconnect) {
    close(DisconnectReason::invalid_message, "The node found the peer's message invalid.");
    return false;
  }
  return true;
}

bool PeerConnection::handle_handshake_frame(chain::ByteView body) {
  HandshakeStep step = handshake_->on_message(body);
  if (step.send) queue_raw(*step.send);
  if (step.refused) {
    close(DisconnectReason::handshake_refused,
          std::string(to_string(*step.refused)) + ": " + step.detail);
    return false;
  }
  if (!step.done) return true;
  peer_ = step.done->peer;
  sealer_ = std::make_unique<FrameSealer>(step.done->keys.send);
  opener_ = std::make_unique<FrameOpener>(step.done->keys.receive);
  handshake_.reset();
  decoder_.set_max_body(limits_.max_message_size + 1 + static_cast<std::uint32_t>(kAeadTagSize));
  timer_.cancel();
  arm_tick();
  owner_.on_handshake_done(shared_from_this());
  return !closed_;
}

void PeerConnection::queue_raw(chain::ByteView frame_body) {
  const chain::Bytes frame = encode_frame(frame_body);
  raw_.insert(raw_.end(), frame.begin(), frame.end());
  write_more();
}

void PeerConnection::send(std::shared_ptr<const chain::Bytes> message) {
  if (closed_) return;
  if (!sealer_) std::abort();  // the transport only routes to established sessions
  if (queue_.size() + 1 > limits_.send_queue_messages ||
      queued_bytes_ + message->size() > limits_.send_queue_bytes) {
    close(DisconnectReason::send_queue_full,
          "The peer reads too slowly: " + std::to_string(queue_.size()) + " messages (" +
              std::to_string(queued_bytes_) + " bytes) were already waiting to be sent.");
    return;
  }
  queued_bytes_ += message->size();
  queue_.push_back(Outgoing{std::move(message)});
  write_more();
}

void PeerConnection::write_more() {
  if (write_in_flight_ || closed_) return;
  writing_.clear();
  writing_.swap(raw_);
  if (sealer_) {
    while (!queue_.empty() && writing_.size() < kWriteBatchBytes) {
      Outgoing out = std::move(queue_.front());
      queue_.pop_front();
      if (out.message) {
        queued_bytes_ -= out.message->size();
        sealer_->seal(EnvelopeKind::message, *out.message, writing_);
      } else {
        sealer_->seal(EnvelopeKind::keepalive, {}, writing_);
      }
    }
  }
  if (writing_.empty()) return;
  write_in_flight_ = true;
  last_sent_ = Clock::now();
  asio::async_write(
      socket_, asio::buffer(writing_),
      [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_written(ec); });
}

void PeerConnection::on_written(const error_code& ec) {
  write_in_flight_ = false;
  if (closed_) return;
  if (ec) {
    close(ec == asio::error::broken_pipe || ec == asio::error::connection_reset
              ? DisconnectReason::closed_by_peer
              : DisconnectReason::io_error,
          "Writing to the peer failed: " + ec.message() + ".");
    return;
  }
  write_more();
}

void PeerConnection::close(DisconnectReason reason, std::string detail) {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  timer_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  queue_.clear();
  queued_bytes_ = 0;
  raw_.clear();
  owner_.on_closed(shared_from_this(), reason, detail);
}

}  // namespace baton::p2p

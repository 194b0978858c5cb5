// A blocking P2P client for tests: connects to a transport's port with a
// plain POSIX socket and speaks as much of the protocol as a test needs —
// garbage, a handshake as any key, sealed frames, tampered frames. Used by
// the transport's own tests and by tests that attack a real batond.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "p2p/frame.h"
#include "p2p/handshake.h"
#include "p2p/secure_channel.h"

namespace baton::p2p::testing {

class P2pClient {
 public:
  explicit P2pClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{0, 200 * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~P2pClient() { ::close(fd_); }
  P2pClient(const P2pClient&) = delete;
  P2pClient& operator=(const P2pClient&) = delete;

  bool ok() const { return connected_; }

  // The client's own port: the transport names a connection "ip:port" by it.
  std::uint16_t local_port() const {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
    return ntohs(addr.sin_port);
  }

  // Writes all of `bytes` (stops quietly if the server hung up).
  void write(chain::ByteView bytes) {
    std::size_t at = 0;
    while (at < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return;
      at += static_cast<std::size_t>(n);
    }
  }

  // Reads exactly n bytes within `timeout`; nullopt on EOF, error or timeout.
  std::optional<chain::Bytes> read_exact(
      std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
    chain::Bytes out(n);
    std::size_t at = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (at < n && std::chrono::steady_clock::now() < deadline) {
      const ssize_t r = ::recv(fd_, out.data() + at, n - at, 0);
      if (r == 0) return std::nullopt;
      if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return std::nullopt;
      if (r > 0) at += static_cast<std::size_t>(r);
    }
    if (at < n) return std::nullopt;
    return out;
  }

  // One frame body (plaintext during the handshake).
  std::optional<chain::Bytes> read_frame() {
    auto prefix = read_exact(kFramePrefixSize);
    if (!prefix) return std::nullopt;
    const auto& p = *prefix;
    const std::uint32_t n = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                            (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
    return read_exact(n);
  }

  // True once the server has closed the connection (EOF or reset), reading
  // and discarding whatever it sent before.
  bool closed_by_server(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::uint8_t buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      const ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r == 0) return true;
      if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
    }
    return false;
  }

  // Runs the handshake as the dialler with identity `key`. On success the
  // client can send_message(); nullopt when the server refused or closed.
  std::optional<SessionKeys> handshake(const chain::SigningKey& key, const std::string& chain_id,
                                       const chain::Hash& genesis_hash,
                                       const std::vector<PeerId>& members) {
    HandshakeOptions o;
    o.chain_id = chain_id;
    o.genesis_hash = genesis_hash;
    o.members = {members.begin(), members.end()};
    Handshake hs(key, chain::X25519SecretKey::generate(), HandshakeRole::initiator, o);
    write(encode_frame(hs.hello()));
    auto server_hello = read_frame();
    if (!server_hello) return std::nullopt;
    HandshakeStep step = hs.on_message(*server_hello);
    if (!step.send) return std::nullopt;
    write(encode_frame(*step.send));
    auto server_auth = read_frame();
    if (!server_auth) return std::nullopt;
    step = hs.on_message(*server_auth);
    if (!step.done) return std::nullopt;
    sealer_ = std::make_unique<FrameSealer>(step.done->keys.send);
    return step.done->keys;
  }

  // The wire bytes of one sealed message frame (after handshake()); write()
  // them as they are, or alter them first.
  chain::Bytes seal(chain::ByteView message, EnvelopeKind kind = EnvelopeKind::message) {
    chain::Bytes wire;
    sealer_->seal(kind, message, wire);
    return wire;
  }
  void send_message(chain::ByteView message) { write(seal(message)); }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::unique_ptr<FrameSealer> sealer_;
};

}  // namespace baton::p2p::testing

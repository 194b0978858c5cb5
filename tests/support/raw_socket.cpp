#include "tests/support/raw_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace baton::testing {

RawSocket::RawSocket(std::uint16_t port, RawSocketOptions options) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(options.receive_timeout);
  timeval tv{static_cast<time_t>(us.count() / 1'000'000),
             static_cast<suseconds_t>(us.count() % 1'000'000)};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (options.receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &options.receive_buffer,
                 sizeof options.receive_buffer);
  }
  if (options.from != nullptr) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, options.from, &local.sin_addr) != 1) return;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawSocket::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::size_t RawSocket::send_some(std::string_view bytes) {
  const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::optional<std::string> RawSocket::read(int flags) {
  char buf[8192];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, flags);
  if (n == 0) return std::nullopt;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return std::string();
    return std::nullopt;
  }
  return std::string(buf, static_cast<std::size_t>(n));
}

std::optional<std::string> RawSocket::read_some() { return read(0); }

std::optional<std::string> RawSocket::read_now() { return read(MSG_DONTWAIT); }

bool RawSocket::closed_by_server() {
  char c;
  return ::recv(fd_, &c, 1, 0) == 0;
}

std::string RawSocket::read_all() {
  std::string out;
  for (;;) {
    auto got = read(0);
    if (!got || got->empty()) break;
    out += *got;
  }
  return out;
}

}  // namespace baton::testing

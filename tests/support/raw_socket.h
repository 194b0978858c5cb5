// A raw TCP client socket to a loopback port, for the requests a
// well-behaved HTTP client never sends: a header that drips in, a request
// that never ends, answers never read, connections from several loopback
// addresses (the admin API's per-client limits).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace baton::testing {

struct RawSocketOptions {
  const char* from = nullptr;  // the loopback address to connect from (127.0.0.0/8); null: any
  std::chrono::milliseconds receive_timeout{5000};  // how long a blocking read waits
  int receive_buffer = 0;  // > 0: a small receive window, set before connecting
};

class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port, RawSocketOptions options = {});
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool ok() const { return ok_; }
  // Sends every byte (blocking); false when the connection failed.
  bool send(std::string_view bytes);
  // Sends what the kernel takes now without waiting; the bytes taken.
  std::size_t send_some(std::string_view bytes);
  // What arrives within the receive timeout: "" when nothing did, nullopt
  // once the server closed the connection.
  std::optional<std::string> read_some();
  // The same without waiting at all.
  std::optional<std::string> read_now();
  // True when the server closes the connection within the receive timeout.
  bool closed_by_server();
  // Everything until the server closes or the receive timeout passes.
  std::string read_all();

 private:
  std::optional<std::string> read(int flags);
  int fd_ = -1;
  bool ok_ = false;
};

}  // namespace baton::testing

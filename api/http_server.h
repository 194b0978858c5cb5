// A small HTTP/1.1 server (Boost.Beast) for the admin API: one thread, one
// handler function, bounded request bodies, bounded connections and deadlines
// on every phase of a request, so that no local process can lock the
// operators, monitoring and the CLI out (docs/OPERATIONS.md, "Admin API").
//
// Deadlines: a connection may wait `idle_timeout_ms` for the first byte of a
// request; from that byte the whole header must arrive within
// `header_timeout_ms` (slow-loris), the body within `body_timeout_ms` after
// the header, and the response must be taken within `write_timeout_ms`. A
// connection that misses one is closed.
// Limits: at `max_connections`, or at `max_connections_per_client` for the
// new connection's address, an open connection gives way to the new one
// (api/http_admission.h: idle ones first, then ones still sending a
// request, last ones whose answer the client does not take; least recently
// active first).
//
// Transports (issue 12): plain TCP, TLS over TCP (`tls` set: the server's
// certificate and key, api/admin_tls.h; TLS 1.2 or newer, the handshake
// within header_timeout_ms), or a Unix socket file (`unix_socket` set: the
// file is created with `unix_socket_mode`, and `unix_socket_group` when
// given, before the server listens, so that no one else can connect in
// between; a stale socket file no server answers on is replaced, anything
// else at that path is refused). Each request says which one it came over
// (HttpRequest::transport): file permissions authenticate the socket.
// On a Unix socket a connection's "client" for the limits is its peer's uid.
//
// Long-polls: a handler that has no answer yet returns an HttpWait. The
// request is parked without holding the thread: the server asks the wait's
// `ready` again after each wake_waiting() and answers with what it returns,
// or with `timeout_answer` once the wait (at most `max_wait_ms`) is over. A
// parked connection is ConnectionPhase::waiting for admission: it gives way
// after idle ones and before ones still sending or taking an answer.
//
// Threading: start() spawns one thread running the server's io_context; the
// handler and every `ready` are called on that thread, one request at a time
// per connection. The handler may block briefly (the node hands requests to
// its event loop and waits); keep it under a second. wake_waiting() may be
// called from any thread. stop() closes the listener and every connection
// and joins the thread; it is idempotent and is called by the destructor.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "chain/result.h"
#include "api/admin_tls.h"
#include "api/config.h"

namespace baton::api {

enum class HttpTransport { tcp, tls, unix_socket };

struct HttpRequest {
  HttpTransport transport = HttpTransport::tcp;  // what the request came over
  std::string method;                            // "GET", "POST", ...
  std::string target;                            // path and query, e.g. "/block/12"
  std::string content_type;
  std::string host;           // the Host header as sent ("" when absent)
  std::string origin;         // the Origin header ("" when absent)
  unsigned version = 11;      // 10 for HTTP/1.0, 11 for HTTP/1.1
  std::string authorization;  // the Authorization header ("" when absent)
  std::string agent_api;      // X-Baton-Agent-Api: where a partner agent serves its API
  std::string cookie;         // the Cookie header ("" when absent; the web console's session)
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Further headers (name, value), e.g. Location, Set-Cookie, Content-Security-Policy.
  std::vector<std::pair<std::string, std::string>> headers = {};
};

// A long-poll: no answer yet (see the comment at the top).
struct HttpWait {
  std::chrono::milliseconds wait{0};
  // The answer once there is one; nullopt: keep waiting. Server thread.
  std::function<std::optional<HttpResponse>()> ready;
  HttpResponse timeout_answer;
};

// What a handler gives back: an answer now, or a wait.
using HttpAnswer = std::variant<HttpResponse, HttpWait>;
using HttpHandler = std::function<HttpAnswer(const HttpRequest&)>;

struct HttpServerOptions {
  HostPort listen{"127.0.0.1", 0};  // port 0: pick a free one (tests)
  std::size_t max_body_bytes = 4u << 20;
  std::size_t max_connections = 64;
  std::size_t max_connections_per_client = 32;
  std::uint32_t idle_timeout_ms = 30'000;
  std::uint32_t header_timeout_ms = 5'000;
  std::uint32_t body_timeout_ms = 30'000;
  std::uint32_t write_timeout_ms = 30'000;
  // TLS on `listen` (absent: plain HTTP). Ignored with unix_socket.
  std::shared_ptr<const TlsIdentity> tls;
  // Non-empty: serve on this Unix socket file instead of `listen`.
  std::filesystem::path unix_socket;
  unsigned unix_socket_mode = 0600;
  std::string unix_socket_group;       // empty: the process's group
  std::uint32_t max_wait_ms = 60'000;  // the longest an HttpWait is kept parked
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. Fails with a sentence when the address cannot
  // be resolved or bound (e.g. the port is in use), the TLS identity is
  // refused, or the socket file cannot be made or given its mode and group.
  Status start();
  // The bound port (useful with port 0; 0 on a Unix socket). Precondition:
  // start() succeeded.
  std::uint16_t port() const;
  // Asks every parked request's `ready` again (on the server's thread, soon
  // after this returns). Thread-safe; does nothing once stopped.
  void wake_waiting();
  // Also removes the Unix socket file this server made.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::api

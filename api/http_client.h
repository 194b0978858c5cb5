// A minimal blocking HTTP/1.1 client (Boost.Beast) for talking to a node's
// admin API: the `baton` CLI, the integration tests and the benchmark use it.
// One request per call, one connection per HttpClient (kept alive between
// calls, reopened when the server closed it).
//
// Three ways to a node (issue 12; docs/OPERATIONS.md, "Admin API"):
//   http://HOST:PORT   plain HTTP, for loopback;
//   https://HOST:PORT  TLS, with the node's certificate pinned by its SHA-256
//                      fingerprint (api/admin_tls.h): no certificate
//                      authority is trusted, and a server showing another
//                      certificate is refused after the handshake, before
//                      any byte of a request (so no token) is sent;
//   unix:/PATH         the node's Unix socket file.
// An Authorization header is never sent in clear text off the host: over
// plain HTTP, a request that carries one fails unless the connection's
// peer address is a loopback address.
//
// Not thread-safe: one HttpClient per thread; only cancel() may be called
// from another.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "chain/result.h"

namespace baton::api {

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

// "http://host:port", "https://host:port" (a path is ignored) or
// "unix:/path/to/socket".
struct HttpUrl {
  enum class Scheme { http, https, unix_socket };
  Scheme scheme = Scheme::http;
  std::string host;         // unix: "localhost" (what the Host header says)
  std::string port;         // unix: ""
  std::string socket_path;  // unix only
  std::string to_string() const;
};
Result<HttpUrl> parse_http_url(std::string_view url);

// Error codes for HttpClient::request failures. `wrong_certificate`: the
// server's certificate is not the pinned one; `clear_text_token`: a request
// with an Authorization header to a non-loopback peer over plain HTTP.
enum class HttpFailure : int {
  bad_url = 1,
  unreachable = 2,
  timeout = 3,
  protocol = 4,
  wrong_certificate = 5,
  clear_text_token = 6,
};

class HttpClient {
 public:
  // Fails on a malformed URL, and on an https URL without a pin or with a
  // malformed one (code HttpFailure::bad_url). `cert_sha256`: the node's
  // certificate fingerprint (parse_cert_sha256's forms); required for https,
  // ignored otherwise.
  static Result<std::unique_ptr<HttpClient>> connect_to(
      std::string_view base_url, std::chrono::milliseconds timeout = std::chrono::seconds(10),
      std::string_view cert_sha256 = {});
  ~HttpClient();

  // Sends `method target` with `body`; errors (code HttpFailure) say the node
  // could not be reached or answered garbage. Any HTTP status is a reply.
  Result<HttpReply> request(std::string_view method, std::string_view target,
                            std::string_view body = {},
                            std::string_view content_type = "application/json");
  Result<HttpReply> get(std::string_view target) { return request("GET", target); }

  // Sends `name: value` with every later request (e.g. "Authorization",
  // "Bearer TOKEN"); an empty value stops sending it.
  void set_header(std::string name, std::string value);

  // Ends the request in progress (e.g. a long-poll, from the thread that
  // stops its owner) and makes every later one fail at once, with
  // HttpFailure::unreachable. Thread-safe.
  void cancel();

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::api

// A minimal blocking HTTP/1.1 client (Boost.Beast) for talking to a node's
// admin API: the `baton` CLI, the integration tests and the benchmark use it.
// One request per call, one connection per HttpClient (kept alive between
// calls, reopened when the server closed it).
//
// Not thread-safe: one HttpClient per thread.
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

// "http://host:port" (a path is ignored; https is refused).
struct HttpUrl {
  std::string host;
  std::string port;
};
Result<HttpUrl> parse_http_url(std::string_view url);

// Error codes for HttpClient::request failures.
enum class HttpFailure : int { bad_url = 1, unreachable = 2, timeout = 3, protocol = 4 };

class HttpClient {
 public:
  // Fails on a malformed URL (code HttpFailure::bad_url).
  static Result<std::unique_ptr<HttpClient>> connect_to(
      std::string_view base_url, std::chrono::milliseconds timeout = std::chrono::seconds(10));
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

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::api

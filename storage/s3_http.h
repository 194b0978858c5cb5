// One signed S3 HTTP exchange over libcurl, with retries. Internal to
// storage/ (used by s3_store.cpp); not part of the public API.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "chain/crypto.h"
#include "chain/result.h"
#include "storage/s3_options.h"

namespace baton::storage::s3 {

struct HttpRequest {
  std::string method;
  std::string path;  // raw, "/bucket/key"
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, signed
  chain::ByteView body;                                      // must outlive the call
  // The most response body bytes to accept: a longer body is cut off there
  // and the response has body_too_large set (not retried).
  std::uint64_t max_body = UINT64_MAX;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool body_too_large = false;  // the server sent more than request.max_body
};

// A reusable connection (one libcurl easy handle). Not thread-safe: use one
// per thread.
class Connection {
 public:
  explicit Connection(const S3Options& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `request`, retrying on connection errors, timeouts, 5xx and 429.
  // Returns the final response whatever its status (the caller maps 4xx to
  // errors with describe_failure); fails with StoreErrc::unavailable when no
  // response came after the retries.
  Result<HttpResponse> send(const HttpRequest& request);

 private:
  Result<HttpResponse> send_once(const HttpRequest& request, const std::string& payload_sha256);

  const S3Options& options_;
  void* curl_ = nullptr;  // CURL*
};

// The error for a non-2xx response: 403 -> access_denied, NoSuchBucket (the
// error reply's Code, s3_xml.h) -> no_bucket, 404 -> not_found, else
// bad_response; `what` names the operation.
Error describe_failure(const HttpResponse& response, const S3Options& options,
                       const std::string& what);

}  // namespace baton::storage::s3

// AWS Signature Version 4 for S3 requests, built by hand so that every piece
// of the canonical request can be tested against AWS's published examples
// (tests/vault/sigv4_test.cpp). Pure functions: no clock, no I/O; the caller
// supplies the timestamp.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chain/crypto.h"

namespace baton::storage::sigv4 {

// SHA-256 of the empty payload, hex.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Request {
  std::string method;  // "GET", "PUT", ...
  std::string path;    // raw path, "/bucket/key" (not yet encoded)
  std::vector<std::pair<std::string, std::string>> query;  // raw names and values
  std::vector<std::pair<std::string, std::string>>
      headers;                 // must include host, x-amz-date, x-amz-content-sha256
  std::string payload_sha256;  // hex, or "UNSIGNED-PAYLOAD"
};

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;
  std::string service = "s3";
};

// RFC 3986 percent-encoding as SigV4 defines it: unreserved characters
// (A-Z a-z 0-9 - . _ ~) stay, everything else is %XX (upper case); '/' stays
// when `keep_slash`.
std::string uri_encode(std::string_view s, bool keep_slash);

// name=value pairs encoded and sorted by name then value, joined by '&'.
std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query);

// Lower-case header names, sorted, joined by ';'.
std::string signed_headers(const Request& request);

// The six lines of the canonical request, '\n'-separated.
std::string canonical_request(const Request& request);

// "AWS4-HMAC-SHA256\n" amz_date "\n" scope "\n" hex(sha256(canonical_request)).
std::string string_to_sign(const Request& request, const Credentials& creds,
                           std::string_view amz_date);

std::array<std::uint8_t, 32> signing_key(const Credentials& creds, std::string_view yyyymmdd);

// Hex signature and the full Authorization header value.
std::string signature(const Request& request, const Credentials& creds, std::string_view amz_date);
std::string authorization(const Request& request, const Credentials& creds,
                          std::string_view amz_date);

// The Host header for an endpoint URL "scheme://[user@]host[:port][/path]":
// the host lower-cased (IPv6 in brackets) and the port, left out when it is
// the scheme's default (80 for http, 443 for https) as curl, browsers and the
// AWS SDKs send it (RFC 3986 §6.2.3). The S3 client signs this value and
// sends it as the Host header itself, so the two never differ; signing
// "h:443" while the wire said "h" made every request fail with 403.
std::string host_header(std::string_view endpoint_url);

// "YYYYMMDDTHHMMSSZ" for a Unix time (UTC).
std::string amz_date(std::int64_t unix_seconds);

std::string sha256_hex(chain::ByteView data);
std::array<std::uint8_t, 32> hmac_sha256(chain::ByteView key, std::string_view message);

}  // namespace baton::storage::sigv4

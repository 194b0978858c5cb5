#include "storage/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace baton::storage::sigv4 {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Trim, and collapse runs of spaces to one (SigV4 canonical header values).
std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> canonical_headers(const Request& r) {
  std::vector<std::pair<std::string, std::string>> h;
  for (const auto& [name, value] : r.headers) h.emplace_back(lower(name), canonical_value(value));
  std::sort(h.begin(), h.end());
  return h;
}

std::string credential_scope(const Credentials& c, std::string_view amz_date) {
  return std::string(amz_date.substr(0, 8)) + "/" + c.region + "/" + c.service + "/aws4_request";
}

}  // namespace

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : query) q.emplace_back(uri_encode(k, false), uri_encode(v, false));
  std::sort(q.begin(), q.end());
  std::string out;
  for (const auto& [k, v] : q) {
    if (!out.empty()) out.push_back('&');
    out += k + "=" + v;
  }
  return out;
}

std::string signed_headers(const Request& request) {
  std::string out;
  for (const auto& [name, value] : canonical_headers(request)) {
    if (!out.empty()) out.push_back(';');
    out += name;
  }
  return out;
}

std::string canonical_request(const Request& r) {
  std::string out = r.method + "\n" + uri_encode(r.path.empty() ? "/" : r.path, true) + "\n" +
                    canonical_query(r.query) + "\n";
  for (const auto& [name, value] : canonical_headers(r)) out += name + ":" + value + "\n";
  out += "\n" + signed_headers(r) + "\n" + r.payload_sha256;
  return out;
}

std::string string_to_sign(const Request& request, const Credentials& creds,
                           std::string_view amz_date) {
  return "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + credential_scope(creds, amz_date) +
         "\n" + sha256_hex(chain::as_bytes(canonical_request(request)));
}

std::array<std::uint8_t, 32> signing_key(const Credentials& c, std::string_view yyyymmdd) {
  const std::string k0 = "AWS4" + c.secret_access_key;
  auto k = hmac_sha256(chain::as_bytes(k0), yyyymmdd);
  k = hmac_sha256(k, c.region);
  k = hmac_sha256(k, c.service);
  return hmac_sha256(k, "aws4_request");
}

std::string signature(const Request& request, const Credentials& creds, std::string_view amz_date) {
  const auto key = signing_key(creds, amz_date.substr(0, 8));
  return chain::to_hex(hmac_sha256(key, string_to_sign(request, creds, amz_date)));
}

std::string authorization(const Request& request, const Credentials& creds,
                          std::string_view amz_date) {
  return "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" +
         credential_scope(creds, amz_date) + ",SignedHeaders=" + signed_headers(request) +
         ",Signature=" + signature(request, creds, amz_date);
}

std::string host_header(std::string_view url) {
  std::string scheme;
  if (const auto p = url.find("://"); p != std::string_view::npos) {
    scheme = lower(std::string(url.substr(0, p)));
    url.remove_prefix(p + 3);
  }
  std::string_view authority = url.substr(0, url.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  const auto close = authority.rfind(']');
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  const bool default_port =
      port.empty() || (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
  std::string out = lower(std::string(host));
  if (!default_port) out += ":" + std::string(port);
  return out;
}

std::string amz_date(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string sha256_hex(chain::ByteView data) {
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1)
    std::abort();
  return chain::to_hex(out);
}

std::array<std::uint8_t, 32> hmac_sha256(chain::ByteView key, std::string_view message) {
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
            &len)) {
    std::abort();
  }
  return out;
}

}  // namespace baton::storage::sigv4

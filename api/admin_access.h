// Which HTTP requests the admin API answers at all, before any endpoint sees
// them (docs/OPERATIONS.md, "Admin API"). The API has no authentication yet
// (issue 12 brings a token), and a browser on the operator's machine can
// reach loopback: a web page could POST a signed transaction cross-site, and
// DNS rebinding (a name of the attacker's that resolves to 127.0.0.1) would
// let its scripts read every answer. Three rules close both:
//   - Host must name a loopback address ("localhost", 127.0.0.0/8, [::1]),
//     the configured admin_listen host, or a name in [admin_api]
//     allowed_hosts; HTTP/1.1 requests without Host are refused;
//   - an Origin header, when sent, must name one of those hosts;
//   - a request other than GET or HEAD must carry a Content-Type that is not
//     one of the three a browser may send cross-site without asking first
//     (text/plain, application/x-www-form-urlencoded, multipart/form-data)
//     and is not missing.
// Pure: parses text only, no name resolution. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_server.h"

namespace baton::api {

struct AdminAccessPolicy {
  // Lower-case host names or address literals (IPv6 without brackets), port
  // left out, accepted in Host and Origin besides loopback.
  std::vector<std::string> extra_hosts;
};

// The policy for an API listening on `listen_host` with `allowed_hosts` from
// node.toml: a wildcard listen address (0.0.0.0, ::) adds nothing.
AdminAccessPolicy admin_access_policy(std::string_view listen_host,
                                      const std::vector<std::string>& allowed_hosts);

enum class AdminRefusal {
  missing_host,         // HTTP/1.1 without Host
  foreign_host,         // Host names something else than this node
  foreign_origin,       // a page of another origin sent it
  simple_content_type,  // a state change a page could send without a preflight
};

// nullopt when the request may go on to its endpoint.
std::optional<AdminRefusal> check_admin_request(const HttpRequest& request,
                                                const AdminAccessPolicy& policy);

// The answer for a refusal: 400, 403 or 415 with {"error": sentence}.
HttpResponse admin_refusal_response(AdminRefusal refusal, const HttpRequest& request);

// --- parts, exposed for tests ---

// The host of an authority "host[:port]" or "[v6][:port]", lower-cased,
// without brackets; nullopt when it is malformed (empty, user info, a path,
// spaces, a bad port).
std::optional<std::string> authority_host(std::string_view authority);
// "localhost", an IPv4 literal in 127.0.0.0/8, or ::1 (also IPv4-mapped).
bool is_loopback_host(std::string_view host);
// The media type of a Content-Type value, lower-cased, without parameters.
std::string media_type(std::string_view content_type);

}  // namespace baton::api

#include "api/admin_access.h"

#include <algorithm>
#include <cctype>

#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>

namespace baton::api {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  if (!std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  return std::stoul(std::string(p)) <= 65535;
}

bool host_allowed(std::string_view host, const AdminAccessPolicy& policy) {
  if (is_loopback_host(host)) return true;
  return std::find(policy.extra_hosts.begin(), policy.extra_hosts.end(), host) !=
         policy.extra_hosts.end();
}

// "http://host[:port]" (or https): the host; nullopt for anything else,
// including the opaque origin "null".
std::optional<std::string> origin_host(std::string_view origin) {
  const std::string o = lower(trim(origin));
  std::string_view rest;
  if (o.starts_with("http://")) {
    rest = std::string_view(o).substr(7);
  } else if (o.starts_with("https://")) {
    rest = std::string_view(o).substr(8);
  } else {
    return std::nullopt;
  }
  return authority_host(rest);
}

}  // namespace

std::optional<std::string> authority_host(std::string_view authority) {
  if (authority.empty()) return std::nullopt;
  for (char c : authority) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '@' || c == '/' || c == '\\' || c == '?' || c == '#') {
      return std::nullopt;
    }
  }
  std::string_view host;
  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
      if (!valid_port(port)) return std::nullopt;
    }
    if (host.empty() || host.find(':') == std::string_view::npos) return std::nullopt;
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (!valid_port(port)) return std::nullopt;
    }
    if (host.empty()) return std::nullopt;
  }
  return lower(host);
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return false;
  if (address.is_loopback()) return true;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
        .is_loopback();
  }
  return false;
}

std::string media_type(std::string_view content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

AdminAccessPolicy admin_access_policy(std::string_view listen_host,
                                      const std::vector<std::string>& allowed_hosts) {
  AdminAccessPolicy policy;
  std::string listen = lower(listen_host);
  if (listen.size() >= 2 && listen.front() == '[' && listen.back() == ']') {
    listen = listen.substr(1, listen.size() - 2);
  }
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(listen, ec);
  const bool wildcard = listen.empty() || (!ec && address.is_unspecified());
  if (!wildcard) policy.extra_hosts.push_back(listen);
  for (const std::string& h : allowed_hosts) {
    std::string name = lower(h);
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
      name = name.substr(1, name.size() - 2);
    }
    policy.extra_hosts.push_back(std::move(name));
  }
  return policy;
}

std::optional<AdminRefusal> check_admin_request(const HttpRequest& request,
                                                const AdminAccessPolicy& policy) {
  if (request.host.empty()) {
    // Every browser sends Host; only an HTTP/1.0 script may leave it out.
    if (request.version >= 11) return AdminRefusal::missing_host;
  } else {
    const auto host = authority_host(trim(request.host));
    if (!host || !host_allowed(*host, policy)) return AdminRefusal::foreign_host;
  }
  if (!request.origin.empty()) {
    const auto host = origin_host(request.origin);
    if (!host || !host_allowed(*host, policy)) return AdminRefusal::foreign_origin;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    const std::string type = media_type(request.content_type);
    if (type.empty() || type == "text/plain" || type == "application/x-www-form-urlencoded" ||
        type == "multipart/form-data") {
      return AdminRefusal::simple_content_type;
    }
  }
  return std::nullopt;
}

HttpResponse admin_refusal_response(AdminRefusal refusal, const HttpRequest& request) {
  int status = 403;
  std::string why;
  switch (refusal) {
    case AdminRefusal::missing_host:
      status = 400;
      why = "the request has no Host header; HTTP/1.1 requires one";
      break;
    case AdminRefusal::foreign_host:
      why =
          "the Host header does not name this node's admin API (loopback, admin_listen or "
          "[admin_api] allowed_hosts in node.toml); this refuses pages that reach the API "
          "through DNS rebinding";
      break;
    case AdminRefusal::foreign_origin:
      why =
          "the request comes from a web page of another origin; the admin API answers only "
          "pages served from its own hosts";
      break;
    case AdminRefusal::simple_content_type:
      status = 415;
      why = "a " + request.method +
            " request needs a Content-Type such as application/octet-stream or "
            "application/json (not text/plain, a form type or none), so that no web page can "
            "send it cross-site";
      break;
  }
  nlohmann::json body{{"error", why}};
  return {status, "application/json",
          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

}  // namespace baton::api

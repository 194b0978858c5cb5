#include "node/console.h"

#include <algorithm>
#include <cctype>

#include "api/admin_access.h"
#include "api/admin_token.h"
#include "api/http_json.h"
#include "api/training_json.h"
#include "node/console_html.h"
#include "node/console_pages.h"

namespace baton::node {
namespace {

using console::escape;
using console::Page;

constexpr std::string_view kSecurityPolicy =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";
constexpr std::size_t kMaxNextChars = 512;

void add_security_headers(api::HttpResponse& r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(kSecurityPolicy));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("X-Frame-Options", "DENY");
}

// A console path to go to after a login: only /console/..., with no
// characters that could leave the site or the header ("//", "\", "..",
// control characters, quotes).
bool safe_next(std::string_view next) {
  if (next.size() > kMaxNextChars || !next.starts_with("/console")) return false;
  if (next.find("//") != std::string_view::npos || next.find("..") != std::string_view::npos)
    return false;
  return std::all_of(next.begin(), next.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || std::string_view("/_.~%?=&+-").find(c) != std::string_view::npos;
  });
}

// The value of cookie `name` in a Cookie header ("" when absent).
std::string cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    const auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name)
      return std::string(part.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    header = header.substr(semi + 1);
  }
  return {};
}

std::string login_form(std::string_view next, std::string_view message) {
  std::string body = "<h1>Log in</h1>";
  if (!message.empty()) body += "<p class=\"warn\">" + escape(message) + "</p>";
  body +=
      "<p>The console needs this node's admin token: the file admin.token beside node.toml "
      "(<code>[admin_api] token_file</code>), readable by the node's operators only.</p>"
      "<form method=\"post\" action=\"/console/login\"><input type=\"hidden\" name=\"next\" "
      "value=\"" +
      escape(safe_next(next) ? next : "/console/", 0) +
      "\"><label>admin token <input type=\"password\" name=\"token\" size=\"70\" "
      "autocomplete=\"current-password\"></label> <input type=\"submit\" value=\"Log in\">"
      "</form>";
  return body;
}

// The token as typed: the hex alone or the file's whole line.
std::string typed_token(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.erase(text.begin());
  if (text.starts_with(api::kAdminTokenPrefix)) text.erase(0, api::kAdminTokenPrefix.size());
  return text;
}

}  // namespace

std::string console_session(std::string_view token) {
  if (token.empty()) return {};
  return chain::sha256("baton/console-session/v1 " + std::string(token)).hex();
}

Console::Console(AdminNode& node, ConsoleSettings settings)
    : node_(node), settings_(std::move(settings)), session_(console_session(settings_.token)) {}

bool Console::owns(std::string_view path) {
  return path == "/console" || path.starts_with("/console/");
}

bool Console::is_login_post(const api::HttpRequest& request) {
  return request.method == "POST" && api::target_path(request.target) == "/console/login" &&
         api::media_type(request.content_type) == "application/x-www-form-urlencoded";
}

bool Console::authenticated(const api::HttpRequest& request) const {
  if (request.transport == api::HttpTransport::unix_socket) return true;
  if (settings_.token.empty()) return false;
  if (api::bearer_matches(request.authorization, settings_.token)) return true;
  const std::string cookie = cookie_value(request.cookie, kConsoleCookie);
  return api::bearer_matches("Bearer " + cookie, session_);
}

api::HttpResponse Console::handle(const api::HttpRequest& request) {
  const std::string_view path = api::target_path(request.target);
  const auto html = [&](const Page& p) {
    api::HttpResponse r;
    if (!p.location.empty()) {
      r.status = 303;
      r.content_type = "text/plain; charset=utf-8";
      r.headers.emplace_back("Location", p.location);
    } else {
      r.status = p.status;
      r.content_type = "text/html; charset=utf-8";
      r.body = console::page(p.title, settings_.node_name, settings_.chain_id, p.body);
    }
    add_security_headers(r);
    return r;
  };
  if (request.transport == api::HttpTransport::tcp &&
      !api::is_loopback_host(settings_.admin_listen.host)) {
    return html({403, "Refused",
                 "<h1>Refused</h1><p>This admin address is off loopback without TLS: the console "
                 "is not served here (set tls = true under [admin_api] in node.toml, or open it "
                 "through an SSH tunnel to a loopback admin address).</p>",
                 ""});
  }
  if (path == "/console/login") {
    api::HttpResponse r = login(request);
    add_security_headers(r);
    return r;
  }
  if (path == "/console/logout") {
    api::HttpResponse r =
        html({200, "Logged out",
              "<h1>Logged out</h1><p>" + console::link("/console/login", "Log in") + "</p>", ""});
    r.headers.emplace_back("Set-Cookie", std::string(kConsoleCookie) +
                                             "=; Max-Age=0; Path=/console; HttpOnly; "
                                             "SameSite=Strict");
    return r;
  }
  if (!authenticated(request)) {
    const std::string next(request.target);
    return html({401, "Log in", login_form(next, ""), ""});
  }
  if (request.method != "GET" && request.method != "HEAD") {
    return html({405, "Not allowed", "<h1>Not allowed</h1><p>The console is read-only.</p>", ""});
  }
  return html(render(request, path));
}

api::HttpResponse Console::login(const api::HttpRequest& request) {
  const bool post = request.method == "POST";
  const std::string next = post ? console::form_param(request.body, "next")
                                : console::query_param(request.target, "next");
  const std::string typed = typed_token(post ? console::form_param(request.body, "token")
                                             : console::query_param(request.target, "token"));
  const auto answer = [&](int status, const std::string& body) {
    api::HttpResponse r;
    r.status = status;
    r.content_type = "text/html; charset=utf-8";
    r.body = console::page("Log in", settings_.node_name, settings_.chain_id, body);
    return r;
  };
  if (!post && request.method != "GET") return answer(405, login_form(next, "Use the form."));
  if (typed.empty())
    return answer(request.transport == api::HttpTransport::unix_socket ? 200 : 401,
                  login_form(next, ""));
  if (settings_.token.empty() || !api::bearer_matches("Bearer " + typed, settings_.token))
    return answer(401, login_form(next, "That is not this node's admin token."));
  api::HttpResponse r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.headers.emplace_back("Location", safe_next(next) ? next : "/console/");
  r.headers.emplace_back("Set-Cookie",
                         std::string(kConsoleCookie) + "=" + session_ +
                             "; Path=/console; HttpOnly; SameSite=Strict" +
                             (request.transport == api::HttpTransport::tls ? "; Secure" : ""));
  return r;
}

Page Console::render(const api::HttpRequest& request, std::string_view path) {
  const std::shared_ptr<const chain::LedgerState> state = node_.committed_state();
  // The names follow the ledger's members (issue 18); built per page, a
  // few dozen entries at most.
  const MembersView members = node_.members_view();
  console::Names names;
  for (const auto& m : members.members) names[m.ed25519.hex()] = m.name;
  const console::ChainView view{node_.ledger(), state.get(), names};
  if (path == "/console") return {303, "", "", "/console/"};
  const std::string_view rest = path.substr(std::string_view("/console/").size());
  if (rest.empty()) return console::overview_page(view, node_.snapshot());
  if (rest == "blocks")
    return console::blocks_page(view, console::query_param(request.target, "top"));
  if (rest.starts_with("block/")) return console::block_page(view, rest.substr(6));
  if (rest.starts_with("tx/")) {
    const std::string_view hash = rest.substr(3);
    std::optional<std::string> pending;
    if (auto h = chain::Hash::from_hex(hash)) pending = node_.pending_transaction(*h);
    return console::tx_page(view, hash, pending);
  }
  if (rest == "search") {
    const std::string q = console::query_param(request.target, "q");
    bool pending = false;
    if (auto h = chain::Hash::from_hex(q)) pending = node_.pending_transaction(*h).has_value();
    return console::search_page(view, q, pending);
  }
  if (rest == "members") {
    return console::members_page(view, node_.snapshot(), node_.peers(), members,
                                 settings_.node_name);
  }
  if (rest == "runs" || rest.starts_with("run/")) {
    if (!state) return {503, "Runs", "<p>The node has not loaded its ledger yet; reload.</p>", ""};
    const nlohmann::json status = api::training_status_json(*state, settings_.chain_id);
    if (rest == "runs") return console::runs_page(status);
    return console::run_page(status, console::url_decode(rest.substr(4)));
  }
  return console::not_found_page("There is no console page " + std::string(path) + ".");
}

}  // namespace baton::node

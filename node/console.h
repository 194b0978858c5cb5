// The web console (issue 17): a read-only view of this node's ledger on its
// admin address, as server-rendered HTML and inline SVG. No script, no
// external fetch, one embedded stylesheet; works offline. docs/OPERATIONS.md,
// "The web console".
//
//   GET  /console/                 the chain: this node, the latest blocks
//   GET  /console/blocks?top=H     kBlocksPerPage blocks from H down
//   GET  /console/block/H          a block: header, transactions, refusals
//   GET  /console/tx/HASH          a transaction (committed or pending)
//   GET  /console/search?q=Q       a height, a block or tx hash, a run id
//   GET  /console/members          members and peers with their health
//   GET  /console/runs             the runs with their status
//   GET  /console/run/ID           a run: plan, turns, votes, AUC chart,
//                                  lineage graph, credits, privacy, rounds
//   GET  /console/login            the login form; with ?token=T (and
//                                  optionally next=/console/...) logs in
//   POST /console/login            the form (application/x-www-form-urlencoded
//                                  token=T&next=PATH)
//   GET  /console/logout           forgets the session cookie
//
// Authentication: the admin token (api/admin_token.h), as for the other
// token-protected endpoints: "Authorization: Bearer TOKEN", or the session
// cookie a login sets: baton_console = hex SHA-256("baton/console-session/v1 "
// || token), HttpOnly, SameSite=Strict, Path=/console (Secure over TLS). The
// cookie opens the console only: it is not the token, so it cannot sign.
// Over the Unix socket nothing is asked (the file's permissions
// authenticate); over plain HTTP off loopback the console is refused (403),
// like every token endpoint. A successful login answers 303 to `next` when
// it is a console path, else to /console/.
//
// Every answer carries Content-Security-Policy "default-src 'none';
// style-src 'unsafe-inline'; img-src data:; form-action 'self';
// frame-ancestors 'none'; base-uri 'none'", X-Content-Type-Options: nosniff,
// Referrer-Policy: no-referrer and Cache-Control: no-store.
//
// Thread: the admin HTTP server's (as AdminApi).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_server.h"
#include "chain/genesis.h"
#include "node/admin_node.h"
#include "node/console_pages.h"

namespace baton::node {

struct ConsoleSettings {
  std::string node_name;
  std::string chain_id;
  api::HostPort admin_listen;
  std::string token;  // the admin token; empty: no login succeeds
};

inline constexpr std::string_view kConsoleCookie = "baton_console";

// The session cookie's value for `token` (see above).
std::string console_session(std::string_view token);

class Console {
 public:
  // `node` outlives the console.
  Console(AdminNode& node, ConsoleSettings settings);

  // Whether `path` is the console's (/console or under /console/).
  static bool owns(std::string_view path);
  // The answer to a request for one of the console's paths. The caller has
  // passed it through api::check_admin_request (see login_request_checks).
  api::HttpResponse handle(const api::HttpRequest& request);
  // The login form's POST is form-encoded, a content type that the admin
  // API's CSRF rule refuses on other POSTs: it changes nothing but a cookie
  // of the browser that knows the token, so only Host and Origin are checked
  // for it. True for that request.
  static bool is_login_post(const api::HttpRequest& request);

 private:
  bool authenticated(const api::HttpRequest& request) const;
  api::HttpResponse login(const api::HttpRequest& request);
  console::Page render(const api::HttpRequest& request, std::string_view path);

  AdminNode& node_;
  const ConsoleSettings settings_;
  const std::string session_;  // console_session(token), "" without a token
};

}  // namespace baton::node

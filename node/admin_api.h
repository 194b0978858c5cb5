// The admin HTTP API of batond (docs/OPERATIONS.md, "Admin API"). Listens on
// loopback by default: it is for the hospital's operators and scripts, not
// for the network. Every reply is JSON except /metrics.
//
//   GET  /status            {"node","chain_id","height","tip_hash","round",
//                            "step","peers":[{"name","address","connected"}],
//                            "mempool":{"txs","bytes"},"halted"} and, when
//                            halted, "halt_reason" (a sentence) and
//                            "halt_cause" (ledger, checkpoint, signer_state:
//                            resumes by itself; consensus: needs an operator)
//   POST /tx                body: a serialized chain.pb.Transaction, either
//                            raw bytes (Content-Type application/octet-stream
//                            or application/x-protobuf) or lower/upper-case hex
//                            (Content-Type text/x-hex; white space ignored).
//                            202 {"accepted":true,"hash","nonce"};
//                            400 {"accepted":false,"error"} when invalid;
//                            415 for another content type;
//                            503 when the mempool is full or the node busy.
//   GET  /block/{height}    the committed block, decoded, with its exact
//                            stored bytes in hex; 404 when not there.
//   GET  /tx/{hash}         {"status":"committed","height","index",...} or
//                            {"status":"pending"}; 404 when unknown.
//   GET  /nonce/{ed25519}   {"next_nonce"}: the nonce the sender's next
//                            transaction should carry (counts its waiting ones).
//   GET  /metrics           Prometheus text format.
//   GET  /members           the members after the committed tip (they hold
//                            for the next block) and the membership changes
//                            waiting for their quorum (issue 18, §25):
//                            {"height", "members": [{"name", "ed25519",
//                            "x25519", "p2p_address", "power", "roles"}],
//                            "pending": [{"id", "kind", "name", "approvers",
//                            "approved_power", "quorum_power",
//                            "expires_at_height"}]}.
//   GET  /training          the training protocol's state after this node's
//                            tip: api/training_json.h, api::training_status_json
//                            (runs, turns, votes, lineage, open requests).
//   GET  /schema/{id}       the consortium schema of a schema id (issue 17,
//                            docs/PROTOCOL.md §23): {"schema_id", "frozen",
//                            "summaries": [{"member","height","rows"}],
//                            "schema" (the derived JSON text), "sha256",
//                            "width"}, or "error" in place of the last three
//                            when the summaries derive none; 404 when no
//                            member posted a summary for it.
//   GET  /models/check?run=ID, POST /models/repair [token],
//   GET  /models/repair?run=ID [token]
//                            forwarded to this hospital's partner agent
//                            (agent/agent_api.h has what they answer) off
//                            the server's thread (node/agent_forward.h);
//                            503 when no agent announced its API, or when
//                            AgentForwards::kMaxInFlight forwards are in
//                            flight.
//
// For the partner agent (`baton-agent`, issue 12), with the admin token:
//   GET  /agent/state?after=H[&wait_ms=W]
//                            204 when the node has nothing newer than H; with
//                            wait_ms, the node first waits up to W ms (at
//                            most kMaxAgentWaitMs) for a block above H and
//                            answers as soon as one commits. Else 200
//                            application/octet-stream: u64be height, then the
//                            training state's canonical bytes
//                            (chain::training_encoding; docs/PROTOCOL.md
//                            §18.6). Header X-Baton-Agent-Api: URL announces
//                            the agent's own API (loopback http only).
//   POST /agent/tx          body {"type": "TX_MODEL_VOTE", "payload_hex"}: the
//                            node signs the payload with its key and next
//                            nonce and submits it; replies as POST /tx. Only
//                            the five agent transaction types.
//   POST /agent/metrics     body: the agent's report of its own work
//                            (api/agent_report.h: one flat JSON object of
//                            known names, at most kMaxAgentReportBytes).
//                            204 when kept (it replaces the last one and
//                            shows in GET /metrics as baton_agent_*,
//                            node/agent_metrics.h); 413 when too large; 400
//                            {"error"} for an unknown name or a bad value.
//
// [token]: needs "Authorization: Bearer TOKEN" with the node's admin token
// (api/admin_token.h), else 401 {"error","token_file"}. Over the Unix
// socket no token is asked: the file's permissions authenticate. Over plain
// HTTP on a non-loopback admin_listen they answer 403 (batond refuses to
// start that way; this is a second line): a token is never accepted in
// clear text off the host, only over TLS or loopback.
//
// The web console under /console/ (node/console.h): HTML pages for a
// browser, behind the same token (a login sets a session cookie).
//
// Every request first passes api::check_admin_request (api/admin_access.h: Host,
// Origin, and a non-simple Content-Type on anything but GET/HEAD).
//
// Thread: called on the HTTP server's thread (see http_server.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chain/crypto.h"
#include "api/admin_access.h"
#include "node/admin_node.h"
#include "node/agent_forward.h"
#include "node/agent_metrics.h"
#include "node/console.h"
#include "api/config.h"
#include "api/http_server.h"

namespace baton::node {

// What the admin API knows of its node from the start and never asks again.
struct AdminApiSettings {
  std::string node_name;
  std::string chain_id;
  chain::Hash genesis_hash;
  api::HostPort admin_listen;              // where it listens: token endpoints only on loopback
  std::vector<std::string> allowed_hosts;  // [admin_api] allowed_hosts
  std::filesystem::path token_file;        // named in a 401, for the operator
  std::string token;                       // the admin token (api/admin_token.h)
};

class AdminApi {
 public:
  // The longest a GET /agent/state?wait_ms= waits (a longer wait_ms is cut
  // to it).
  static constexpr std::chrono::milliseconds kMaxAgentWaitMs{60'000};

  // `node` outlives the API.
  AdminApi(AdminNode& node, AdminApiSettings settings);
  // Thread: the HTTP server's (one request at a time). An HttpWait is a
  // long-poll, asked again when the node calls HttpServer::wake_waiting().
  api::HttpAnswer handle(const api::HttpRequest& request);
  // GET /models/check and /models/repair are forwarded off the server's
  // thread and parked (node/agent_forward.h); `wake` (the servers'
  // wake_waiting) is called from the forward's thread when its answer is
  // in. Set it once the servers run; stop_forwards() before they are
  // destroyed (no wake after it returns).
  void set_forward_wake(std::function<void()> wake);
  void stop_forwards();

 private:
  api::HttpResponse status();
  api::HttpResponse submit(const api::HttpRequest& request);
  api::HttpResponse block(std::string_view height_text);
  api::HttpResponse tx(std::string_view hash_text);
  api::HttpResponse nonce(std::string_view key_text);
  api::HttpResponse metrics();
  api::HttpResponse training();
  api::HttpResponse members();
  api::HttpResponse consortium_schema(std::string_view schema_id);
  // agent_api.cpp: the partner agent's endpoints.
  api::HttpAnswer agent_state(const api::HttpRequest& request);
  // 200 with the agent view's bytes when it is above `after`, else nothing.
  std::optional<api::HttpResponse> agent_state_above(std::uint64_t after);
  api::HttpResponse agent_tx(const api::HttpRequest& request);
  api::HttpResponse agent_report(const api::HttpRequest& request);
  api::HttpAnswer forward_to_agent(const api::HttpRequest& request);
  // Whether `request` may use a token-protected endpoint; the refusal when not.
  std::optional<api::HttpResponse> refuse_without_token(const api::HttpRequest& request) const;

  AdminNode& node_;
  const AdminApiSettings settings_;
  const api::AdminAccessPolicy access_;
  // Guards agent_api_, encoded_height_ and encoded_body_: batond serves the
  // admin API on TCP and, with [admin_api] unix_socket, on a second server
  // whose own thread calls the same handlers.
  std::mutex agent_mutex_;
  // The partner agent's own API ("http://127.0.0.1:PORT", as it announced
  // with its last GET /agent/state), where /models/* are forwarded; "" until
  // an agent announces one.
  std::string agent_api_;
  AgentForwards forwards_;
  Console console_;  // /console/... (node/console.h)
  // The partner agent's last report (POST /agent/metrics), in GET /metrics.
  AgentMetricsBoard agent_metrics_;
  // The last 200 of GET /agent/state: its height and body, shared by every
  // long-poll woken by the same commit.
  std::uint64_t encoded_height_ = 0;
  std::string encoded_body_;
};

}  // namespace baton::node

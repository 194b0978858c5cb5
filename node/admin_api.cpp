#include "node/admin_api.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <nlohmann/json.hpp>

#include "chain/block.h"
#include "chain/transaction.h"
#include "chain/validation.h"
#include "api/admin_access.h"
#include "api/admin_token.h"
#include "api/http_json.h"
#include "api/training_json.h"
#include "node/block_json.h"

namespace baton::node {
namespace {

using nlohmann::json;

api::HttpResponse reply(int status, const json& body) { return api::json_reply(status, body); }
api::HttpResponse error(int status, const std::string& message) {
  return api::json_error(status, message);
}

}  // namespace

AdminApi::AdminApi(AdminNode& node, AdminApiSettings settings)
    : node_(node),
      settings_(std::move(settings)),
      access_(api::admin_access_policy(settings_.admin_listen.host, settings_.allowed_hosts)),
      console_(node, ConsoleSettings{settings_.node_name, settings_.chain_id,
                                     settings_.admin_listen, settings_.token}) {}

api::HttpAnswer AdminApi::handle(const api::HttpRequest& request) {
  // The console's login form is form-encoded (Console::is_login_post): it
  // passes the Host and Origin checks, not the content-type one.
  api::HttpRequest checked_as;
  const bool login_post = Console::is_login_post(request);
  if (login_post) {
    checked_as.method = "GET";
    checked_as.target = request.target;
    checked_as.host = request.host;
    checked_as.origin = request.origin;
    checked_as.version = request.version;
  }
  if (const auto refused = api::check_admin_request(login_post ? checked_as : request, access_)) {
    return api::admin_refusal_response(*refused, request);
  }
  const std::string_view path = api::target_path(request.target);
  if (Console::owns(path)) return console_.handle(request);
  const bool get = request.method == "GET";
  if (get && path == "/status") return status();
  if (get && path == "/metrics") return metrics();
  if (path == "/tx" && request.method == "POST") return submit(request);
  if (get && path.starts_with("/block/")) return block(path.substr(7));
  if (get && path.starts_with("/tx/")) return tx(path.substr(4));
  if (get && path.starts_with("/nonce/")) return nonce(path.substr(7));
  if (get && path == "/training") return training();
  if (get && path == "/members") return members();
  if (get && path.starts_with("/schema/")) return consortium_schema(path.substr(8));
  if (get && path == "/models/check") return forward_to_agent(request);
  const bool protected_path = path.starts_with("/agent/") || path == "/models/repair";
  if (protected_path) {
    if (auto refused = refuse_without_token(request)) return *refused;
    if (get && path == "/agent/state") return agent_state(request);
    if (path == "/agent/tx" && request.method == "POST") return agent_tx(request);
    if (path == "/agent/metrics" && request.method == "POST") return agent_report(request);
    if (path == "/models/repair" && (get || request.method == "POST"))
      return forward_to_agent(request);
    return error(404, "no such endpoint: " + std::string(path));
  }
  if (path == "/status" || path == "/metrics" || path == "/tx" || path.starts_with("/block/") ||
      path.starts_with("/tx/") || path.starts_with("/nonce/") || path == "/training" ||
      path == "/members") {
    return error(405, "method " + request.method + " is not allowed on " + std::string(path));
  }
  return error(404, "no such endpoint: " + std::string(path) +
                        " (try /status, /tx, /block/H, /tx/HASH, /nonce/KEY, /training, /metrics)");
}

// The Unix socket's file permissions authenticate its clients; elsewhere
// the token, which travels only over TLS or loopback (batond does not start
// with a plain admin_listen off loopback: api/config.h; this is a second
// line).
std::optional<api::HttpResponse> AdminApi::refuse_without_token(
    const api::HttpRequest& request) const {
  if (request.transport == api::HttpTransport::unix_socket) return std::nullopt;
  if (request.transport != api::HttpTransport::tls &&
      !api::is_loopback_host(settings_.admin_listen.host)) {
    return error(403, "this admin API listens on " + settings_.admin_listen.to_string() +
                          ", off loopback, without TLS: it serves no token-protected endpoint "
                          "there (set tls = true under [admin_api] in node.toml)");
  }
  if (api::bearer_matches(request.authorization, settings_.token)) return std::nullopt;
  return reply(401, json{{"error",
                          "this endpoint needs the node's admin token "
                          "(Authorization: Bearer TOKEN); it is in " +
                              settings_.token_file.string() + " (the CLI's --token-file)"},
                         {"token_file", settings_.token_file.string()}});
}

api::HttpResponse AdminApi::status() {
  const NodeSnapshot s = node_.snapshot();
  json peers = json::array();
  for (const PeerStatus& p : node_.peers()) {
    json pj{{"name", p.name}, {"address", p.address}, {"connected", p.connected}};
    if (!p.connected && !p.last_error.empty()) pj["last_error"] = p.last_error;
    if (const auto h = s.peer_heights.find(p.name); h != s.peer_heights.end())
      pj["height"] = h->second;
    peers.push_back(std::move(pj));
  }
  json j{{"node", settings_.node_name},
         {"chain_id", settings_.chain_id},
         {"genesis_hash", settings_.genesis_hash.hex()},
         {"height", s.height},
         {"tip_hash", s.tip_hash.hex()},
         {"round", s.round},
         {"step", s.step},
         {"peers", std::move(peers)},
         {"mempool", {{"txs", s.mempool_txs}, {"bytes", s.mempool_bytes}}},
         {"halted", s.halted}};
  if (s.halted) {
    j["halt_reason"] = s.halt_reason;
    j["halt_cause"] = s.halt_cause;
  }
  // State sync (docs/PROTOCOL.md §24.4): the snapshots an operator may trust.
  json snapshots = json::array();
  for (const auto& sn : s.snapshots)
    snapshots.push_back({{"height", sn.height}, {"block_id", sn.block_id.hex()}});
  j["snapshots"] = std::move(snapshots);
  j["history_from"] = s.history_from;
  if (!s.state_sync.empty()) j["state_sync"] = s.state_sync;
  return reply(200, j);
}

api::HttpResponse AdminApi::submit(const api::HttpRequest& request) {
  std::string bytes;
  const std::string type = api::media_type(request.content_type);
  if (type == "application/octet-stream" || type == "application/x-protobuf") {
    bytes = request.body;
  } else if (type != "text/x-hex") {
    return reply(415, json{{"accepted", false},
                           {"error",
                            "send the serialized Transaction as raw bytes with Content-Type "
                            "application/octet-stream (or application/x-protobuf), or as hex with "
                            "Content-Type text/x-hex"}});
  } else {
    std::string hex;
    for (char c : request.body) {
      if (!std::isspace(static_cast<unsigned char>(c))) hex.push_back(c);
    }
    auto decoded = chain::from_hex(hex);
    if (!decoded) {
      return reply(400,
                   json{{"accepted", false},
                        {"error",
                         "the body is not hex; send the serialized Transaction as hex, or as raw "
                         "bytes with Content-Type application/octet-stream"}});
    }
    bytes.assign(decoded->begin(), decoded->end());
  }
  const SubmitOutcome out = node_.submit_transaction(std::move(bytes));
  if (out.accepted) {
    return reply(202, json{{"accepted", true}, {"hash", out.hash.hex()}, {"nonce", out.nonce}});
  }
  const int code = (out.busy || out.pool_full) ? 503 : 400;
  return reply(code, json{{"accepted", false}, {"hash", out.hash.hex()}, {"error", out.reason}});
}

api::HttpResponse AdminApi::block(std::string_view height_text) {
  std::uint64_t height = 0;
  const auto [ptr, ec] =
      std::from_chars(height_text.data(), height_text.data() + height_text.size(), height);
  if (ec != std::errc() || ptr != height_text.data() + height_text.size() || height == 0) {
    return error(400, "the height must be a positive integer, e.g. /block/1");
  }
  auto stored = node_.ledger().block_at(height);
  if (!stored) return error(500, stored.error().message);
  if (!stored->has_value()) {
    if (const std::uint64_t from = node_.ledger().history_from(); height < from) {
      return error(404, "height " + std::to_string(height) +
                            " is below this node's history: it joined by state sync and holds "
                            "blocks from height " +
                            std::to_string(from) + " (backfill fetches the rest)");
    }
    return error(404, "no block at height " + std::to_string(height) + " yet");
  }
  return reply(200, block_json(**stored));
}

api::HttpResponse AdminApi::tx(std::string_view hash_text) {
  auto hash = chain::Hash::from_hex(hash_text);
  if (!hash) return error(400, "the transaction hash must be 64 hex characters");
  auto loc = node_.ledger().find_tx(*hash);
  if (!loc) return error(500, loc.error().message);
  if (loc->has_value()) {
    auto stored = node_.ledger().block_at((*loc)->height);
    if (!stored) return error(500, stored.error().message);
    json j{{"status", "committed"}, {"height", (*loc)->height}, {"index", (*loc)->index}};
    if (stored->has_value()) {
      auto committed = chain::decode_committed_block(**stored);
      if (committed && static_cast<int>((*loc)->index) < committed->block().transactions_size()) {
        j["transaction"] =
            tx_json(committed->block().transactions(static_cast<int>((*loc)->index)));
      }
    }
    return reply(200, j);
  }
  if (auto pending = node_.pending_transaction(*hash)) {
    return reply(200, json{{"status", "pending"}, {"transaction", tx_json(*pending)}});
  }
  return error(404, "transaction " + hash->hex() +
                        " is neither committed nor waiting in this node's mempool");
}

api::HttpResponse AdminApi::nonce(std::string_view key_text) {
  auto key = chain::PublicKey::from_hex(key_text);
  if (!key) return error(400, "the key must be an Ed25519 public key in 64 hex characters");
  const MembersView view = node_.members_view();
  const bool member = std::any_of(view.members.begin(), view.members.end(),
                                  [&](const chain::GenesisMember& m) { return m.ed25519 == *key; });
  if (!member) {
    return error(404, "key " + key->hex() + " is not a member of this chain");
  }
  auto next = node_.next_nonce(*key);
  if (!next) return error(503, "the node is busy or stopping; retry");
  return reply(200, json{{"sender", key->hex()}, {"next_nonce", *next}});
}

api::HttpResponse AdminApi::members() {
  const MembersView view = node_.members_view();
  json members = json::array();
  for (const chain::GenesisMember& m : view.members) {
    members.push_back(json{{"name", m.name},
                           {"ed25519", m.ed25519.hex()},
                           {"x25519", m.x25519.hex()},
                           {"p2p_address", m.p2p_address},
                           {"power", m.power},
                           {"roles", m.roles}});
  }
  json pending = json::array();
  for (const PendingMemberChange& c : view.pending) {
    pending.push_back(json{{"id", c.id_hex},
                           {"kind", c.kind},
                           {"name", c.name},
                           {"approvers", c.approvers},
                           {"approved_power", c.approved_power},
                           {"quorum_power", c.quorum_power},
                           {"expires_at_height", c.expires_at_height}});
  }
  return reply(200, json{{"height", view.height},
                         {"members", std::move(members)},
                         {"pending", std::move(pending)}});
}

api::HttpResponse AdminApi::training() {
  // The node publishes an immutable copy of its committed state after every
  // commit, so this costs one JSON rendering, not a replay of the chain.
  const std::shared_ptr<const chain::LedgerState> state = node_.committed_state();
  if (!state) return error(503, "the node has not loaded its ledger yet; retry");
  return reply(200, api::training_status_json(*state, settings_.chain_id));
}

api::HttpResponse AdminApi::consortium_schema(std::string_view schema_id) {
  const std::shared_ptr<const chain::LedgerState> state = node_.committed_state();
  if (!state) return error(503, "the node has not loaded its ledger yet; retry");
  const auto it = state->training.schemas.find(std::string(schema_id));
  if (it == state->training.schemas.end()) {
    return error(404, "no member has posted a data summary for schema id \"" +
                          std::string(schema_id.substr(0, 64)) + "\" (baton data summarize)");
  }
  json summaries = json::array();
  for (const auto& [member, s] : it->second.summaries)
    summaries.push_back({{"member", member}, {"height", s.height}, {"rows", s.rows}});
  json j{{"schema_id", it->first}, {"frozen", it->second.frozen}, {"summaries", summaries}};
  auto derived = chain::derive_consortium_schema(it->second);
  if (!derived) {
    j["error"] = "the summaries derive no schema: " + derived.error().message;
  } else {
    j["schema"] = *derived;
    j["sha256"] = chain::sha256(*derived).hex();
    j["width"] = chain::consortium_schema_width(it->second).value();
  }
  return reply(200, j);
}

api::HttpResponse AdminApi::metrics() {
  return {200, "text/plain; version=0.0.4",
          node_.metrics_text() +
              agent_metrics_.prometheus_text(settings_.node_name, AgentMetricsBoard::Clock::now())};
}

}  // namespace baton::node

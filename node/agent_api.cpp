// The admin API's endpoints for the partner agent (issue 12): the committed
// training state it follows, the transactions it has this node sign, its
// report of its own work (issue 17), and the model endpoints it serves
// itself, forwarded (node/admin_api.h).
#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "chain/encoding.h"
#include "chain/membership_state.h"
#include "chain/transaction.h"
#include "node/admin_api.h"
#include "api/admin_token.h"
#include "api/agent_report.h"
#include "api/http_client.h"
#include "api/http_json.h"

namespace baton::node {
namespace {

using nlohmann::json;

api::HttpResponse reply(int status, const json& body) { return api::json_reply(status, body); }
api::HttpResponse error(int status, const std::string& message) {
  return api::json_error(status, message);
}

// The transaction types a partner agent sends; anything else (a StartRun, a
// note) is not the agent's to have this node sign.
std::optional<chain::pb::TxType> agent_tx_type(std::string_view name) {
  static constexpr std::pair<std::string_view, chain::pb::TxType> kTypes[] = {
      {"TX_LOAD_REQUEST", chain::pb::TX_LOAD_REQUEST},
      {"TX_LOAD_APPROVAL", chain::pb::TX_LOAD_APPROVAL},
      {"TX_SAVE_REQUEST", chain::pb::TX_SAVE_REQUEST},
      {"TX_MODEL_VOTE", chain::pb::TX_MODEL_VOTE},
      {"TX_TURN_ABANDON", chain::pb::TX_TURN_ABANDON},
      {"TX_KEY_GRANT", chain::pb::TX_KEY_GRANT},
      {"TX_ROUND_SHARE", chain::pb::TX_ROUND_SHARE},
      {"TX_ROUND_UPLOAD", chain::pb::TX_ROUND_UPLOAD},
      {"TX_ROUND_UNMASK", chain::pb::TX_ROUND_UNMASK},
      {"TX_RUN_READY", chain::pb::TX_RUN_READY}};
  for (const auto& [n, t] : kTypes)
    if (n == name) return t;
  return std::nullopt;
}

}  // namespace

api::HttpAnswer AdminApi::agent_state(const api::HttpRequest& request) {
  if (!request.agent_api.empty()) {
    // The agent's API, where /models/* go. The node sends its token there,
    // so only a loopback http URL is taken.
    auto url = api::parse_http_url(request.agent_api);
    if (!url || url->scheme != api::HttpUrl::Scheme::http || !api::is_loopback_host(url->host)) {
      return error(400,
                   "X-Baton-Agent-Api must be an http://HOST:PORT URL on loopback (the "
                   "token is not sent off the host without TLS)");
    }
    std::lock_guard lock(agent_mutex_);
    agent_api_ = request.agent_api;
  }
  std::uint64_t after = 0;
  if (const std::string a = api::query_value(request.target, "after"); !a.empty()) {
    const auto [p, ec] = std::from_chars(a.data(), a.data() + a.size(), after);
    if (ec != std::errc() || p != a.data() + a.size())
      return error(400, "after must be a height (a non-negative integer)");
  }
  std::uint64_t wait_ms = 0;
  if (const std::string w = api::query_value(request.target, "wait_ms"); !w.empty()) {
    const auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), wait_ms);
    if (ec != std::errc() || p != w.data() + w.size())
      return error(400, "wait_ms must be a number of milliseconds (a non-negative integer)");
    wait_ms = std::min<std::uint64_t>(wait_ms, kMaxAgentWaitMs.count());
  }
  if (!node_.agent_view().state) return error(503, "the node has not loaded its ledger yet; retry");
  if (auto now = agent_state_above(after)) return std::move(*now);
  const api::HttpResponse nothing_newer{204, "application/octet-stream", {}};
  if (wait_ms == 0) return nothing_newer;
  // A long-poll: parked by the server, asked again after each commit (Node
  // calls HttpServer::wake_waiting), answered 204 when the wait is over.
  return api::HttpWait{std::chrono::milliseconds(wait_ms),
                       [this, after] { return agent_state_above(after); }, nothing_newer};
}

std::optional<api::HttpResponse> AdminApi::agent_state_above(std::uint64_t after) {
  const AgentView view = node_.agent_view();
  if (!view.state || view.height <= after) return std::nullopt;
  std::lock_guard lock(agent_mutex_);
  if (view.height != encoded_height_) {
    chain::Bytes body;
    chain::append_u64be(body, view.height);
    // §25.5: once members changed, the membership part (behind its marker)
    // precedes the training part, so that the agent checks the names in the
    // runs against every member the ledger ever held, not the genesis.
    if (!view.state->membership.empty()) {
      chain::append_u32be(body, chain::kMembershipMarker);
      const chain::Bytes members = chain::membership_encoding(view.state->membership);
      body.insert(body.end(), members.begin(), members.end());
    }
    const chain::Bytes training = chain::training_encoding(view.state->training);
    body.insert(body.end(), training.begin(), training.end());
    encoded_body_.assign(body.begin(), body.end());
    encoded_height_ = view.height;
  }
  return api::HttpResponse{200, "application/octet-stream", encoded_body_};
}

api::HttpResponse AdminApi::agent_tx(const api::HttpRequest& request) {
  const json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("type") ||
      !body["type"].is_string() || !body.contains("payload_hex") ||
      !body["payload_hex"].is_string()) {
    return reply(400, json{{"accepted", false},
                           {"error", "send {\"type\": \"TX_MODEL_VOTE\", \"payload_hex\": HEX}"}});
  }
  const auto type = agent_tx_type(body["type"].get<std::string>());
  if (!type) {
    return reply(400, json{{"accepted", false},
                           {"error",
                            "the node signs only a partner agent's transactions "
                            "(TX_LOAD_REQUEST, TX_LOAD_APPROVAL, TX_SAVE_REQUEST, "
                            "TX_MODEL_VOTE, TX_TURN_ABANDON, TX_KEY_GRANT, TX_ROUND_SHARE, "
                            "TX_ROUND_UPLOAD, TX_ROUND_UNMASK, TX_RUN_READY)"}});
  }
  auto payload = chain::from_hex(body["payload_hex"].get<std::string>());
  if (!payload) return reply(400, json{{"accepted", false}, {"error", "payload_hex is not hex"}});
  const SubmitOutcome out =
      node_.sign_and_submit(*type, std::string(payload->begin(), payload->end()));
  if (out.accepted) {
    return reply(202, json{{"accepted", true}, {"hash", out.hash.hex()}, {"nonce", out.nonce}});
  }
  const int code = (out.busy || out.pool_full) ? 503 : 400;
  return reply(code, json{{"accepted", false}, {"hash", out.hash.hex()}, {"error", out.reason}});
}

// The agent's report of its own work (api/agent_report.h): kept whole or
// refused whole. Whatever it says, it lands in this node's agent series only
// (the `node` label is this node's name, never the report's).
api::HttpResponse AdminApi::agent_report(const api::HttpRequest& request) {
  if (request.body.size() > api::kMaxAgentReportBytes) {
    agent_metrics_.refused();
    return error(
        413, "an agent report has at most " + std::to_string(api::kMaxAgentReportBytes) + " bytes");
  }
  auto report = api::parse_agent_report(request.body);
  if (!report) {
    agent_metrics_.refused();
    return error(400, report.error().message);
  }
  agent_metrics_.accept(std::move(*report), AgentMetricsBoard::Clock::now());
  return api::HttpResponse{204, "application/json", {}};
}

// Off the server's thread: node/agent_forward.h.
api::HttpAnswer AdminApi::forward_to_agent(const api::HttpRequest& request) {
  std::string agent_api;
  {
    std::lock_guard lock(agent_mutex_);
    agent_api = agent_api_;
  }
  if (agent_api.empty()) return error(503, kNoPartnerAgent);
  return forwards_.start(request, agent_api, settings_.token);
}

void AdminApi::set_forward_wake(std::function<void()> wake) { forwards_.set_wake(std::move(wake)); }

void AdminApi::stop_forwards() { forwards_.stop(); }

}  // namespace baton::node

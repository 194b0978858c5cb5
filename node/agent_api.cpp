// The admin API's endpoints for the partner agent (issue 12): the committed
// training state it follows, the transactions it has this node sign, and the
// model endpoints it serves itself, forwarded (node/admin_api.h).
#include <charconv>

#include <nlohmann/json.hpp>

#include "chain/encoding.h"
#include "chain/transaction.h"
#include "node/admin_api.h"
#include "api/admin_token.h"
#include "api/http_client.h"
#include "node/node.h"

namespace baton::node {
namespace {

using nlohmann::json;

api::HttpResponse reply(int status, const json& body) {
  return {status, "application/json", body.dump() + "\n"};
}
api::HttpResponse error(int status, const std::string& message) {
  return reply(status, json{{"error", message}});
}

// The value of `name` in the target's query string ("" when absent).
std::string query_value(const std::string& target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string::npos) return {};
  std::string_view rest = std::string_view(target).substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view part = rest.substr(0, amp);
    const auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name)
      return std::string(part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return {};
}

// The transaction types a partner agent sends; anything else (a StartRun, a
// note) is not the agent's to have this node sign.
std::optional<chain::pb::TxType> agent_tx_type(std::string_view name) {
  static constexpr std::pair<std::string_view, chain::pb::TxType> kTypes[] = {
      {"TX_LOAD_REQUEST", chain::pb::TX_LOAD_REQUEST},
      {"TX_LOAD_APPROVAL", chain::pb::TX_LOAD_APPROVAL},
      {"TX_SAVE_REQUEST", chain::pb::TX_SAVE_REQUEST},
      {"TX_MODEL_VOTE", chain::pb::TX_MODEL_VOTE},
      {"TX_TURN_ABANDON", chain::pb::TX_TURN_ABANDON}};
  for (const auto& [n, t] : kTypes)
    if (n == name) return t;
  return std::nullopt;
}

constexpr const char* kNoAgent =
    "this node keeps no models: no partner agent (baton-agent) has announced its API to it; ask "
    "a node whose hospital runs one, or the agent itself";

}  // namespace

api::HttpResponse AdminApi::agent_state(const api::HttpRequest& request) {
  if (!request.agent_api.empty()) {
    // The agent's API, where /models/* go. The node sends its token there,
    // so only a loopback http URL is taken.
    auto url = api::parse_http_url(request.agent_api);
    if (!url || url->scheme != api::HttpUrl::Scheme::http || !api::is_loopback_host(url->host)) {
      return error(400,
                   "X-Baton-Agent-Api must be an http://HOST:PORT URL on loopback (the "
                   "token is not sent off the host without TLS)");
    }
    if (node_.agent_api() != request.agent_api) node_.set_agent_api(request.agent_api);
  }
  std::uint64_t after = 0;
  if (const std::string a = query_value(request.target, "after"); !a.empty()) {
    const auto [p, ec] = std::from_chars(a.data(), a.data() + a.size(), after);
    if (ec != std::errc() || p != a.data() + a.size())
      return error(400, "after must be a height (a non-negative integer)");
  }
  const Node::AgentView view = node_.agent_view();
  if (!view.state) return error(503, "the node has not loaded its ledger yet; retry");
  if (view.height <= after) return {204, "application/octet-stream", {}};
  chain::Bytes body;
  chain::append_u64be(body, view.height);
  const chain::Bytes training = chain::training_encoding(view.state->training);
  body.insert(body.end(), training.begin(), training.end());
  return {200, "application/octet-stream", std::string(body.begin(), body.end())};
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
                            "TX_MODEL_VOTE, TX_TURN_ABANDON)"}});
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

api::HttpResponse AdminApi::forward_to_agent(const api::HttpRequest& request) {
  const std::string api = node_.agent_api();
  if (api.empty()) return error(503, kNoAgent);
  auto client = api::HttpClient::connect_to(api, std::chrono::seconds(30));
  if (!client) return error(503, kNoAgent);
  (*client)->set_header("Authorization", "Bearer " + node_.admin_token());
  auto r =
      (*client)->request(request.method, request.target, request.body,
                         request.content_type.empty() ? "application/json" : request.content_type);
  if (!r) {
    return error(503, "this node's partner agent did not answer at " + api + ": " +
                          r.error().message + "; is baton-agent running?");
  }
  return {r->status, r->content_type.empty() ? "application/json" : r->content_type,
          std::move(r->body)};
}

}  // namespace baton::node

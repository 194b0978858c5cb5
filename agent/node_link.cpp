#include "agent/node_link.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "chain/membership.h"
#include "chain/membership_state.h"
#include "chain/training_decode.h"
#include "api/admin_token.h"

namespace baton::agent {
namespace {

using nlohmann::json;

std::string reply_error(const api::HttpReply& r) {
  const json j = json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string())
    return j["error"].get<std::string>();
  return "HTTP " + std::to_string(r.status);
}

// The agent reads node_cert_sha256 once, at start: after the node's
// certificate was replaced, the pin sentence also says how this agent
// takes the new one (docs/OPERATIONS.md, "Replacing the certificate").
Error with_agent_procedure(Error e) {
  if (e.code == static_cast<int>(api::HttpFailure::wrong_certificate)) {
    e.message +=
        ". baton-agent reads node_cert_sha256 only when it starts: after changing it in "
        "agent.toml, restart baton-agent (its journal keeps it from voting or training twice)";
  }
  return e;
}

}  // namespace

Result<std::unique_ptr<NodeLink>> NodeLink::open(const std::string& node_url, std::string token,
                                                 std::string agent_api, chain::Genesis genesis,
                                                 const std::string& cert_sha256) {
  auto url = api::parse_http_url(node_url);
  if (!url) return url.error();
  using Scheme = api::HttpUrl::Scheme;
  if (url->scheme == Scheme::http && !api::is_loopback_host(url->host)) {
    return make_error("node_url " + node_url +
                      " is plain http off this host, so the agent does not send its token "
                      "there; use https://HOST:PORT with node_cert_sha256 (the node sets "
                      "[admin_api] tls = true), or run the agent beside its node");
  }
  // The follow connection waits out a long-poll before its usual deadline.
  auto follow =
      api::HttpClient::connect_to(node_url, kLongPollMs + std::chrono::seconds(10), cert_sha256);
  if (!follow) return follow.error();
  auto send = api::HttpClient::connect_to(node_url, std::chrono::seconds(10), cert_sha256);
  if (!send) return send.error();
  auto report = api::HttpClient::connect_to(node_url, kReportTimeout, cert_sha256);
  if (!report) return report.error();
  if (url->scheme != Scheme::unix_socket) {
    for (auto* c : {follow->get(), send->get(), report->get()})
      c->set_header("Authorization", "Bearer " + token);
  }
  // The node reads the announced (loopback) URL on its own host: announce it
  // only from the same host, or the node would send its token to whatever
  // listens at that port there.
  const bool same_host = url->scheme == Scheme::unix_socket || api::is_loopback_host(url->host);
  if (!agent_api.empty() && same_host) (*follow)->set_header("X-Baton-Agent-Api", agent_api);
  return std::unique_ptr<NodeLink>(
      new NodeLink(std::move(*follow), std::move(*send), std::move(*report), std::move(genesis)));
}

Result<std::optional<NodeView>> NodeLink::poll(std::uint64_t after) {
  std::lock_guard lock(follow_mutex_);
  auto r = follow_->get("/agent/state?after=" + std::to_string(after) +
                        "&wait_ms=" + std::to_string(kLongPollMs.count()));
  if (!r) return with_agent_procedure(r.error());
  if (r->status == 204) return std::optional<NodeView>{};
  if (r->status != 200) return make_error("the node refused GET /agent/state: " + reply_error(*r));
  if (r->body.size() < 8) return make_error("the node's /agent/state reply is too short");
  const chain::ByteView bytes = chain::as_bytes(r->body);
  NodeView view;
  for (int i = 0; i < 8; ++i) view.height = (view.height << 8) | bytes[i];
  // §25.5: after a membership change the node sends the membership part
  // first (behind its marker, which no training part begins with); the
  // training part's names are then any member's the ledger ever held.
  std::size_t pos = 8;
  const chain::Genesis* names = &genesis_;
  chain::Genesis every_member;
  auto u32_at = [&](std::size_t at) {
    return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
           (std::uint32_t{bytes[at + 2]} << 8) | std::uint32_t{bytes[at + 3]};
  };
  if (bytes.size() >= pos + 4 && u32_at(pos) == chain::kMembershipMarker) {
    pos += 4;
    auto membership = chain::decode_membership(bytes, pos, genesis_);
    if (!membership)
      return make_error("the node's /agent/state membership part is invalid: " +
                        membership.error().message);
    every_member = chain::decoding_genesis(genesis_, *membership);
    names = &every_member;
  }
  auto training = chain::decode_training_state(bytes.subspan(pos), *names);
  if (!training) return training.error();
  view.training = std::move(*training);
  return std::optional<NodeView>{std::move(view)};
}

AgentSubmitResult NodeLink::submit(chain::pb::TxType type, std::string payload) {
  AgentSubmitResult out;
  const json body{{"type", chain::pb::TxType_Name(type)},
                  {"payload_hex", chain::to_hex(chain::as_bytes(payload))}};
  std::lock_guard lock(send_mutex_);
  auto r = send_->request("POST", "/agent/tx", body.dump());
  if (!r) {
    out.reason = "the node did not answer: " + with_agent_procedure(r.error()).message;
    return out;
  }
  const json j = json::parse(r->body, nullptr, false);
  if (j.is_object() && j.contains("hash") && j["hash"].is_string()) {
    if (auto h = chain::Hash::from_hex(j["hash"].get<std::string>())) out.hash = *h;
  }
  out.accepted = r->status == 202 && j.is_object() && j.value("accepted", false);
  if (!out.accepted) out.reason = reply_error(*r);
  return out;
}

Result<NodeMembers> NodeLink::current_members() {
  std::lock_guard lock(send_mutex_);
  auto r = send_->get("/members");
  if (!r) return make_error("the node did not answer: " + with_agent_procedure(r.error()).message);
  if (r->status == 404) return NodeMembers{0, genesis_.members};
  if (r->status != 200) return make_error("the node refused GET /members: " + reply_error(*r));
  return parse_node_members(r->body);
}

Status NodeLink::report_metrics(const std::string& body) {
  std::lock_guard lock(report_mutex_);
  auto r = report_->request("POST", "/agent/metrics", body);
  if (!r) return r.error();
  if (r->status != 204) return make_error("the node refused the report: " + reply_error(*r));
  return {};
}

}  // namespace baton::agent

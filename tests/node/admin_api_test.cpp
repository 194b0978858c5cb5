// The admin API's routing and request checks (node/admin_api.h) against an
// in-memory AdminNode: which endpoint answers, what it refuses and with
// which status, what it hands the node. The endpoints on a real batond are
// tested in tests/integration/admin_api_test.cpp and agent_link_test.cpp.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "chain/encoding.h"
#include "chain/training.h"
#include "api/http_client.h"
#include "node/admin_api.h"
#include "storage/block_store_memory.h"

namespace baton::node {
namespace {

using nlohmann::json;

const std::string kToken(64, 'a');

chain::PublicKey key_of(char fill) { return *chain::PublicKey::from_hex(std::string(64, fill)); }

// The node as the admin API sees it, held in memory; records what it was asked.
class MemoryAdminNode final : public AdminNode {
 public:
  NodeSnapshot snap;
  storage::MemoryBlockStore store{chain::Hash{}};
  AgentView view;
  std::optional<std::string> pending;
  std::optional<std::uint64_t> nonce = 7;
  SubmitOutcome outcome;
  std::vector<std::string> submitted;
  std::vector<std::pair<chain::pb::TxType, std::string>> signed_payloads;
  MembersView members = one_member();

  static MembersView one_member() {
    MembersView v;
    v.height = 3;
    chain::GenesisMember m;
    m.name = "hospital-a";
    m.ed25519 = key_of('1');
    m.p2p_address = "10.0.0.1:26656";
    m.power = 2;
    m.roles = {"trainer", "validator"};
    v.members.push_back(m);
    return v;
  }

  NodeSnapshot snapshot() const override { return snap; }
  std::vector<PeerStatus> peers() const override {
    return {{"hospital-b", "10.0.0.2:26656", false, "refused"}};
  }
  std::string metrics_text() const override { return "baton_height 3\n"; }
  const storage::BlockStore& ledger() const override { return store; }
  std::shared_ptr<const chain::LedgerState> committed_state() const override { return view.state; }
  AgentView agent_view() const override { return view; }
  MembersView members_view() const override { return members; }
  std::optional<std::string> pending_transaction(const chain::Hash&) override { return pending; }
  std::optional<std::uint64_t> next_nonce(const chain::PublicKey&) override { return nonce; }
  SubmitOutcome submit_transaction(std::string tx) override {
    submitted.push_back(std::move(tx));
    return outcome;
  }
  SubmitOutcome sign_and_submit(chain::pb::TxType type, std::string payload) override {
    signed_payloads.emplace_back(type, std::move(payload));
    return outcome;
  }

  void commit(std::uint64_t height) {
    auto state = std::make_shared<chain::LedgerState>(chain::initial_state(chain::Hash{}));
    state->height = height;
    view = AgentView{height, std::move(state)};
  }
};

AdminApiSettings settings(std::string listen_host = "127.0.0.1") {
  AdminApiSettings s;
  s.node_name = "hospital-a";
  s.chain_id = "test-chain";
  s.admin_listen = api::HostPort{std::move(listen_host), 26680};
  s.token_file = "/etc/baton/admin.token";
  s.token = kToken;
  return s;
}

api::HttpRequest request(std::string method, std::string target, std::string body = {},
                         std::string content_type = {}) {
  api::HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.host = "127.0.0.1:26680";
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

api::HttpRequest with_token(api::HttpRequest r) {
  r.authorization = "Bearer " + kToken;
  return r;
}

// The answer, which must be one now (not a long-poll).
api::HttpResponse now(AdminApi& api, const api::HttpRequest& r) {
  api::HttpAnswer a = api.handle(r);
  EXPECT_TRUE(std::holds_alternative<api::HttpResponse>(a)) << r.method << " " << r.target;
  if (auto* out = std::get_if<api::HttpResponse>(&a)) return *out;
  return {};
}

std::string error_of(const api::HttpResponse& r) {
  const json j = json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("error") ? j["error"].get<std::string>() : "";
}

std::uint64_t height_of(const std::string& body) {
  std::uint64_t h = 0;
  for (int i = 0; i < 8; ++i) h = (h << 8) | static_cast<std::uint8_t>(body.at(i));
  return h;
}

TEST(AdminApiRouting, AnswersEachEndpointAndRefusesUnknownPathsAndMethods) {
  MemoryAdminNode node;
  node.snap.height = 3;
  node.snap.halted = true;
  node.snap.halt_reason = "the disk is full";
  node.snap.halt_cause = "ledger";
  AdminApi api(node, settings());

  const api::HttpResponse status = now(api, request("GET", "/status"));
  ASSERT_EQ(status.status, 200);
  const json j = json::parse(status.body);
  EXPECT_EQ(j["node"], "hospital-a");
  EXPECT_EQ(j["chain_id"], "test-chain");
  EXPECT_EQ(j["height"], 3);
  EXPECT_EQ(j["halted"], true);
  EXPECT_EQ(j["halt_cause"], "ledger");
  EXPECT_EQ(j["peers"][0]["last_error"], "refused");

  const api::HttpResponse metrics = now(api, request("GET", "/metrics"));
  EXPECT_EQ(metrics.status, 200);
  // The node's series, then its partner agent's (none reported yet).
  EXPECT_TRUE(metrics.body.starts_with("baton_height 3\n")) << metrics.body;
  EXPECT_NE(metrics.body.find("\nbaton_agent_up{node=\"hospital-a\"} 0\n"), std::string::npos)
      << metrics.body;
  EXPECT_EQ(now(api, request("GET", "/training")).status, 503);  // no state loaded yet
  node.commit(3);
  EXPECT_EQ(now(api, request("GET", "/training")).status, 200);

  EXPECT_EQ(now(api, request("GET", "/nowhere")).status, 404);
  EXPECT_EQ(now(api, request("DELETE", "/status", "", "application/json")).status, 405);
  EXPECT_EQ(now(api, request("GET", "/tx")).status, 405);
  EXPECT_EQ(now(api, request("GET", "/agent/nowhere")).status, 401);  // token first
  EXPECT_EQ(now(api, with_token(request("GET", "/agent/nowhere"))).status, 404);
}

TEST(AdminApiMembers, ListsTheLedgersMembersAndPendingChanges) {
  MemoryAdminNode node;
  PendingMemberChange c;
  c.id_hex = std::string(64, 'a');
  c.kind = "add";
  c.name = "hospital-e";
  c.approvers = {"hospital-a"};
  c.approved_power = 2;
  c.quorum_power = 3;
  c.expires_at_height = 100;
  node.members.pending.push_back(c);
  AdminApi api(node, settings());
  const api::HttpResponse r = now(api, request("GET", "/members"));
  ASSERT_EQ(r.status, 200);
  const json j = json::parse(r.body);
  EXPECT_EQ(j["height"], 3);
  ASSERT_EQ(j["members"].size(), 1u);
  EXPECT_EQ(j["members"][0]["name"], "hospital-a");
  EXPECT_EQ(j["members"][0]["ed25519"], std::string(64, '1'));
  EXPECT_EQ(j["members"][0]["power"], 2);
  EXPECT_EQ(j["members"][0]["roles"], json({"trainer", "validator"}));
  ASSERT_EQ(j["pending"].size(), 1u);
  EXPECT_EQ(j["pending"][0]["kind"], "add");
  EXPECT_EQ(j["pending"][0]["approvers"], json({"hospital-a"}));
  EXPECT_EQ(j["pending"][0]["quorum_power"], 3);
  EXPECT_EQ(now(api, request("POST", "/members", "{}", "application/json")).status, 405);
  // GET /nonce follows the same members: a key the ledger removed is no member.
  node.members.members.clear();
  EXPECT_EQ(now(api, request("GET", "/nonce/" + std::string(64, '1'))).status, 404);
}

TEST(AdminApiRouting, RefusesAForeignHostBeforeAnyEndpoint) {
  MemoryAdminNode node;
  AdminApi api(node, settings());
  api::HttpRequest r = request("GET", "/status");
  r.host = "attacker.example";
  EXPECT_EQ(now(api, r).status, 403);
}

TEST(AdminApiRouting, ChecksHeightsHashesAndKeysBeforeAskingTheNode) {
  MemoryAdminNode node;
  AdminApi api(node, settings());
  EXPECT_EQ(now(api, request("GET", "/block/0")).status, 400);
  EXPECT_EQ(now(api, request("GET", "/block/12x")).status, 400);
  EXPECT_EQ(now(api, request("GET", "/block/-1")).status, 400);
  EXPECT_EQ(now(api, request("GET", "/block/5")).status, 404);  // not committed yet

  EXPECT_EQ(now(api, request("GET", "/tx/abc")).status, 400);
  const std::string hash(64, 'f');
  EXPECT_EQ(now(api, request("GET", "/tx/" + hash)).status, 404);
  chain::pb::Transaction tx;
  tx.set_nonce(4);
  node.pending = tx.SerializeAsString();
  const api::HttpResponse pending = now(api, request("GET", "/tx/" + hash));
  ASSERT_EQ(pending.status, 200);
  EXPECT_EQ(json::parse(pending.body)["status"], "pending");

  EXPECT_EQ(now(api, request("GET", "/nonce/xyz")).status, 400);
  EXPECT_EQ(now(api, request("GET", "/nonce/" + std::string(64, '2'))).status, 404);  // no member
  const api::HttpResponse nonce = now(api, request("GET", "/nonce/" + std::string(64, '1')));
  ASSERT_EQ(nonce.status, 200);
  EXPECT_EQ(json::parse(nonce.body)["next_nonce"], 7);
  node.nonce.reset();  // the node is busy
  EXPECT_EQ(now(api, request("GET", "/nonce/" + std::string(64, '1'))).status, 503);
}

TEST(AdminApiRouting, SubmitTakesRawBytesOrHexAndMapsTheOutcome) {
  MemoryAdminNode node;
  AdminApi api(node, settings());
  EXPECT_EQ(now(api, request("POST", "/tx", "abc", "application/json")).status, 415);
  EXPECT_EQ(now(api, request("POST", "/tx", "zz", "text/x-hex")).status, 400);
  EXPECT_TRUE(node.submitted.empty());

  node.outcome.reason = "bad_signature";
  EXPECT_EQ(now(api, request("POST", "/tx", "AB cd\n", "text/x-hex")).status, 400);
  ASSERT_EQ(node.submitted.size(), 1u);
  EXPECT_EQ(node.submitted[0], std::string("\xab\xcd"));
  node.outcome.pool_full = true;
  EXPECT_EQ(now(api, request("POST", "/tx", "raw", "application/octet-stream")).status, 503);
  node.outcome = SubmitOutcome{};
  node.outcome.busy = true;
  EXPECT_EQ(now(api, request("POST", "/tx", "raw", "application/x-protobuf")).status, 503);
  node.outcome = SubmitOutcome{};
  node.outcome.accepted = true;
  node.outcome.nonce = 9;
  const api::HttpResponse ok = now(api, request("POST", "/tx", "raw", "application/octet-stream"));
  ASSERT_EQ(ok.status, 202);
  EXPECT_EQ(json::parse(ok.body)["nonce"], 9);
  EXPECT_EQ(node.submitted.back(), "raw");
}

TEST(AdminApiRouting, TokenEndpointsNeedTheTokenAndLoopback) {
  MemoryAdminNode node;
  node.commit(1);
  AdminApi api(node, settings());
  const api::HttpResponse missing = now(api, request("GET", "/agent/state"));
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(json::parse(missing.body)["token_file"], "/etc/baton/admin.token");
  api::HttpRequest wrong = request("GET", "/agent/state");
  wrong.authorization = "Bearer " + std::string(64, 'b');
  EXPECT_EQ(now(api, wrong).status, 401);
  EXPECT_EQ(now(api, with_token(request("GET", "/agent/state"))).status, 200);

  MemoryAdminNode far_node;
  far_node.commit(1);
  AdminApi far(far_node, settings("0.0.0.0"));
  api::HttpRequest r = with_token(request("GET", "/agent/state"));
  const api::HttpResponse refused = now(far, r);
  EXPECT_EQ(refused.status, 403) << "a token is never taken off loopback without TLS";
  EXPECT_NE(error_of(refused).find("off loopback"), std::string::npos) << refused.body;
}

TEST(AdminApiRouting, AgentTxSignsOnlyTheAgentsTypesWithHexPayloads) {
  MemoryAdminNode node;
  AdminApi api(node, settings());
  auto post = [&](const std::string& body) {
    return now(api, with_token(request("POST", "/agent/tx", body, "application/json")));
  };
  EXPECT_EQ(post("not json").status, 400);
  EXPECT_EQ(post(R"({"type": "TX_MODEL_VOTE"})").status, 400);
  EXPECT_EQ(post(R"({"type": "TX_NOTE", "payload_hex": "00"})").status, 400);
  EXPECT_EQ(post(R"({"type": "TX_START_RUN", "payload_hex": "00"})").status, 400);
  EXPECT_EQ(post(R"({"type": "TX_MODEL_VOTE", "payload_hex": "0g"})").status, 400);
  EXPECT_TRUE(node.signed_payloads.empty());
  node.outcome.accepted = true;
  EXPECT_EQ(post(R"({"type": "TX_MODEL_VOTE", "payload_hex": "c0ffee"})").status, 202);
  ASSERT_EQ(node.signed_payloads.size(), 1u);
  EXPECT_EQ(node.signed_payloads[0].first, chain::pb::TX_MODEL_VOTE);
  EXPECT_EQ(node.signed_payloads[0].second, std::string("\xc0\xff\xee"));
  // The agent's key grant for the sponsor (issue 13); still no other type.
  EXPECT_EQ(post(R"({"type": "TX_KEY_GRANT", "payload_hex": "0a01"})").status, 202);
  ASSERT_EQ(node.signed_payloads.size(), 2u);
  EXPECT_EQ(node.signed_payloads[1].first, chain::pb::TX_KEY_GRANT);
  // A federated round's three (issue 15).
  EXPECT_EQ(post(R"({"type": "TX_ROUND_SHARE", "payload_hex": "0a01"})").status, 202);
  EXPECT_EQ(post(R"({"type": "TX_ROUND_UPLOAD", "payload_hex": "0a02"})").status, 202);
  EXPECT_EQ(post(R"({"type": "TX_ROUND_UNMASK", "payload_hex": "0a03"})").status, 202);
  ASSERT_EQ(node.signed_payloads.size(), 5u);
  EXPECT_EQ(node.signed_payloads[4].first, chain::pb::TX_ROUND_UNMASK);
  EXPECT_EQ(post(R"({"type": "TX_RELEASE_ESCROW", "payload_hex": "00"})").status, 400);
  EXPECT_EQ(post(R"({"type": "TX_TRANSFER", "payload_hex": "00"})").status, 400);
  EXPECT_EQ(node.signed_payloads.size(), 5u);
}

// POST /agent/metrics (issue 17) played by a hostile agent, or a stranger:
// no token, off loopback, too large, unknown names, bad values, another
// node's name. Only a good report shows in /metrics, under this node's name.
TEST(AdminApiRouting, AgentMetricsTakeOnlyTheTokenHoldersBoundedReportForThisNode) {
  MemoryAdminNode node;
  AdminApi api(node, settings());
  auto post = [&](const std::string& body, bool token = true) {
    api::HttpRequest r = request("POST", "/agent/metrics", body, "application/json");
    return now(api, token ? with_token(r) : r);
  };
  auto metrics = [&] { return now(api, request("GET", "/metrics")).body; };
  const std::string good =
      R"({"activity":"voting","run":"study-1","turn":2,"step_seconds.vote":1.5,)"
      R"("steps_total.vote":1,"step_seconds_total.vote":1.5})";

  EXPECT_EQ(post(good, /*token=*/false).status, 401);
  MemoryAdminNode far_node;
  AdminApi far(far_node, settings("0.0.0.0"));
  EXPECT_EQ(
      now(far, with_token(request("POST", "/agent/metrics", good, "application/json"))).status,
      403);
  EXPECT_EQ(now(api, with_token(request("GET", "/agent/metrics"))).status, 404);
  EXPECT_NE(metrics().find("baton_agent_up{node=\"hospital-a\"} 0"), std::string::npos);

  const std::string huge = R"({"run":")" + std::string(64 * 1024, 'x') + R"("})";
  EXPECT_EQ(post(huge).status, 413);
  EXPECT_EQ(post("[]").status, 400);
  EXPECT_EQ(post(R"({"node":"hospital-b","steps_total.vote":1})").status, 400);
  EXPECT_EQ(post(R"({"baton_height":99})").status, 400);
  EXPECT_EQ(post(R"({"step_seconds.vote":-1})").status, 400);
  EXPECT_EQ(post(R"({"step_seconds.vote":NaN})").status, 400);
  EXPECT_EQ(post(R"({"run":"x\"} 1\nbaton_halted{node=\"hospital-a\"} 0 #"})").status, 400);
  const api::HttpResponse unknown = post(R"({"steps_total.mine":1})");
  EXPECT_NE(error_of(unknown).find("unknown step"), std::string::npos) << unknown.body;
  std::string text = metrics();
  EXPECT_EQ(text.find("baton_agent_steps_total"), std::string::npos) << "nothing was kept";
  EXPECT_NE(text.find("baton_agent_reports_refused_total{node=\"hospital-a\"} 8"),
            std::string::npos)
      << text;

  EXPECT_EQ(post(good).status, 204);
  text = metrics();
  EXPECT_TRUE(text.starts_with("baton_height 3\n")) << "after the node's own series";
  EXPECT_NE(text.find("baton_agent_up{node=\"hospital-a\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("baton_agent_state{node=\"hospital-a\",activity=\"voting\"} 1"),
            std::string::npos);
  EXPECT_NE(
      text.find("baton_agent_step_seconds{node=\"hospital-a\",run=\"study-1\",step=\"vote\"} 1.5"),
      std::string::npos)
      << text;
  EXPECT_EQ(text.find("hospital-b"), std::string::npos);
  EXPECT_NE(text.find("baton_agent_reports_total{node=\"hospital-a\"} 1"), std::string::npos);
}

TEST(AdminApiRouting, TheAgentAnnouncesOnlyALoopbackApiAndModelsGoNowhereWithoutOne) {
  MemoryAdminNode node;
  node.commit(1);
  AdminApi api(node, settings());
  EXPECT_EQ(now(api, request("GET", "/models/check")).status, 503);
  api::HttpRequest r = with_token(request("GET", "/agent/state"));
  r.agent_api = "http://10.0.0.5:26681";
  EXPECT_EQ(now(api, r).status, 400);
}

TEST(AdminApiAgentState, AnswersANewerStateAtOnceAndNothingNewerWith204) {
  MemoryAdminNode node;
  AdminApi api(node, settings());
  // Before the ledger is loaded: retry later.
  EXPECT_EQ(now(api, with_token(request("GET", "/agent/state"))).status, 503);
  node.commit(5);
  EXPECT_EQ(now(api, with_token(request("GET", "/agent/state?after=x"))).status, 400);
  EXPECT_EQ(now(api, with_token(request("GET", "/agent/state?after=1&wait_ms=-3"))).status, 400);
  const api::HttpResponse newer = now(api, with_token(request("GET", "/agent/state?after=4")));
  ASSERT_EQ(newer.status, 200);
  EXPECT_EQ(newer.content_type, "application/octet-stream");
  EXPECT_EQ(height_of(newer.body), 5u);
  const chain::Bytes training = chain::training_encoding(chain::TrainingState{});
  EXPECT_EQ(newer.body.substr(8), std::string(training.begin(), training.end()));
  EXPECT_EQ(now(api, with_token(request("GET", "/agent/state?after=5"))).status, 204);
  // With a wait but something newer already: answered at once.
  EXPECT_EQ(now(api, with_token(request("GET", "/agent/state?after=2&wait_ms=20000"))).status, 200);
}

TEST(AdminApiAgentState, ALongPollWaitsForACommitAboveItsHeight) {
  MemoryAdminNode node;
  node.commit(5);
  AdminApi api(node, settings());
  api::HttpAnswer a = api.handle(with_token(request("GET", "/agent/state?after=5&wait_ms=20000")));
  ASSERT_TRUE(std::holds_alternative<api::HttpWait>(a));
  api::HttpWait& wait = std::get<api::HttpWait>(a);
  EXPECT_EQ(wait.wait, std::chrono::milliseconds(20'000));
  EXPECT_EQ(wait.timeout_answer.status, 204);
  EXPECT_FALSE(wait.ready().has_value()) << "nothing committed yet";
  node.commit(6);
  const auto answer = wait.ready();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(height_of(answer->body), 6u);
}

TEST(AdminApiAgentState, ALongPollWaitsAtMostTheCap) {
  MemoryAdminNode node;
  node.commit(5);
  AdminApi api(node, settings());
  api::HttpAnswer a =
      api.handle(with_token(request("GET", "/agent/state?after=5&wait_ms=99999999999")));
  ASSERT_TRUE(std::holds_alternative<api::HttpWait>(a));
  EXPECT_EQ(std::get<api::HttpWait>(a).wait, AdminApi::kMaxAgentWaitMs);
  // wait_ms=0: no wait at all.
  EXPECT_EQ(now(api, with_token(request("GET", "/agent/state?after=5&wait_ms=0"))).status, 204);
}

// A partner agent that takes its time: a real HTTP server on loopback whose
// handler holds every answer until the test lets it go (or 20 s pass).
class SlowAgent {
 public:
  SlowAgent()
      : server_(api::HttpServerOptions{}, [this](const api::HttpRequest& r) { return answer(r); }) {
    EXPECT_TRUE(server_.start());
  }
  ~SlowAgent() {
    release();
    server_.stop();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  // Waits until `n` requests reached the handler; false after 20 s.
  bool arrived(int n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return arrived_ >= n; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }
  std::string authorization() {
    std::lock_guard lock(mutex_);
    return authorization_;
  }

 private:
  api::HttpAnswer answer(const api::HttpRequest& r) {
    std::unique_lock lock(mutex_);
    ++arrived_;
    authorization_ = r.authorization;
    cv_.notify_all();
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return released_; });
    return api::HttpResponse{200, "application/json", R"({"checked":")" + r.target + "\"}"};
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  int arrived_ = 0;
  bool released_ = false;
  std::string authorization_;
  api::HttpServer server_;
};

// Has the admin API `api` forward /models/* to `agent`, as an agent's
// GET /agent/state announcing its API does.
void announce(AdminApi& api, MemoryAdminNode& node, const SlowAgent& agent) {
  node.commit(1);
  api::HttpRequest r = with_token(request("GET", "/agent/state"));
  r.agent_api = agent.url();
  ASSERT_EQ(now(api, r).status, 200);
}

TEST(AdminApiForward, StatusIsAnsweredWhileACheckWaitsForTheAgent) {
  MemoryAdminNode node;
  node.snap.height = 3;
  SlowAgent agent;
  AdminApi api(node, settings());
  announce(api, node, agent);
  api::HttpServer admin(api::HttpServerOptions{},
                        [&api](const api::HttpRequest& r) { return api.handle(r); });
  ASSERT_TRUE(admin.start());
  api.set_forward_wake([&admin] { admin.wake_waiting(); });
  const std::string admin_url = "http://127.0.0.1:" + std::to_string(admin.port());

  Result<api::HttpReply> check = make_error("not answered");
  std::thread checker([&] {
    auto client = api::HttpClient::connect_to(admin_url, std::chrono::seconds(30));
    if (client) check = (*client)->get("/models/check?run=r1");
  });
  ASSERT_TRUE(agent.arrived(1)) << "the check never reached the agent";

  // The agent holds the check: the admin server still answers.
  auto client = api::HttpClient::connect_to(admin_url, std::chrono::seconds(10));
  ASSERT_TRUE(client);
  auto status = (*client)->get("/status");
  agent.release();
  checker.join();
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(json::parse(status->body)["height"], 3);

  // The check, once the agent answered: its answer, sent with the token.
  ASSERT_TRUE(check) << check.error().message;
  EXPECT_EQ(check->status, 200);
  EXPECT_EQ(check->body, R"({"checked":"/models/check?run=r1"})");
  EXPECT_EQ(agent.authorization(), "Bearer " + kToken);
  api.stop_forwards();
  admin.stop();
}

TEST(AgentForwards, RefusesAForwardBeyondTheLimitWith503AndAnswersTheOthers) {
  SlowAgent agent;
  AgentForwards forwards;
  std::mutex mutex;
  std::condition_variable cv;
  int wakes = 0;
  forwards.set_wake([&] {
    std::lock_guard lock(mutex);
    ++wakes;
    cv.notify_all();
  });
  const int wakes_at_start = wakes;  // set_wake wakes once
  std::vector<api::HttpWait> waits;
  for (std::size_t i = 0; i < AgentForwards::kMaxInFlight; ++i) {
    api::HttpAnswer a = forwards.start(request("GET", "/models/check?run=r1"), agent.url(), kToken);
    ASSERT_TRUE(std::holds_alternative<api::HttpWait>(a)) << i;
    waits.push_back(std::move(std::get<api::HttpWait>(a)));
  }
  EXPECT_EQ(forwards.in_flight(), AgentForwards::kMaxInFlight);
  ASSERT_TRUE(agent.arrived(1));
  EXPECT_FALSE(waits[0].ready().has_value()) << "the agent has not answered yet";

  // One more while the agent holds the others: refused at once, no thread.
  api::HttpAnswer refused =
      forwards.start(request("POST", "/models/repair", "{}"), agent.url(), kToken);
  ASSERT_TRUE(std::holds_alternative<api::HttpResponse>(refused));
  EXPECT_EQ(std::get<api::HttpResponse>(refused).status, 503);
  EXPECT_NE(error_of(std::get<api::HttpResponse>(refused)).find("retry when one has answered"),
            std::string::npos);

  agent.release();
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] {
      return wakes >= wakes_at_start + static_cast<int>(AgentForwards::kMaxInFlight);
    }));
  }
  EXPECT_EQ(forwards.in_flight(), 0u);
  for (api::HttpWait& wait : waits) {
    const auto answer = wait.ready();
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->body, R"({"checked":"/models/check?run=r1"})");
  }
  // With a slot free again, a forward starts.
  EXPECT_TRUE(std::holds_alternative<api::HttpWait>(
      forwards.start(request("GET", "/models/check?run=r2"), agent.url(), kToken)));
  forwards.stop();
  EXPECT_EQ(std::get<api::HttpResponse>(
                forwards.start(request("GET", "/models/check"), agent.url(), kToken))
                .status,
            503);
}

}  // namespace
}  // namespace baton::node

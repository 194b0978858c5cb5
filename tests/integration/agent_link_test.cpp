// The admin API's endpoints for the partner agent (issue 12) on a real
// batond: the token, the committed training state, and idempotent signing.
#include <gtest/gtest.h>

#include "chain/proto/ledger.pb.h"
#include "chain/training.h"
#include "chain/training_decode.h"
#include "chain/genesis.h"
#include "api/admin_token.h"
#include "api/http_client.h"
#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::wait_until;

std::unique_ptr<api::HttpClient> client_of(const TestNode& n) {
  return std::move(api::HttpClient::connect_to(n.admin_url, 5s)).value();
}

TEST(AgentLink, TheAgentEndpointsNeedTheTokenThatBatondWrote) {
  Testnet net(1);
  ASSERT_TRUE(net.ok()) << net.error();
  const TestNode& n = net.nodes()[0];
  const auto token_file = n.config.parent_path() / "admin.token";
  auto token = api::read_admin_token(token_file);  // mode 0600 checked
  ASSERT_TRUE(token.ok()) << token.error().message;

  auto c = client_of(n);
  auto r = c->get("/agent/state");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401);
  const json j = json::parse(r->body);
  EXPECT_EQ(j["token_file"], token_file.string());
  c->set_header("Authorization", "Bearer " + std::string(64, '0'));
  EXPECT_EQ(c->get("/agent/state")->status, 401);
  EXPECT_EQ(c->request("POST", "/models/repair", "{\"run\":\"x\"}")->status, 401);
  EXPECT_EQ(c->request("POST", "/agent/tx", "{}")->status, 401);

  c->set_header("Authorization", "Bearer " + *token);
  r = c->get("/agent/state");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  ASSERT_GE(r->body.size(), 8u);
  std::uint64_t height = 0;
  for (int i = 0; i < 8; ++i) height = (height << 8) | static_cast<std::uint8_t>(r->body[i]);
  const std::string rest = r->body.substr(8);
  EXPECT_TRUE(training_encoding(chain::TrainingState{}) ==
              chain::Bytes(rest.begin(), rest.end()));  // no run on this chain
  // Nothing newer than the newest height: 204, at once.
  r = c->get("/agent/state?after=" + std::to_string(height + 1000));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 204);
  // Without a partner agent, the model endpoints say so.
  EXPECT_EQ(c->get("/models/check")->status, 503);
  // Read-only endpoints need no token.
  auto plain = client_of(n);
  EXPECT_EQ(plain->get("/status")->status, 200);
  EXPECT_EQ(plain->get("/training")->status, 200);
}

TEST(AgentLink, TheNodeSignsOnlyAgentTransactionsAndNeverTheSamePayloadTwice) {
  Testnet net(1);
  ASSERT_TRUE(net.ok()) << net.error();
  const TestNode& n = net.nodes()[0];
  auto token = api::read_admin_token(n.config.parent_path() / "admin.token");
  ASSERT_TRUE(token.ok()) << token.error().message;
  auto c = client_of(n);
  c->set_header("Authorization", "Bearer " + *token);

  auto post = [&](const std::string& type, const std::string& payload) {
    const json body{{"type", type}, {"payload_hex", chain::to_hex(chain::as_bytes(payload))}};
    auto r = c->request("POST", "/agent/tx", body.dump());
    EXPECT_TRUE(r.ok());
    return std::make_pair(r->status, json::parse(r->body, nullptr, false));
  };
  chain::pb::Note note;
  note.set_text("not the agent's to send");
  EXPECT_EQ(post("TX_NOTE", note.SerializeAsString()).first, 400);
  EXPECT_EQ(post("TX_START_RUN", "").first, 400);

  // A LoadApproval for a run that does not exist: signed and included, then
  // refused by the ledger (run_not_active); what matters here is that it is
  // signed once.
  chain::pb::LoadApproval a;
  a.set_run_id("no-such-run");
  a.set_request_id(std::string(32, '\1'));
  a.set_approve(true);
  const auto first = post("TX_LOAD_APPROVAL", a.SerializeAsString());
  ASSERT_EQ(first.first, 202) << first.second.dump();
  const std::string hash = first.second["hash"];
  const auto again = post("TX_LOAD_APPROVAL", a.SerializeAsString());
  ASSERT_EQ(again.first, 202) << again.second.dump();
  EXPECT_EQ(again.second["hash"], hash) << "a second transaction for the same payload";
  ASSERT_TRUE(wait_until([&] { return net.committed(0, hash); }, 20s));
  const auto committed = post("TX_LOAD_APPROVAL", a.SerializeAsString());
  EXPECT_EQ(committed.second["hash"], hash);
  // Another payload is another transaction.
  a.set_approve(false);
  const auto other = post("TX_LOAD_APPROVAL", a.SerializeAsString());
  ASSERT_EQ(other.first, 202);
  EXPECT_NE(other.second["hash"], hash);
}

}  // namespace
}  // namespace baton::integration

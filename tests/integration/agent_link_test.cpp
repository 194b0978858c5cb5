// The admin API's endpoints for the partner agent (issue 12) on a real
// batond: the token, the committed training state, and idempotent signing.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <optional>

#include "chain/proto/ledger.pb.h"
#include "chain/training.h"
#include "chain/training_decode.h"
#include "chain/genesis.h"
#include "agent/node_link.h"
#include "api/admin_tls.h"
#include "api/admin_token.h"
#include "api/http_client.h"
#include "tests/integration/testnet.h"
#include "tests/support/raw_socket.h"

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

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// batond with [admin_api] tls and unix_socket: it makes its certificate and
// key at first start and keeps them; the agent's link pins the certificate;
// the socket needs no token; a restart keeps the pin and the token valid.
TEST(AgentLink, OverTlsThePinnedCertificateAndOverTheSocketItsFileMode) {
  Testnet net(1);
  ASSERT_TRUE(net.ok()) << net.error();
  const TestNode& n = net.nodes()[0];
  ASSERT_TRUE(net.stop(0));
  const auto dir = n.config.parent_path();
  {
    std::ofstream(n.config, std::ios::app)
        << "\n[admin_api]\ntls = true\nunix_socket = \"admin.sock\"\n";
  }
  const std::string https = "https" + n.admin_url.substr(4);
  const std::string socket = "unix:" + (dir / "admin.sock").string();
  auto genesis = chain::parse_genesis(testing::read_text(net.net_dir() / "genesis.json"));
  ASSERT_TRUE(genesis.ok()) << genesis.error().message;
  auto token = api::read_admin_token(dir / "admin.token");
  ASSERT_TRUE(token.ok()) << token.error().message;

  std::string pin;
  for (int start = 0; start < 2; ++start) {
    testing::ChildProcess batond(testing::bin_path("batond"), {"--config", n.config.string()},
                                 dir / ("tls-batond-" + std::to_string(start) + ".log"));
    ASSERT_TRUE(wait_until(
        [&] {
          return std::filesystem::exists(dir / "admin-tls.crt") &&
                 std::filesystem::exists(dir / "admin.sock");
        },
        20s));
    EXPECT_EQ(mode_of(dir / "admin-tls.key"), 0600u);
    EXPECT_EQ(mode_of(n.data_dir), 0700u);
    EXPECT_EQ(mode_of(dir / "admin.sock"), 0600u);
    auto shown = api::certificate_sha256(testing::read_text(dir / "admin-tls.crt"));
    ASSERT_TRUE(shown.ok());
    if (start == 0) pin = *shown;
    EXPECT_EQ(*shown, pin) << "a restart made a new certificate: every pin would break";
    EXPECT_EQ(api::read_admin_token(dir / "admin.token").value(), *token);

    // The agent's link over TLS, pinned: it follows the committed state.
    auto link = agent::NodeLink::open(https, *token, "", *genesis, pin);
    ASSERT_TRUE(link.ok()) << link.error().message;
    Result<std::optional<agent::NodeView>> view = make_error("not asked yet");
    ASSERT_TRUE(wait_until(
        [&] {
          view = (*link)->poll(0);
          return view.ok() && view->has_value();
        },
        20s))
        << (view.ok() ? "no state" : view.error().message);
    EXPECT_GE((*view)->height, 1u);
    // A long-poll over TLS: held until the next block (one a second) commits.
    auto next = (*link)->poll((*view)->height);
    ASSERT_TRUE(next.ok()) << next.error().message;
    ASSERT_TRUE(next->has_value()) << "no block committed within the long-poll";
    EXPECT_GT((*next)->height, (*view)->height);

    // Pinned to another certificate: refused before a request is sent.
    auto wrong = agent::NodeLink::open(https, *token, "", *genesis, std::string(64, 'e'));
    ASSERT_TRUE(wrong.ok());
    auto refused = (*wrong)->poll(0);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("nothing was sent"), std::string::npos)
        << refused.error().message;
    // The agent's sentence says how it takes a new pin: it reads it only at start.
    EXPECT_NE(refused.error().message.find("restart baton-agent"), std::string::npos)
        << refused.error().message;

    // TLS still wants the token; plain http on the TLS port gets nothing.
    auto c = api::HttpClient::connect_to(https, 5s, pin);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ((*c)->get("/agent/state")->status, 401);
    EXPECT_EQ((*c)->get("/status")->status, 200);
    EXPECT_FALSE(client_of(n)->get("/status").ok());

    // The socket: its file mode is the authentication, no token.
    auto s = api::HttpClient::connect_to(socket, 5s);
    ASSERT_TRUE(s.ok());
    auto state = (*s)->get("/agent/state");
    ASSERT_TRUE(state.ok()) << state.error().message;
    EXPECT_EQ(state->status, 200) << state->body;
    auto over_socket = agent::NodeLink::open(socket, "", "", *genesis);
    ASSERT_TRUE(over_socket.ok());
    auto socket_view = (*over_socket)->poll(0);
    ASSERT_TRUE(socket_view.ok()) << socket_view.error().message;
    ASSERT_TRUE(socket_view->has_value());
    // A long-poll over the socket, woken by the next commit too.
    auto socket_next = (*over_socket)->poll((*socket_view)->height);
    ASSERT_TRUE(socket_next.ok()) << socket_next.error().message;
    ASSERT_TRUE(socket_next->has_value()) << "no block committed within the long-poll";
    EXPECT_GT((*socket_next)->height, (*socket_view)->height);

    // The CLI: pinned over TLS, and over the socket.
    auto cli = testing::run_baton({"status", "--node", https, "--node-cert-sha256", pin, "--json"});
    EXPECT_EQ(cli.exit_code, 0) << cli.err;
    cli = testing::run_baton(
        {"status", "--node", https, "--node-cert-sha256", std::string(64, 'e'), "--json"});
    EXPECT_NE(cli.exit_code, 0);
    EXPECT_NE(cli.err.find("nothing was sent"), std::string::npos) << cli.err;
    cli = testing::run_baton({"status", "--node", socket, "--json"});
    EXPECT_EQ(cli.exit_code, 0) << cli.err;

    EXPECT_EQ(batond.terminate(), 0);
    EXPECT_FALSE(std::filesystem::exists(dir / "admin.sock"));
  }
}

std::uint64_t height_in(const std::string& body) {
  std::uint64_t h = 0;
  for (int i = 0; i < 8; ++i) h = (h << 8) | static_cast<std::uint8_t>(body.at(i));
  return h;
}

TEST(AgentLink, ALongPollIsAnsweredByTheNextCommitAndOtherRequestsGetThroughMeanwhile) {
  Testnet net(1);
  ASSERT_TRUE(net.ok()) << net.error();
  const TestNode& n = net.nodes()[0];
  auto token = api::read_admin_token(n.config.parent_path() / "admin.token");
  ASSERT_TRUE(token.ok()) << token.error().message;
  auto c = std::move(api::HttpClient::connect_to(n.admin_url, 90s)).value();
  c->set_header("Authorization", "Bearer " + *token);
  auto first = c->get("/agent/state");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->status, 200);
  const std::uint64_t tip = height_in(first->body);

  // Held until a block above the tip commits (the node commits an empty
  // block every second), then answered with it.
  auto next = c->get("/agent/state?after=" + std::to_string(tip) + "&wait_ms=60000");
  ASSERT_TRUE(next.ok()) << next.error().message;
  ASSERT_EQ(next->status, 200);
  EXPECT_GT(height_in(next->body), tip);
  // Nothing above a far height: 204 once the wait is over.
  auto none = c->get("/agent/state?after=" + std::to_string(tip + 100000) + "&wait_ms=300");
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_EQ(none->status, 204);

  // 64 long-polls held at once (the connection limit, from two addresses at
  // their own limit of 32): the operator's tools still get through.
  const std::uint16_t port =
      static_cast<std::uint16_t>(std::stoi(n.admin_url.substr(n.admin_url.rfind(':') + 1)));
  const std::string far = std::to_string(tip + 100000);
  std::vector<std::unique_ptr<testing::RawSocket>> polls;
  const std::string poll = "GET /agent/state?after=" + far +
                           "&wait_ms=60000 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Authorization: Bearer " +
                           *token + "\r\n\r\n";
  for (int i = 0; i < 64; ++i) {
    polls.push_back(std::make_unique<testing::RawSocket>(
        port, testing::RawSocketOptions{i < 32 ? "127.0.0.2" : "127.0.0.3"}));
    ASSERT_TRUE(polls.back()->ok() && polls.back()->send(poll)) << "poll " << i;
  }
  auto st = testing::run_baton({"status", "--node", n.admin_url, "--json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_FALSE(json::parse(st.out).value("halted", true));
  auto plain = client_of(n);
  auto training = plain->get("/training");
  ASSERT_TRUE(training.ok()) << training.error().message;
  EXPECT_EQ(training->status, 200);
  // The polls that did not give way are still held: no answer yet. Each
  // connection of the CLI and of the client above pushed out at most one.
  int held = 0;
  for (auto& p : polls) {
    auto got = p->read_now();
    if (got && got->empty()) ++held;
  }
  EXPECT_GE(held, 60) << "long-polls that were neither answered nor closed";
}

}  // namespace
}  // namespace baton::integration

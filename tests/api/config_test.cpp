#include "api/config.h"

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace baton::api {
namespace {

const char* kGood = R"(
name = "hospital-a"
key_file = "keys/hospital-a.key"
genesis_file = "/etc/baton/genesis.json"
data_dir = "data"
p2p_listen = "0.0.0.0:26656"
)";

TEST(NodeConfig, ParsesRequiredKeysAndResolvesRelativePaths) {
  auto c = parse_node_config(kGood, "/srv/baton/node.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->name, "hospital-a");
  EXPECT_EQ(c->key_file, "/srv/baton/keys/hospital-a.key");
  EXPECT_EQ(c->genesis_file, "/etc/baton/genesis.json");
  EXPECT_EQ(c->data_dir, "/srv/baton/data");
  EXPECT_EQ(c->p2p_listen.port, 26656);
  EXPECT_EQ(c->admin_listen.host, "127.0.0.1");  // loopback by default
  EXPECT_EQ(c->log_level, LogLevel::info);
  EXPECT_FALSE(c->consensus.timeout_propose_ms.has_value());
}

TEST(NodeConfig, ReadsConsensusOverridesAndMempoolLimits) {
  std::string text = std::string(kGood) + R"(
admin_listen = "127.0.0.1:9000"
log_level = "debug"
[consensus]
timeout_propose_ms = 300
timeout_commit_ms = 0
empty_block_interval_ms = 2000
max_proposal_txs = 500
[mempool]
max_txs = 50
max_nonce_gap = 7
)";
  auto c = parse_node_config(text, "/x/node.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->admin_listen.port, 9000);
  EXPECT_EQ(c->log_level, LogLevel::debug);
  EXPECT_EQ(c->consensus.timeout_propose_ms, 300u);
  EXPECT_EQ(c->consensus.timeout_commit_ms, 0u);
  EXPECT_EQ(c->consensus.empty_block_interval_ms, 2000u);
  EXPECT_EQ(c->consensus.max_proposal_txs, 500u);
  EXPECT_EQ(c->mempool.max_txs, 50u);
  EXPECT_EQ(c->mempool.max_nonce_gap, 7u);
}

void expect_error(const std::string& text, const std::string& fragment) {
  auto c = parse_node_config(text, "/x/node.toml");
  ASSERT_FALSE(c.ok()) << "accepted: " << text;
  EXPECT_NE(c.error().message.find(fragment), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("/x/node.toml"), std::string::npos) << c.error().message;
}

TEST(NodeConfig, SnapshotIntervalDefaultsToAThousandAndZeroMeansNever) {
  auto c = parse_node_config(kGood, "/x/node.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->ledger.snapshot_interval_blocks, 1000u);
  c = parse_node_config(std::string(kGood) + "[ledger]\nsnapshot_interval_blocks = 0\n",
                        "/x/node.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->ledger.snapshot_interval_blocks, 0u);
  expect_error(std::string(kGood) + "[ledger]\nsnapshot_interval_blocks = -1\n",
               "snapshot_interval_blocks");
  expect_error(std::string(kGood) + "[ledger]\nsnapshot_interval_blocks = 100000001\n",
               "snapshot_interval_blocks");
  expect_error(std::string(kGood) + "[ledger]\nsnapshot_every = 5\n", "snapshot_every");
}

TEST(NodeConfig, StateSyncNeedsAHeightAndA64HexBlockId) {
  const std::string id(64, 'a');
  auto c = parse_node_config(kGood, "/x/node.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->statesync.has_value());
  c = parse_node_config(
      std::string(kGood) + "[statesync]\ntrust_height = 40\ntrust_block_id = \"" + id + "\"\n",
      "/x/node.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->statesync.has_value());
  EXPECT_EQ(c->statesync->trust_height, 40u);
  EXPECT_EQ(c->statesync->trust_block_id.hex(), id);
  expect_error(std::string(kGood) + "[statesync]\ntrust_height = 40\n", "trust_block_id");
  expect_error(std::string(kGood) + "[statesync]\ntrust_block_id = \"" + id + "\"\n",
               "trust_height");
  expect_error(
      std::string(kGood) + "[statesync]\ntrust_height = 0\ntrust_block_id = \"" + id + "\"\n",
      "statesync.trust_height");
  expect_error(std::string(kGood) + "[statesync]\ntrust_height = 4\ntrust_block_id = \"abc\"\n",
               "64 hex");
  expect_error(std::string(kGood) + "[statesync]\ntrust_hight = 4\n", "trust_hight");
}

TEST(NodeConfig, RefusesMissingRequiredKeyNamingIt) {
  expect_error("name = \"a\"\nkey_file = \"k\"\ngenesis_file = \"g\"\ndata_dir = \"d\"\n",
               "p2p_listen");
}

TEST(NodeConfig, RefusesMalformedTomlWithLine) {
  expect_error("name = \"a\nkey_file = 3\n", "line");
}

TEST(NodeConfig, RefusesUnknownKeys) {
  expect_error(std::string(kGood) + "p2p_lisen = \"x:1\"\n", "p2p_lisen");
}

TEST(NodeConfig, RefusesWrongTypesAndRanges) {
  expect_error(std::string(kGood) + "[consensus]\ntimeout_propose_ms = \"fast\"\n",
               "consensus.timeout_propose_ms");
  expect_error(std::string(kGood) + "[consensus]\ntimeout_propose_ms = 0\n", "between");
  expect_error(std::string(kGood) + "log_level = \"loud\"\n", "log_level");
  expect_error(std::string(kGood) + "admin_listen = \"localhost\"\n", "admin_listen");
}

TEST(NodeConfig, ReadsAdminApiLimitsAndAllowedHosts) {
  auto plain = parse_node_config(kGood, "/x/node.toml");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->admin_api.max_connections, 64u);
  EXPECT_EQ(plain->admin_api.header_timeout_ms, 5000u);
  EXPECT_TRUE(plain->admin_api.allowed_hosts.empty());
  std::string text = std::string(kGood) + R"(
[admin_api]
max_connections = 16
max_connections_per_client = 4
idle_timeout_ms = 10000
header_timeout_ms = 2000
body_timeout_ms = 9000
allowed_hosts = ["node-a.lan", "[fd00::5]"]
)";
  auto c = parse_node_config(text, "/x/node.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->admin_api.max_connections, 16u);
  EXPECT_EQ(c->admin_api.max_connections_per_client, 4u);
  EXPECT_EQ(c->admin_api.idle_timeout_ms, 10000u);
  EXPECT_EQ(c->admin_api.header_timeout_ms, 2000u);
  EXPECT_EQ(c->admin_api.body_timeout_ms, 9000u);
  EXPECT_EQ(c->admin_api.allowed_hosts, (std::vector<std::string>{"node-a.lan", "[fd00::5]"}));
  for (const char* bad : {"max_connections = 0", "header_timeout_ms = 5", "allowed_hosts = \"x\"",
                          "allowed_hosts = [\"h:80\"]", "allowed_hosts = [\"\"]",
                          "allowed_hosts = [1]", "listen = 1"}) {
    auto r = parse_node_config(std::string(kGood) + "[admin_api]\n" + bad + "\n", "/x/node.toml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("admin_api"), std::string::npos) << r.error().message;
  }
}

TEST(NodeConfig, ReadsTheAdminTlsAndSocketKeys) {
  auto plain = parse_node_config(kGood, "/x/node.toml");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->admin_api.tls);
  EXPECT_TRUE(plain->admin_api.unix_socket.empty());
  // tls alone: a self-signed pair beside node.toml.
  auto self = parse_node_config(std::string(kGood) + "[admin_api]\ntls = true\n", "/x/node.toml");
  ASSERT_TRUE(self.ok()) << self.error().message;
  EXPECT_TRUE(self->admin_api.tls);
  EXPECT_TRUE(self->admin_api.tls_self_signed);
  EXPECT_EQ(self->admin_api.tls_cert, "/x/admin-tls.crt");
  EXPECT_EQ(self->admin_api.tls_key, "/x/admin-tls.key");
  auto own = parse_node_config(std::string(kGood) + R"([admin_api]
tls = true
tls_cert = "tls/node.pem"
tls_key = "/etc/baton/node.key"
unix_socket = "run/admin.sock"
unix_socket_group = "baton"
)",
                               "/x/node.toml");
  ASSERT_TRUE(own.ok()) << own.error().message;
  EXPECT_FALSE(own->admin_api.tls_self_signed);
  EXPECT_EQ(own->admin_api.tls_cert, "/x/tls/node.pem");
  EXPECT_EQ(own->admin_api.tls_key, "/etc/baton/node.key");
  EXPECT_EQ(own->admin_api.unix_socket, "/x/run/admin.sock");
  EXPECT_EQ(own->admin_api.unix_socket_group, "baton");
  for (const char* bad :
       {"tls = 1", "tls_cert = \"c.pem\"", "tls = true\ntls_cert = \"c.pem\"",
        "tls = true\ntls_key = \"\"", "unix_socket_group = \"baton\"", "unix_socket = 5"}) {
    auto r = parse_node_config(std::string(kGood) + "[admin_api]\n" + bad + "\n", "/x/node.toml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("admin_api"), std::string::npos) << r.error().message;
  }
}

// Off loopback the admin API would carry the token (and the training state)
// in clear text: batond refuses to start so, before it binds anything.
TEST(NodeConfig, AnAdminListenOffLoopbackNeedsTls) {
  for (const char* listen : {"0.0.0.0:26680", "10.1.2.3:26680", "[::]:26680", "node-a.lan:1"}) {
    const std::string text = std::string(kGood) + "admin_listen = \"" + listen + "\"\n";
    auto r = parse_node_config(text, "/x/node.toml");
    ASSERT_FALSE(r.ok()) << listen;
    EXPECT_NE(r.error().message.find("tls = true"), std::string::npos) << r.error().message;
    auto with_tls = parse_node_config(text + "[admin_api]\ntls = true\n", "/x/node.toml");
    EXPECT_TRUE(with_tls.ok()) << listen << ": " << with_tls.error().message;
  }
  for (const char* listen : {"127.0.0.1:26680", "localhost:26680", "[::1]:26680"}) {
    auto r = parse_node_config(std::string(kGood) + "admin_listen = \"" + listen + "\"\n",
                               "/x/node.toml");
    EXPECT_TRUE(r.ok()) << listen << ": " << r.error().message;
  }
}

TEST(NodeConfig, TheShippedExampleParses) {
  auto c = load_node_config(testing::source_dir() / "deploy" / "node.example.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->name, "hospital-a");
  EXPECT_EQ(c->consensus.empty_block_interval_ms, 5000u);
}

TEST(HostPort, ParsesIpv4NamesAndIpv6) {
  EXPECT_EQ(parse_host_port("10.0.0.1:26656")->port, 26656);
  EXPECT_EQ(parse_host_port("node-a.lan:1")->host, "node-a.lan");
  EXPECT_EQ(parse_host_port("[::1]:80")->host, "::1");
  EXPECT_FALSE(parse_host_port("10.0.0.1").ok());
  EXPECT_FALSE(parse_host_port("10.0.0.1:0").ok());
  EXPECT_TRUE(parse_host_port("10.0.0.1:0", true).ok());
  EXPECT_FALSE(parse_host_port("10.0.0.1:65536").ok());
  EXPECT_FALSE(parse_host_port(":80").ok());
  EXPECT_FALSE(parse_host_port("::1:80").ok());
}

}  // namespace
}  // namespace baton::api

// node.toml's [store] and [training] sections, which turn on the partner agent.
#include <gtest/gtest.h>

#include "api/config.h"
#include "tests/support/test_support.h"

namespace baton::api {
namespace {

const char* kBase = R"(
name = "hospital-a"
key_file = "keys/hospital-a.key"
genesis_file = "genesis.json"
data_dir = "data"
p2p_listen = "0.0.0.0:26656"
)";

Result<NodeConfig> parse(const std::string& extra) {
  return parse_node_config(std::string(kBase) + extra, "/srv/baton/node.toml");
}

TEST(AgentConfig, WithoutTrainingTheNodeTakesNoPartInRuns) {
  auto c = parse("");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->trains());
  EXPECT_FALSE(c->store.has_value());
}

TEST(AgentConfig, ReadsStoreAndTrainingWithDefaultsAndResolvedPaths) {
  auto c = parse(R"(
[store]
uri = "s3://models/consortium"
endpoint = "http://127.0.0.1:9000"
[training]
train_csv = "data/train.csv"
validation_csv = "/secure/validation.csv"
)");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->store.has_value());
  EXPECT_EQ(c->store->uri, "s3://models/consortium");
  EXPECT_EQ(c->store->endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(c->store->region, "");
  ASSERT_TRUE(c->trains());
  EXPECT_EQ(c->training->train_csv, "/srv/baton/data/train.csv");
  EXPECT_EQ(c->training->validation_csv, "/secure/validation.csv");
  EXPECT_EQ(c->training->work_dir, "/srv/baton/data/agent");  // data_dir/agent
  EXPECT_TRUE(c->training->feature_schema.empty());
  EXPECT_EQ(c->training->torch_threads, 1);
  EXPECT_FALSE(c->training->malicious_label_flip);
  EXPECT_FALSE(c->training->malicious_ignore_privacy_budget);
}

TEST(AgentConfig, ReadsEveryTrainingKey) {
  auto c = parse(R"(
[store]
uri = "file:///var/lib/baton/store"
[training]
enabled = true
train_csv = "t.csv"
validation_csv = "v.csv"
feature_schema = "schema.json"
work_dir = "/var/lib/baton/agent"
torch_threads = 2
malicious_label_flip = true
malicious_ignore_privacy_budget = true
)");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->training->feature_schema, "/srv/baton/schema.json");
  EXPECT_EQ(c->training->work_dir, "/var/lib/baton/agent");
  EXPECT_EQ(c->training->torch_threads, 2);
  EXPECT_TRUE(c->training->malicious_label_flip);
  EXPECT_TRUE(c->training->malicious_ignore_privacy_budget);
}

TEST(AgentConfig, DisabledTrainingNeedsNoFiles) {
  auto c = parse("[training]\nenabled = false\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->trains());
}

TEST(AgentConfig, RefusesIncompleteOrMistypedSections) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& k : {
           Case{"[training]\ntrain_csv = \"t.csv\"\nvalidation_csv = \"v.csv\"\n", "[store]"},
           Case{"[store]\nuri = \"file:///s\"\n[training]\nvalidation_csv = \"v.csv\"\n",
                "training.train_csv"},
           Case{"[store]\nuri = \"ftp://host/x\"\n", "store.uri"},
           Case{"[store]\nendpoint = \"http://x\"\n", "store.uri"},
           Case{"[store]\nuri = \"file:///s\"\nbucket = \"b\"\n", "store.bucket"},
           Case{"[store]\nuri = \"file:///s\"\n[training]\ntrain_csv = \"t\"\nvalidation_csv = "
                "\"v\"\ntorch_threads = 0\n",
                "training.torch_threads"},
           Case{"[store]\nuri = \"file:///s\"\n[training]\ntrain_csv = \"t\"\nvalidation_csv = "
                "\"v\"\nmalicious_label_flip = \"yes\"\n",
                "training.malicious_label_flip"},
           Case{"[store]\nuri = \"file:///s\"\n[training]\ntrain_csv = \"t\"\nvalidation_csv = "
                "\"v\"\nmalicious_ignore_privacy_budget = 1\n",
                "training.malicious_ignore_privacy_budget"},
           Case{"training = 3\n", "'training' must be a table"},
       }) {
    auto c = parse(k.text);
    ASSERT_FALSE(c.ok()) << k.text;
    EXPECT_NE(c.error().message.find(k.says), std::string::npos)
        << k.text << " -> " << c.error().message;
  }
}

TEST(AgentConfig, ModelCacheDefaultsKeepEveryApprovedModelOfActiveRunsAndFinalModels) {
  auto c = parse("");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->model_cache.enabled);
  EXPECT_TRUE(c->model_cache.dir.empty());  // the agent's work_dir/model_cache
  EXPECT_EQ(c->model_cache.max_bytes, 4ull << 30);
  EXPECT_TRUE(c->model_cache.keep_lineage);
  EXPECT_TRUE(c->model_cache.keep_finished);
  EXPECT_EQ(c->model_cache.check_interval_s, 60u);
  EXPECT_EQ(c->model_cache.full_check_max_bytes, 64ull << 20);
}

TEST(AgentConfig, ReadsTheModelCacheSection) {
  auto c = parse(R"(
[model_cache]
enabled = true
dir = "cache"
max_bytes = 1000000
keep_lineage = false
keep_finished = false
check_interval_s = 5
full_check_max_bytes = 0
)");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->model_cache.dir, "/srv/baton/cache");
  EXPECT_EQ(c->model_cache.max_bytes, 1000000u);
  EXPECT_FALSE(c->model_cache.keep_lineage);
  EXPECT_FALSE(c->model_cache.keep_finished);
  EXPECT_EQ(c->model_cache.check_interval_s, 5u);
  EXPECT_EQ(c->model_cache.full_check_max_bytes, 0u);
}

TEST(AgentConfig, RefusesABadModelCacheSectionNamingTheKey) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& k : {
           Case{"[model_cache]\nsize = 3\n", "model_cache.size"},
           Case{"[model_cache]\nmax_bytes = -1\n", "model_cache.max_bytes"},
           Case{"[model_cache]\ncheck_interval_s = 0\n", "model_cache.check_interval_s"},
           Case{"[model_cache]\nkeep_lineage = \"yes\"\n", "model_cache.keep_lineage"},
           Case{"[model_cache]\ndir = 3\n", "model_cache.dir"},
           Case{"model_cache = 3\n", "'model_cache' must be a table"},
       }) {
    auto c = parse(k.text);
    ASSERT_FALSE(c.ok()) << k.text;
    EXPECT_NE(c.error().message.find(k.says), std::string::npos)
        << k.text << " -> " << c.error().message;
  }
}

// agent.toml (issue 12): the same sections, with the agent's own keys.
const char* kAgentBase = R"(
name = "hospital-a"
key_file = "keys/hospital-a.key"
genesis_file = "genesis.json"
node_url = "http://127.0.0.1:26680"
[store]
uri = "file:///srv/models"
[training]
train_csv = "train.csv"
validation_csv = "validation.csv"
)";

TEST(AgentToml, ReadsTheAgentKeysWithDefaultsBesideTheFile) {
  auto c = parse_agent_config(kAgentBase, "/srv/baton/agent.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->name, "hospital-a");
  EXPECT_EQ(c->node_url, "http://127.0.0.1:26680");
  EXPECT_EQ(c->token_file, "/srv/baton/admin.token");
  EXPECT_EQ(c->admin_listen.to_string(), "127.0.0.1:26681");
  EXPECT_EQ(c->poll_ms, 200u);
  EXPECT_EQ(c->store.uri, "file:///srv/models");
  EXPECT_EQ(c->training.train_csv, "/srv/baton/train.csv");
  EXPECT_EQ(c->training.work_dir, "/srv/baton/agent");
}

TEST(AgentToml, NeedsTrainingAndRefusesNodeKeys) {
  auto without = parse_agent_config(R"(
name = "hospital-a"
key_file = "k.key"
genesis_file = "genesis.json"
node_url = "http://127.0.0.1:26680"
)",
                                    "/srv/baton/agent.toml");
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.error().message.find("[training]"), std::string::npos);
  auto node_key =
      parse_agent_config(std::string("p2p_listen = \"0.0.0.0:1\"\n") + kAgentBase, "/a.toml");
  ASSERT_FALSE(node_key.ok());
  EXPECT_NE(node_key.error().message.find("p2p_listen"), std::string::npos);
}

// Issue 17, safe defaults: the agent's own API (no TLS, no token of its own)
// never listens off loopback; the config is refused naming the setting.
TEST(AgentToml, RefusesAnAdminListenOffLoopbackNamingTheSettingAndTheFix) {
  for (const char* listen : {"0.0.0.0:26681", "10.1.2.3:26681", "[::]:26681", "agent.lan:1"}) {
    auto c = parse_agent_config(
        std::string(kAgentBase).insert(1, std::string("admin_listen = \"") + listen + "\"\n"),
        "/srv/baton/agent.toml");
    ASSERT_FALSE(c.ok()) << listen;
    EXPECT_NE(c.error().message.find("admin_listen"), std::string::npos) << c.error().message;
    EXPECT_NE(c.error().message.find("not a loopback address"), std::string::npos)
        << c.error().message;
    EXPECT_NE(c.error().message.find("127.0.0.1:"), std::string::npos) << c.error().message;
  }
  for (const char* listen : {"127.0.0.1:26681", "localhost:9", "[::1]:26681"}) {
    auto c = parse_agent_config(
        std::string(kAgentBase).insert(1, std::string("admin_listen = \"") + listen + "\"\n"),
        "/srv/baton/agent.toml");
    EXPECT_TRUE(c.ok()) << listen << ": " << c.error().message;
  }
}

// Issue 17: [training] na_values lists the cells that mean "no value" when
// the agent fits its own schema; bounded like the schema file's.
TEST(AgentToml, ReadsTrainingNaValuesAndBoundsThem) {
  auto c = parse_agent_config(std::string(kAgentBase) + "na_values = [\"\", \"NA\", \"?\"]\n",
                              "/srv/baton/agent.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->training.na_values.has_value());
  EXPECT_EQ(*c->training.na_values, (std::vector<std::string>{"", "NA", "?"}));
  EXPECT_FALSE(parse_agent_config(kAgentBase, "/a.toml")->training.na_values.has_value());
  for (const std::string& bad :
       std::vector<std::string>{"na_values = \"?\"\n", "na_values = [1]\n",
                                "na_values = [\"" + std::string(65, 'x') + "\"]\n"}) {
    auto r = parse_agent_config(std::string(kAgentBase) + bad, "/a.toml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("training.na_values"), std::string::npos) << r.error().message;
  }
}

std::string agent_with(const std::string& node_url, const std::string& extra = {}) {
  std::string text = kAgentBase;
  const std::string old = "node_url = \"http://127.0.0.1:26680\"";
  text.replace(text.find(old), old.size(), "node_url = \"" + node_url + "\"\n" + extra);
  return text;
}

// The token never travels in clear text: a plain http node_url must be on
// loopback, an https one needs the node's certificate fingerprint.
TEST(AgentToml, ANodeOffTheHostNeedsHttpsAndTheCertificatePin) {
  const std::string pin(64, 'b');
  auto plain = parse_agent_config(agent_with("http://10.0.0.5:26680"), "/srv/a.toml");
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().message.find("clear text"), std::string::npos) << plain.error().message;
  auto unpinned = parse_agent_config(agent_with("https://10.0.0.5:26680"), "/srv/a.toml");
  ASSERT_FALSE(unpinned.ok());
  EXPECT_NE(unpinned.error().message.find("node_cert_sha256"), std::string::npos);
  auto bad_pin = parse_agent_config(
      agent_with("https://10.0.0.5:26680", "node_cert_sha256 = \"abc\""), "/srv/a.toml");
  ASSERT_FALSE(bad_pin.ok());
  EXPECT_NE(bad_pin.error().message.find("node_cert_sha256"), std::string::npos);
  auto stray_pin = parse_agent_config(
      agent_with("http://127.0.0.1:26680", "node_cert_sha256 = \"" + pin + "\""), "/srv/a.toml");
  EXPECT_FALSE(stray_pin.ok());
  auto ok = parse_agent_config(
      agent_with("https://node-a.lan:26680", "node_cert_sha256 = \"" + pin + "\""), "/srv/a.toml");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->node_cert_sha256, pin);
  auto socket = parse_agent_config(agent_with("unix:/run/baton/admin.sock"), "/srv/a.toml");
  ASSERT_TRUE(socket.ok()) << socket.error().message;
  EXPECT_FALSE(parse_agent_config(agent_with("ftp://x"), "/srv/a.toml").ok());
}

TEST(AgentToml, TheShippedExampleParses) {
  auto c = load_agent_config(testing::source_dir() / "deploy" / "agent.example.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->name, "hospital-a");
  EXPECT_EQ(c->model_cache.check_interval_s, 60u);
}

TEST(AgentToml, TheNodeTokenFileDefaultsBesideNodeToml) {
  auto c = parse("");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->admin_token_file, "/srv/baton/admin.token");
}

}  // namespace
}  // namespace baton::api

// node.toml's [store] and [training] sections, which turn on the partner agent.
#include <gtest/gtest.h>

#include "node/config.h"

namespace baton::node {
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
)");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->training->feature_schema, "/srv/baton/schema.json");
  EXPECT_EQ(c->training->work_dir, "/var/lib/baton/agent");
  EXPECT_EQ(c->training->torch_threads, 2);
  EXPECT_TRUE(c->training->malicious_label_flip);
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
           Case{"training = 3\n", "'training' must be a table"},
       }) {
    auto c = parse(k.text);
    ASSERT_FALSE(c.ok()) << k.text;
    EXPECT_NE(c.error().message.find(k.says), std::string::npos)
        << k.text << " -> " << c.error().message;
  }
}

}  // namespace
}  // namespace baton::node

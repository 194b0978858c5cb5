// [training] device (issue 16): "cpu" by default, "cuda:N" with N in 0..63,
// one spelling per device; anything else is refused naming the key.
#include <gtest/gtest.h>

#include "api/config.h"

namespace baton::api {
namespace {

const char* kAgent = R"(
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

TEST(TrainingDevice, IsTheCpuUnlessSet) {
  auto c = parse_agent_config(kAgent, "/srv/baton/agent.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->training.device, "cpu");
  auto gpu = parse_agent_config(std::string(kAgent) + "device = \"cuda:1\"\n", "/a.toml");
  ASSERT_TRUE(gpu.ok()) << gpu.error().message;
  EXPECT_EQ(gpu->training.device, "cuda:1");
}

TEST(TrainingDevice, NamesOnlyTheCpuOrACudaIndex) {
  EXPECT_EQ(training_device_index("cpu"), -1);
  EXPECT_EQ(training_device_index("cuda:0"), 0);
  EXPECT_EQ(training_device_index("cuda:63"), 63);
  for (const char* bad : {"", "gpu", "CPU", "cuda", "cuda:", "cuda:64", "cuda:01", "cuda:-1",
                          "cuda:1x", "cuda:100", "mps", " cpu"}) {
    EXPECT_EQ(training_device_index(bad), std::nullopt) << bad;
    auto c = parse_agent_config(std::string(kAgent) + "device = \"" + bad + "\"\n", "/a.toml");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.error().message.find("training.device"), std::string::npos) << c.error().message;
  }
  auto number = parse_agent_config(std::string(kAgent) + "device = 0\n", "/a.toml");
  EXPECT_FALSE(number.ok());
}

}  // namespace
}  // namespace baton::api

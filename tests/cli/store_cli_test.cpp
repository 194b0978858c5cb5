// `baton store put|get|ls|rm` run as the real binary, on file:// and on a
// real s3rver process.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_fixture.h"
#include "tests/vault/s3_server.h"

namespace baton::testing {
namespace {

namespace fs = std::filesystem;

class StoreCli : public ::testing::Test {
 protected:
  void SetUp() override {
    write_text(dir_ / "a.bin", std::string(100000, 'a'));
    uri_ = "file://" + (dir_ / "store").string();
  }
  TempDir dir_;
  std::string uri_;
};

TEST_F(StoreCli, PutLsGetRmOnAFileStore) {
  auto p = run_baton({"store", "put", "--store", uri_, "--key", "models/a.blob", "--in",
                      (dir_ / "a.bin").string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  auto l = run_baton({"store", "ls", "--store", uri_, "--json"});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  const auto j = nlohmann::json::parse(l.out);
  ASSERT_EQ(j["objects"].size(), 1u);
  EXPECT_EQ(j["objects"][0]["key"], "models/a.blob");
  EXPECT_EQ(j["objects"][0]["size"], 100000);
  auto g = run_baton({"store", "get", "--store", uri_, "--key", "models/a.blob", "--out",
                      (dir_ / "back").string()});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(read_text(dir_ / "back"), read_text(dir_ / "a.bin"));
  auto r = run_baton({"store", "rm", "--store", uri_, "--key", "models/a.blob"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto l2 = run_baton({"store", "ls", "--store", uri_});
  EXPECT_EQ(l2.exit_code, 0);
  EXPECT_TRUE(l2.out.empty()) << l2.out;
}

TEST_F(StoreCli, BadInputGetsOneSentenceAndCreatesNothing) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
  };
  const std::vector<Case> cases = {
      {{"store", "put", "--store", uri_, "--key", "k", "--in", (dir_ / "missing").string()}, 1},
      {{"store", "put", "--store", uri_, "--key", "k", "--in", dir_.path().string()}, 1},
      {{"store", "put", "--store", uri_, "--key", "../escape", "--in", (dir_ / "a.bin").string()},
       2},
      {{"store", "put", "--store", "ftp://x", "--key", "k", "--in", (dir_ / "a.bin").string()}, 2},
      {{"store", "put", "--store", "file://relative/dir", "--key", "k", "--in",
        (dir_ / "a.bin").string()},
       2},
      {{"store", "get", "--store", uri_, "--key", "k", "--out", (dir_ / "o").string()}, 1},
      {{"store", "ls", "--store", "file://" + (dir_ / "nowhere").string()}, 1},
      {{"store", "get", "--store", uri_, "--key", "k"}, 2},
  };
  for (const auto& c : cases) {
    auto r = run_baton(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args[1] << ": " << r.err;
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.err.rfind("baton: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir_ / "o"));
  EXPECT_FALSE(fs::exists(dir_ / "escape"));
  EXPECT_FALSE(fs::exists(dir_ / "store"));
}

TEST_F(StoreCli, GetRefusesToOverwriteWithoutForce) {
  ASSERT_EQ(
      run_baton({"store", "put", "--store", uri_, "--key", "k", "--in", (dir_ / "a.bin").string()})
          .exit_code,
      0);
  write_text(dir_ / "o", "keep me");
  auto g =
      run_baton({"store", "get", "--store", uri_, "--key", "k", "--out", (dir_ / "o").string()});
  EXPECT_EQ(g.exit_code, 1);
  EXPECT_EQ(read_text(dir_ / "o"), "keep me");
  g = run_baton(
      {"store", "get", "--store", uri_, "--key", "k", "--out", (dir_ / "o").string(), "--force"});
  EXPECT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(read_text(dir_ / "o"), read_text(dir_ / "a.bin"));
}

TEST_F(StoreCli, S3RoundTripWithCredentialsFromTheEnvironment) {
  S3Server server("cli-bucket");
  ASSERT_TRUE(server.ok());
  std::map<std::string, std::string> env = server.aws_env();
  env["BATON_S3_ENDPOINT"] = server.endpoint();
  const auto baton = bin_path("baton");
  auto p = run_program(baton,
                       {"store", "put", "--store", "s3://cli-bucket/pre", "--key", "x/a", "--in",
                        (dir_ / "a.bin").string()},
                       std::chrono::seconds(60), env);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  auto l = run_program(baton, {"store", "ls", "--store", "s3://cli-bucket/pre"},
                       std::chrono::seconds(60), env);
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_EQ(l.out, "100000\tx/a\n");
  auto g = run_program(baton,
                       {"store", "get", "--store", "s3://cli-bucket/pre", "--key", "x/a", "--out",
                        (dir_ / "back").string()},
                       std::chrono::seconds(60), env);
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(read_text(dir_ / "back"), read_text(dir_ / "a.bin"));
  auto missing = run_program(baton, {"store", "ls", "--store", "s3://no-bucket-here"},
                             std::chrono::seconds(60), env);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
  server.kill();
  auto down = run_program(baton, {"store", "ls", "--store", "s3://cli-bucket/pre"},
                          std::chrono::seconds(60), env);
  EXPECT_EQ(down.exit_code, 4) << down.err;
}

}  // namespace
}  // namespace baton::testing

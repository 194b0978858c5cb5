// `baton keygen` through the real binary.
#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chain/keys.h"
#include "tests/cli/cli_fixture.h"

namespace baton::testing {
namespace {

namespace fs = std::filesystem;

TEST(KeygenCli, WritesSecretWithMode0600AndMatchingPublicFile) {
  TempDir dir;
  auto r = run_baton({"keygen", "--name", "alice", "--out", (dir / "keys").string(), "--p2p",
                      "10.0.0.1:26656", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat((dir / "keys" / "alice.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto secret = chain::parse_secret_keys(read_text(dir / "keys" / "alice.key"));
  auto pub = chain::parse_public_keys(read_text(dir / "keys" / "alice.pub.json"));
  ASSERT_TRUE(secret.ok() && pub.ok());
  EXPECT_EQ(secret->signing.public_key(), pub->ed25519);
  EXPECT_EQ(secret->x25519.public_key(), pub->x25519);
  EXPECT_EQ(pub->p2p_address, "10.0.0.1:26656");
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ed25519_public"], pub->ed25519.hex());
  // The public file holds no secret.
  EXPECT_EQ(read_text(dir / "keys" / "alice.pub.json").find(chain::to_hex(secret->signing.seed())),
            std::string::npos);
}

TEST(KeygenCli, TwoRunsMakeDifferentKeys) {
  TempDir dir;
  ASSERT_EQ(run_baton({"keygen", "--name", "a", "--out", dir.path().string()}).exit_code, 0);
  ASSERT_EQ(run_baton({"keygen", "--name", "b", "--out", dir.path().string()}).exit_code, 0);
  EXPECT_NE(chain::parse_public_keys(read_text(dir / "a.pub.json"))->ed25519,
            chain::parse_public_keys(read_text(dir / "b.pub.json"))->ed25519);
}

TEST(KeygenCli, RefusesToOverwriteAndLeavesTheOldKey) {
  TempDir dir;
  ASSERT_EQ(run_baton({"keygen", "--name", "alice", "--out", dir.path().string()}).exit_code, 0);
  const std::string before = read_text(dir / "alice.key");
  auto r = run_baton({"keygen", "--name", "alice", "--out", dir.path().string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_sentence_error(r)) << r.err;
  EXPECT_NE(r.err.find("already exists"), std::string::npos);
  EXPECT_EQ(read_text(dir / "alice.key"), before);
}

TEST(KeygenCli, RefusesWhenOnlyThePublicFileExists) {
  TempDir dir;
  std::ofstream(dir / "alice.pub.json") << "{}";
  auto r = run_baton({"keygen", "--name", "alice", "--out", dir.path().string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(fs::exists(dir / "alice.key"));
}

TEST(KeygenCli, BadNameIsAUsageErrorAndCreatesNothing) {
  TempDir dir;
  for (const char* name : {"../evil", ".hidden", "has space", ""}) {
    auto r = run_baton({"keygen", "--name", name, "--out", (dir / "k").string()});
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_TRUE(one_sentence_error(r)) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir / "k"));
}

TEST(KeygenCli, BadP2pAddressIsAUsageError) {
  TempDir dir;
  auto r =
      run_baton({"keygen", "--name", "alice", "--out", dir.path().string(), "--p2p", "nohost"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(one_sentence_error(r)) << r.err;
  EXPECT_FALSE(fs::exists(dir / "alice.key"));
}

TEST(KeygenCli, OutPathThatIsAFileIsRefused) {
  TempDir dir;
  std::ofstream(dir / "file") << "x";
  auto r = run_baton({"keygen", "--name", "alice", "--out", (dir / "file").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_sentence_error(r)) << r.err;
  EXPECT_NE(r.err.find("not a directory"), std::string::npos);
}

TEST(KeygenCli, MissingFlagsAreAUsageError) {
  auto r = run_baton({"keygen", "--name", "alice"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.signal, 0);
}

}  // namespace
}  // namespace baton::testing

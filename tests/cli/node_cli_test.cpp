// `baton status`, `baton tx submit` and `batond` itself with bad input: one
// clear sentence, a meaningful exit code, no crash.
#include <fstream>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/cli/cli_fixture.h"

namespace baton {
namespace {

using testing::OneNode;
using testing::run_baton;
using testing::run_program;
using testing::TempDir;
using testing::write_text;

testing::RunResult run_batond(const std::vector<std::string>& args) {
  return run_program(testing::bin_path("batond"), args, std::chrono::seconds(30));
}

bool one_sentence(const std::string& err) {
  return !err.empty() && err.find("terminate called") == std::string::npos;
}

TEST(StatusCli, ReportsAnUnreachableNodeWithExitCode4) {
  const int port = testing::free_port();
  auto r = run_baton({"status", "--node", "http://127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
}

TEST(StatusCli, RefusesAMalformedUrlWithExitCode2) {
  auto r = run_baton({"status", "--node", "not-a-url"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("http://HOST:PORT"), std::string::npos) << r.err;
}

TEST(TxSubmitCli, RefusesAMissingOrGarbageKeyFile) {
  TempDir dir;
  auto missing = run_baton({"tx", "submit", "--node", "http://127.0.0.1:1", "--key",
                            (dir / "nope.key").string(), "--note", "x"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
  write_text(dir / "bad.key", "{ not json");
  ASSERT_EQ(::chmod((dir / "bad.key").c_str(), 0600), 0);
  auto garbage = run_baton({"tx", "submit", "--node", "http://127.0.0.1:1", "--key",
                            (dir / "bad.key").string(), "--note", "x"});
  EXPECT_EQ(garbage.exit_code, 1);
  EXPECT_NE(garbage.err.find("not a Baton key"), std::string::npos) << garbage.err;
}

TEST(BatondCli, RefusesMissingArgumentsAndMissingConfig) {
  EXPECT_EQ(run_batond({}).exit_code, 2);
  EXPECT_EQ(run_batond({"--bogus"}).exit_code, 2);
  TempDir dir;
  auto r = run_batond({"--config", (dir / "none.toml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

TEST(BatondCli, RefusesABadConfigNamingTheKey) {
  OneNode n;
  write_text(n.config, "name = \"a\"\n");
  auto r = run_batond({"--config", n.config.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("key_file"), std::string::npos) << r.err;
}

TEST(BatondCli, RefusesAMissingKeyFileAndCreatesNoDataDir) {
  OneNode n;
  n.write_config("keys/missing.key", "genesis.json", "data");
  auto r = run_batond({"--config", n.config.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("key file"), std::string::npos) << r.err;
  EXPECT_TRUE(one_sentence(r.err));
  EXPECT_FALSE(std::filesystem::exists(n.dir / "data"));
}

TEST(BatondCli, RefusesAnUnreadableGenesis) {
  OneNode n;
  write_text(n.dir / "garbage.json", "{ this is not a genesis");
  n.write_config("keys/a.key", "garbage.json", "data");
  auto r = run_batond({"--config", n.config.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("genesis"), std::string::npos) << r.err;
}

TEST(BatondCli, RefusesADataDirectoryMadeForAnotherGenesis) {
  OneNode n;
  // A ledger for another genesis in data/.
  ASSERT_EQ(run_baton({"genesis", "init", "--chain-id", "other-chain", "--member",
                       (n.dir / "keys" / "a.pub.json").string(), "--out",
                       (n.dir / "other.json").string()})
                .exit_code,
            0);
  ASSERT_EQ(run_baton({"dev", "make-chain", "--genesis", (n.dir / "other.json").string(), "--keys",
                       (n.dir / "keys").string(), "--blocks", "1", "--txs-per-block", "1",
                       "--data-dir", (n.dir / "data" / "ledger").string()})
                .exit_code,
            0);
  auto r = run_batond({"--config", n.config.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("genesis"), std::string::npos) << r.err;
}

TEST(BatondCli, RefusesAP2pPortInUse) {
  OneNode n;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(n.p2p));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  auto r = run_batond({"--config", n.config.string()});
  ::close(fd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("p2p_listen"), std::string::npos) << r.err;
}

// Issue 12: the training files are the partner agent's, so it is
// baton-agent that refuses to start without them (batond never reads them).
TEST(BatondCli, TheAgentRefusesATrainingFileThatCannotBeRead) {
  OneNode n;
  write_text(n.dir / "validation.csv", "a,label\n1,0\n");
  write_text(
      n.dir / "agent.toml",
      "name = \"a\"\nkey_file = \"keys/a.key\"\ngenesis_file = \"genesis.json\"\n"
      "node_url = \"http://127.0.0.1:1\"\nlog_file = \"agent.log\"\n[store]\nuri = \"file://" +
          (n.dir / "store").string() +
          "\"\n[training]\ntrain_csv = \"missing.csv\"\nvalidation_csv = "
          "\"validation.csv\"\n");
  auto r =
      run_program(testing::bin_path("baton-agent"), {"--config", (n.dir / "agent.toml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("train_csv"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing.csv"), std::string::npos) << r.err;
  EXPECT_TRUE(one_sentence(r.err)) << r.err;
}

// Issue 16: a CUDA device the build's LibTorch cannot use is refused when the
// agent starts, with one sentence saying what to do (Debian's LibTorch has
// no CUDA; no host has 64 GPUs).
TEST(BatondCli, TheAgentRefusesACudaDeviceItsLibTorchCannotUse) {
  OneNode n;
  write_text(n.dir / "train.csv", "a,label\n1,0\n");
  write_text(n.dir / "agent.toml",
             "name = \"a\"\nkey_file = \"keys/a.key\"\ngenesis_file = \"genesis.json\"\n"
             "node_url = \"http://127.0.0.1:1\"\nlog_file = \"agent.log\"\n[store]\nuri = "
             "\"file://" +
                 (n.dir / "store").string() +
                 "\"\n[training]\ntrain_csv = \"train.csv\"\nvalidation_csv = "
                 "\"train.csv\"\ndevice = \"cuda:63\"\n");
  auto r =
      run_program(testing::bin_path("baton-agent"), {"--config", (n.dir / "agent.toml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("device = \"cuda:63\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("CUDA"), std::string::npos) << r.err;
  EXPECT_TRUE(one_sentence(r.err)) << r.err;
}

// Issue 17, safe defaults: batond, baton-agent and baton refuse a member key
// file that other users of the host may read or write (a careless `cp` or
// umask), naming the file, its mode and `chmod 600`, and use nothing of it.
TEST(SafeDefaultsCli, EveryProgramRefusesAKeyFileOthersMayRead) {
  OneNode n;
  const std::filesystem::path key = n.dir / "keys" / "a.key";
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  const std::string fix = "chmod 600 " + key.string();

  auto node = run_batond({"--config", n.config.string()});
  EXPECT_EQ(node.exit_code, 1) << node.err;
  EXPECT_NE(node.err.find(key.string()), std::string::npos) << node.err;
  EXPECT_NE(node.err.find("mode 0644"), std::string::npos) << node.err;
  EXPECT_NE(node.err.find(fix), std::string::npos) << node.err;
  EXPECT_FALSE(std::filesystem::exists(n.dir / "data")) << "batond went on with an open key";

  write_text(n.dir / "train.csv", "a,label\n1,0\n");
  write_text(n.dir / "agent.toml",
             "name = \"a\"\nkey_file = \"keys/a.key\"\ngenesis_file = \"genesis.json\"\n"
             "node_url = \"http://127.0.0.1:1\"\n[store]\nuri = \"file://" +
                 (n.dir / "store").string() +
                 "\"\n[training]\ntrain_csv = \"train.csv\"\nvalidation_csv = "
                 "\"train.csv\"\n");
  auto agent =
      run_program(testing::bin_path("baton-agent"), {"--config", (n.dir / "agent.toml").string()});
  EXPECT_EQ(agent.exit_code, 1) << agent.err;
  EXPECT_NE(agent.err.find(fix), std::string::npos) << agent.err;

  auto cli = run_baton(
      {"tx", "submit", "--node", "http://127.0.0.1:1", "--key", key.string(), "--note", "x"});
  EXPECT_EQ(cli.exit_code, 1) << cli.err;
  EXPECT_NE(cli.err.find("mode 0644"), std::string::npos) << cli.err;
  EXPECT_NE(cli.err.find(fix), std::string::npos) << cli.err;

  // Writable by the group is refused too (someone could plant a key).
  ASSERT_EQ(::chmod(key.c_str(), 0620), 0);
  auto writable = run_baton(
      {"tx", "submit", "--node", "http://127.0.0.1:1", "--key", key.string(), "--note", "x"});
  EXPECT_EQ(writable.exit_code, 1) << writable.err;
  EXPECT_NE(writable.err.find("mode 0620"), std::string::npos) << writable.err;

  // With the fix applied the key is used: the CLI gets as far as the node.
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  auto fixed = run_baton(
      {"tx", "submit", "--node", "http://127.0.0.1:1", "--key", key.string(), "--note", "x"});
  EXPECT_EQ(fixed.exit_code, 4) << fixed.err;
  EXPECT_EQ(fixed.err.find("chmod"), std::string::npos) << fixed.err;
}

}  // namespace
}  // namespace baton

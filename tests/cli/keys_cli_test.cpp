// `baton keygen` through the real binary.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chain/keys.h"
#include "api/admin_token.h"
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

// What keygen left at DIR/alice.key after another local user planted
// something at the temporary name it used to write through
// (NAME.key.tmp.<pid>). The shell learns its pid ($$), plants, then execs
// baton, which keeps that pid. `plant` is shell code with $T the name.
struct PlantedRun {
  RunResult run;
  std::string key_text;  // what the key file holds, if it is a regular file
};

PlantedRun keygen_after_planting(const TempDir& dir, const std::string& plant) {
  const std::string script = "T='" + (dir / "keys").string() + "/alice.key.tmp.'$$; " + plant +
                             " && exec '" + bin_path("baton").string() +
                             "' keygen --name alice --out '" + (dir / "keys").string() + "'";
  PlantedRun out{run_program("/bin/sh", {"-c", script}), {}};
  struct stat st {};
  if (::lstat((dir / "keys" / "alice.key").c_str(), &st) == 0 && S_ISREG(st.st_mode))
    out.key_text = read_text(dir / "keys" / "alice.key");
  return out;
}

// The key file, when keygen succeeded, is a regular file of ours, mode 0600,
// with one name, and its secret appears nowhere else.
void expect_private_key_file(const TempDir& dir, const PlantedRun& r,
                             const fs::path& planted_target) {
  if (r.run.exit_code != 0) {
    EXPECT_FALSE(fs::exists(dir / "keys" / "alice.key")) << "a failed keygen left a key file";
    return;
  }
  struct stat st {};
  ASSERT_EQ(::lstat((dir / "keys" / "alice.key").c_str(), &st), 0);
  ASSERT_TRUE(S_ISREG(st.st_mode)) << "the key file is not a regular file (a planted symlink?)";
  EXPECT_EQ(st.st_uid, ::geteuid()) << "the key file belongs to someone else";
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_nlink, 1u) << "the key file has a second name";
  auto keys = chain::parse_secret_keys(r.key_text);
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  const std::string seed = chain::to_hex(keys->signing.seed());
  EXPECT_EQ(read_text(planted_target).find(seed), std::string::npos)
      << "the secret key was written into the planted file";
}

TEST(KeygenCli, APlantedSymlinkAtTheTemporaryNameDoesNotReceiveTheKey) {
  TempDir dir;
  fs::create_directory(dir / "keys");
  const fs::path stolen = dir / "readable-by-the-attacker";
  write_text(stolen, "");
  fs::permissions(stolen, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  const auto r = keygen_after_planting(dir, "ln -s '" + stolen.string() + "' \"$T\"");
  expect_private_key_file(dir, r, stolen);
  EXPECT_EQ(read_text(stolen), "");
}

TEST(KeygenCli, APlantedFileOfAnotherUserAtTheTemporaryNameDoesNotBecomeTheKey) {
  TempDir dir;
  fs::create_directory(dir / "keys");
  // World-writable, and (when the test runs as root) owned by nobody: what
  // another local user would leave there. A hard link keeps it reachable.
  const auto r = keygen_after_planting(
      dir,
      ": > \"$T\" && chmod 666 \"$T\" && (chown 65534 \"$T\" 2>/dev/null || true) && ln \"$T\" '" +
          (dir / "planted").string() + "'");
  ASSERT_TRUE(fs::exists(dir / "planted"));
  expect_private_key_file(dir, r, dir / "planted");
  EXPECT_EQ(read_text(dir / "planted"), "");
}

TEST(KeygenCli, CreatesTheKeyDirectoryWithMode0700) {
  TempDir dir;
  ASSERT_EQ(
      run_baton({"keygen", "--name", "alice", "--out", (dir / "a" / "keys").string()}).exit_code,
      0);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "a" / "keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST(KeygenCli, WarnsWhenOthersCanWriteTheKeyDirectory) {
  TempDir dir;
  fs::create_directory(dir / "shared");
  fs::permissions(dir / "shared", fs::perms::all);
  auto r = run_baton({"keygen", "--name", "alice", "--out", (dir / "shared").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("writable by other users"), std::string::npos) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat((dir / "shared" / "alice.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

// The admin token beside the keys, for an operator to provision before the
// node's first start; a second keygen in the same directory keeps it, and so
// does batond (api/admin_token.h: load_or_create_admin_token).
TEST(KeygenCli, WritesTheAdminTokenBesideTheKeysAndKeepsAnExistingOne) {
  TempDir dir;
  auto r = run_baton({"keygen", "--name", "a", "--out", dir.path().string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["admin_token_file"], (dir / "admin.token").string());
  EXPECT_EQ(j["admin_token_kept"], false);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "admin.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto token = api::read_admin_token(dir / "admin.token");
  ASSERT_TRUE(token.ok()) << token.error().message;
  r = run_baton({"keygen", "--name", "b", "--out", dir.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("kept"), std::string::npos) << r.out;
  EXPECT_EQ(api::load_or_create_admin_token(dir / "admin.token").value(), *token);
  // A token file others may read: refused before any key is written.
  ASSERT_EQ(::chmod((dir / "admin.token").c_str(), 0644), 0);
  r = run_baton({"keygen", "--name", "c", "--out", dir.path().string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("chmod 600"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "c.key"));
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

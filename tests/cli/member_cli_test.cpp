// `baton member ...` as a real process (issue 18). The change's payload must
// be the same bytes on every approver: the same arguments in any order give
// the same change id, and bad arguments are refused before anything is
// signed or sent.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chain/crypto.h"
#include "chain/keys.h"
#include "chain/proto/ledger.pb.h"
#include "tests/cli/cli_fixture.h"

namespace {

namespace fs = std::filesystem;
using baton::testing::bin_path;
using baton::testing::ChildProcess;
using baton::testing::expect_one_sentence_failure;
using baton::testing::free_port;
using baton::testing::OneNode;
using baton::testing::port_open;
using baton::testing::read_text;
using baton::testing::run_baton;
using baton::testing::RunResult;
using baton::testing::wait_until;
using baton::testing::write_member_keys;
using baton::testing::write_text;
using nlohmann::json;

const std::string kEd(64, 'a');
const std::string kX(64, 'b');

RunResult dry_add(const std::string& roles, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {
      "member",  "add",       "--name",  "hospital-e", "--ed25519",
      kEd,       "--x25519",  kX,        "--p2p",      "10.0.0.5:26656",
      "--power", "2",         "--roles", roles,        "--expires-at",
      "900",     "--dry-run", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_baton(args, std::chrono::seconds(30));
}

TEST(MemberCli, TheSameChangeHasTheSameIdWhateverTheArgumentOrder) {
  const RunResult a = dry_add("validator,partner");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const RunResult b = dry_add("partner,validator");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const json ja = json::parse(a.out), jb = json::parse(b.out);
  EXPECT_EQ(ja["id"], jb["id"]);
  EXPECT_EQ(ja["payload_hex"], jb["payload_hex"]);
  // The id is the SHA-256 of the payload, and the payload is the change.
  const auto payload = baton::chain::from_hex(ja["payload_hex"].get<std::string>()).value();
  const std::string bytes(payload.begin(), payload.end());
  EXPECT_EQ(ja["id"], baton::chain::sha256(bytes).hex());
  baton::chain::pb::MemberChange c;
  ASSERT_TRUE(c.ParseFromString(bytes));
  EXPECT_EQ(c.kind(), baton::chain::pb::MemberChange::ADD);
  EXPECT_EQ(c.name(), "hospital-e");
  EXPECT_EQ(c.power(), 2u);
  EXPECT_EQ(c.expires_at_height(), 900u);
  ASSERT_EQ(c.roles_size(), 2);
  EXPECT_EQ(c.roles(0), "partner");
  EXPECT_EQ(c.p2p_address(), "10.0.0.5:26656");
  // The command the others run carries everything that makes the bytes.
  const std::string approve = ja["approve_with"].get<std::string>();
  EXPECT_NE(approve.find("--expires-at 900"), std::string::npos);
  EXPECT_NE(approve.find("--roles partner,validator"), std::string::npos);
  // A different change has another id, and --expect-id refuses it.
  const RunResult other = dry_add("partner,validator", {"--expect-id", std::string(64, '0')});
  expect_one_sentence_failure(other, 2, "not the expected");
  const RunResult same = dry_add("partner,validator", {"--expect-id", ja["id"].get<std::string>()});
  EXPECT_EQ(same.exit_code, 0) << same.err;
}

TEST(MemberCli, RefusesBadArgumentsBeforeSigning) {
  expect_one_sentence_failure(dry_add("validator,validator"), 2, "twice");
  expect_one_sentence_failure(dry_add("validator,king"), 2, "unknown role");
  const RunResult bad_key = run_baton({"member", "add", "--name", "e", "--ed25519", "xyz",
                                       "--x25519", kX, "--p2p", "10.0.0.5:1", "--power", "1",
                                       "--roles", "validator", "--expires-at", "9", "--dry-run"});
  expect_one_sentence_failure(bad_key, 2, "64 hex");
  const RunResult no_expiry = run_baton({"member", "remove", "--name", "hospital-d", "--dry-run"});
  expect_one_sentence_failure(no_expiry, 2, "--expires-at");
  const RunResult bad_name =
      run_baton({"member", "remove", "--name", "../x", "--expires-at", "9", "--dry-run"});
  EXPECT_EQ(bad_name.exit_code, 2) << bad_name.err;
}

json list_members(const std::string& url) {
  const RunResult r = run_baton({"member", "list", "--node", url, "--json"});
  if (r.exit_code != 0) return json();
  return json::parse(r.out, nullptr, false);
}

bool lists(const json& members, const std::string& name) {
  if (!members.is_object()) return false;
  for (const auto& m : members["members"]) {
    if (m.value("name", "") == name) return true;
  }
  return false;
}

// One validator ("a") is the whole quorum: its own approval admits a
// newcomer. The newcomer's batond starts with the genesis and a key outside
// it, follows the chain as a non-member, and sees itself admitted.
TEST(MemberCli, ANewcomersNodeFollowsTheChainAndIsAdmittedByVote) {
  OneNode n({.admin = true});
  ChildProcess a(bin_path("batond"), {"--config", n.config.string()}, n.dir / "a.log");
  ASSERT_TRUE(wait_until([&] { return port_open(n.admin); }, std::chrono::seconds(20)));

  const fs::path e_dir = n.dir / "newcomer";
  const int e_p2p = free_port(), e_admin = free_port();
  const auto e_keys = write_member_keys(e_dir, "hospital-e", "127.0.0.1:" + std::to_string(e_p2p));
  write_text(e_dir / "node.toml",
             "name = \"hospital-e\"\nkey_file = \"hospital-e.key\"\ngenesis_file = \"" +
                 (n.dir / "genesis.json").string() + "\"\ndata_dir = \"data\"\n" +
                 "p2p_listen = \"127.0.0.1:" + std::to_string(e_p2p) + "\"\n" +
                 "admin_listen = \"127.0.0.1:" + std::to_string(e_admin) + "\"\n" +
                 "log_file = \"batond.log\"\n");
  ChildProcess e(bin_path("batond"), {"--config", (e_dir / "node.toml").string()},
                 e_dir / "stdout.log");
  ASSERT_TRUE(wait_until([&] { return port_open(e_admin); }, std::chrono::seconds(20)))
      << read_text(e_dir / "stdout.log");
  const std::string e_url = "http://127.0.0.1:" + std::to_string(e_admin);
  EXPECT_NE(read_text(e_dir / "batond.log").find("belongs to no member"), std::string::npos);
  EXPECT_FALSE(lists(list_members(e_url), "hospital-e"));

  const RunResult add = run_baton({"member",       "add",
                                   "--name",       "hospital-e",
                                   "--ed25519",    e_keys.signing.public_key().hex(),
                                   "--x25519",     e_keys.x25519.public_key().hex(),
                                   "--p2p",        "127.0.0.1:" + std::to_string(e_p2p),
                                   "--power",      "0",
                                   "--roles",      "partner",
                                   "--expires-in", "100",
                                   "--genesis",    (n.dir / "genesis.json").string(),
                                   "--key",        (n.dir / "keys" / "a.key").string(),
                                   "--node",       n.admin_url(),
                                   "--json"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  ASSERT_TRUE(wait_until([&] { return lists(list_members(n.admin_url()), "hospital-e"); },
                         std::chrono::seconds(20)));
  // The newcomer's node is admitted by a's transport, syncs, and sees itself.
  EXPECT_TRUE(wait_until([&] { return lists(list_members(e_url), "hospital-e"); },
                         std::chrono::seconds(30)))
      << read_text(e_dir / "batond.log");
  // Applied once; nothing left pending.
  const json after = list_members(n.admin_url());
  ASSERT_TRUE(after.is_object());
  EXPECT_EQ(after["members"].size(), 2u);
  EXPECT_TRUE(after["pending"].empty());
}

}  // namespace

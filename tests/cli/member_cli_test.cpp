// `baton member ...` as a real process (issue 18). The change's payload must
// be the same bytes on every approver: the same arguments in any order give
// the same change id, and bad arguments are refused before anything is
// signed or sent.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chain/crypto.h"
#include "chain/proto/ledger.pb.h"
#include "tests/cli/cli_fixture.h"

namespace {

using baton::testing::expect_one_sentence_failure;
using baton::testing::run_baton;
using baton::testing::RunResult;
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

}  // namespace

// `baton ledger tx|block` on a real ledger on disk that holds membership
// transactions (TxTypes 26 MemberChange, 27 KeyRotation, docs/PROTOCOL.md
// §25): each payload decoded as its sender claims it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "storage/ledger_store.h"
#include "tests/chain/membership_fixture.h"
#include "tests/cli/cli_fixture.h"

namespace baton::testing {
namespace {

using nlohmann::json;

struct MemberLedger {
  TempDir dir{"member-ledger"};
  chain::testing::MemberChain m;
  std::string add_hash, rotation_hash;
  chain::MemberSecretKeys erin = chain::testing::newcomer("erin", 0);
  chain::MemberSecretKeys fresh = chain::testing::newcomer("alice", 7);

  MemberLedger() {
    const auto add = chain::testing::MemberChain::add_change(erin, 40);
    const auto first = m.change(m.key(0), add);
    add_hash = chain::tx_hash(chain::encode_transaction(first)).hex();
    m.commit(first);
    m.commit(m.change(m.key(1), add));
    m.commit(m.change(m.key(2), add));
    m.hold(fresh.signing);
    const auto rotate = m.rotation(m.key(0), fresh.signing, fresh.x25519.public_key());
    rotation_hash = chain::tx_hash(chain::encode_transaction(rotate)).hex();
    m.commit(rotate);
    auto ledger = storage::LedgerStore::open_writer(
        {dir / "ledger", m.chain.spec.genesis_hash, m.chain.genesis_text});
    EXPECT_TRUE(ledger.ok()) << ledger.error().message;
    if (!ledger.ok()) return;
    for (const auto& block : m.blocks) EXPECT_TRUE((*ledger)->append(block).ok());
  }
  std::string ledger_dir() const { return (dir / "ledger").string(); }
};

TEST(LedgerMemberCli, TxDecodesAMemberChangeAndAKeyRotation) {
  MemberLedger l;
  const RunResult r =
      run_baton({"ledger", "tx", "--data-dir", l.ledger_dir(), "--hash", l.add_hash, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json t = json::parse(r.out);
  EXPECT_EQ(t["type"], "TX_MEMBER_CHANGE");
  const json& c = t["member_change"];
  EXPECT_EQ(c["kind"], "ADD");
  EXPECT_EQ(c["name"], "erin");
  EXPECT_EQ(c["ed25519"], l.erin.signing.public_key().hex());
  EXPECT_EQ(c["x25519"], l.erin.x25519.public_key().hex());
  EXPECT_EQ(c["p2p_address"], "10.0.0.9:26656");
  EXPECT_EQ(c["power"], 1);
  EXPECT_EQ(c["roles"], json({"validator", "partner"}));
  EXPECT_EQ(c["expires_at_height"], 40);
  const std::string id = c["id"].get<std::string>();
  const RunResult text =
      run_baton({"ledger", "tx", "--data-dir", l.ledger_dir(), "--hash", l.add_hash});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("change       ADD erin, id " + id + ", expires at height 40"),
            std::string::npos)
      << text.out;

  const RunResult k = run_baton(
      {"ledger", "tx", "--data-dir", l.ledger_dir(), "--hash", l.rotation_hash, "--json"});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  const json rot = json::parse(k.out);
  EXPECT_EQ(rot["type"], "TX_KEY_ROTATION");
  EXPECT_EQ(rot["key_rotation"]["new_ed25519"], l.fresh.signing.public_key().hex());
  EXPECT_EQ(rot["key_rotation"]["new_x25519"], l.fresh.x25519.public_key().hex());
  EXPECT_EQ(rot["key_rotation"]["new_key_signature"].get<std::string>().size(), 128u);
}

TEST(LedgerMemberCli, BlockListsWhatEachMembershipTransactionSays) {
  MemberLedger l;
  const RunResult b = run_baton({"ledger", "block", "--data-dir", l.ledger_dir(), "--height", "1"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.out.find("TX_MEMBER_CHANGE member change ADD erin"), std::string::npos) << b.out;
  const RunResult r = run_baton({"ledger", "block", "--data-dir", l.ledger_dir(), "--height", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("TX_KEY_ROTATION key rotation to " +
                       l.fresh.signing.public_key().hex().substr(0, 16)),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace baton::testing

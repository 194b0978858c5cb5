// The Python auditor (tests/chain/audit_export.py with audit_membership.py,
// from docs/PROTOCOL.md alone) on a chain whose members change (§25): it
// must replay every MemberChange and KeyRotation, their refusals and the
// removed partner's skipped turn, check each block against the members after
// the block before, and recompute every v4 state hash.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit_fixture.h"
#include "chain/state_decode.h"
#include "chain/training_plan.h"
#include "membership_fixture.h"
#include "protocol_fixture.h"
#include "tests/support/test_support.h"

namespace baton::chain::testing {
namespace {

baton::testing::RunResult audit(const MemberChain& m) {
  baton::testing::TempDir dir("baton-audit-members");
  baton::testing::write_text(dir / "genesis.json", m.chain.genesis_text);
  std::string lines;
  for (const auto& block : m.blocks)
    lines += nlohmann::json{{"stored_hex", to_hex(as_bytes(block))}}.dump() + "\n";
  baton::testing::write_text(dir / "export.jsonl", lines);
  return baton::testing::run_program(
      "/usr/bin/python3",
      {(baton::testing::source_dir() / "tests" / "chain" / "audit_export.py").string(),
       (dir / "genesis.json").string(), (dir / "export.jsonl").string()});
}

TEST(MembershipAudit, TheAuditorReplaysMemberChangesRotationsAndTheirRefusals) {
  MemberChain m;
  ASSERT_EQ(m.commit(m.tx(m.key(0), pb::TX_START_RUN,
                          plan_to_proto(test_plan(4, 2)).SerializeAsString())),
            std::nullopt);
  // erin joins; a double approval and a bad field are refused.
  const MemberSecretKeys erin = newcomer("erin", 0);
  const auto add = MemberChain::add_change(erin, 60);
  m.commit(m.change(m.key(0), add));
  EXPECT_EQ(m.commit(m.change(m.key(0), add)), ProtocolRejected::already_approved);
  m.commit(m.change(m.key(1), add));
  m.commit(m.change(m.key(2), add));
  m.hold(erin.signing);
  m.append({m.tx(erin.signing, pb::TX_NOTE, "")});
  // alice rotates (and a forged rotation by bob is refused).
  const MemberSecretKeys fresh = newcomer("alice", 7);
  m.hold(fresh.signing);
  EXPECT_EQ(m.commit(m.rotation(m.key(0), fresh.signing, fresh.x25519.public_key())), std::nullopt);
  const MemberSecretKeys z = newcomer("z", 3);
  pb::KeyRotation forged = make_key_rotation(m.chain.spec.network(), m.key(1).public_key(),
                                             z.signing, z.x25519.public_key());
  forged.set_new_ed25519(key_string(newcomer("bob", 4).signing.public_key()));
  EXPECT_EQ(m.commit(m.tx(m.key(1), pb::TX_KEY_ROTATION, forged.SerializeAsString())),
            ProtocolRejected::bad_rotation_signature);
  // bob's keys replaced by quorum; dave removed mid-run (his turns skipped).
  const MemberSecretKeys bob2 = newcomer("bob", 5);
  pb::MemberChange replace;
  replace.set_kind(pb::MemberChange::REPLACE_KEYS);
  replace.set_name("bob");
  replace.set_ed25519(key_string(bob2.signing.public_key()));
  replace.set_x25519(key_string(bob2.x25519.public_key()));
  replace.set_expires_at_height(80);
  const auto rm = MemberChain::remove_change("dave", 80);
  m.commit(m.change(fresh.signing, replace));
  m.commit(m.change(m.key(2), replace));
  m.commit(m.change(erin.signing, rm));
  m.commit(m.change(m.key(2), rm));
  m.commit(m.change(fresh.signing, rm));
  m.commit(m.change(m.key(1), rm));  // 4 of 5: dave is removed
  ASSERT_EQ(m.member("dave"), nullptr);
  m.commit(m.change(erin.signing, replace));  // 3 of 4: bob's keys replaced
  m.hold(bob2.signing);
  m.append({m.tx(bob2.signing, pb::TX_NOTE, "")});
  // A change that lapses.
  m.commit(m.change(erin.signing, MemberChain::remove_change("carol", m.height() + 2)));
  for (int i = 0; i < 40; ++i) m.empty_blocks(1);
  const chain::Run& run = *m.chain.state.training.find_run("run-1");
  bool skipped = false;
  for (const auto& t : run.turns) skipped |= t.outcome == TurnOutcome::removed;
  EXPECT_TRUE(skipped);
  EXPECT_EQ(m.member("dave"), nullptr);
  EXPECT_EQ(m.member("bob")->ed25519, bob2.signing.public_key());
  EXPECT_TRUE(m.chain.state.membership.pending.empty());
  // A snapshot of this state decodes: the run's plan, checked at its start
  // against four validators, is not checked again against five ever.
  auto decoded = decode_state(state_encoding(m.chain.state), m.chain.spec.genesis);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  decoded->height = m.chain.state.height;
  decoded->last_block_id = m.chain.state.last_block_id;
  EXPECT_EQ(*decoded, m.chain.state);

  const auto r = audit(m);
  ASSERT_EQ(r.exit_code, 0) << "the auditor refused the chain (it needs python3 and "
                               "python3-nacl: deploy/bootstrap.sh): "
                            << r.out << r.err;
  EXPECT_EQ(r.out.rfind("ok: " + std::to_string(m.chain.state.height) + " blocks, " +
                            std::to_string(m.chain.state.tx_count) + " transactions, tip " +
                            m.chain.state.last_block_id.hex() + "\n",
                        0),
            0u)
      << r.out;
  std::string turns;
  for (const auto& t : run.turns)
    turns += (turns.empty() ? "" : ",") + std::string(to_string(t.outcome));
  EXPECT_NE(r.out.find("turns " + turns + ","), std::string::npos) << r.out;
}

// §25.7: a member that joined after a model was sealed gets its key by a
// KeyGrant from a member that holds it; the auditor replays it too.
TEST(MembershipAudit, AKeyGrantGivesAnOlderModelToANewcomer) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  p.grant_load(0, {1, 2});
  const Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  p.commit(p.model_vote(1, save, true, 750000, 700000));
  p.commit(p.model_vote(2, save, true, 740000, 700000));
  ASSERT_EQ(p.run().head, save);
  const auto add = MemberChain::add_change(newcomer("erin", 0), p.chain.state.height + 50);
  for (std::size_t i : {0u, 1u, 2u}) p.commit(p.tx(i, pb::TX_MEMBER_CHANGE, add));
  ASSERT_EQ(current_members(p.chain.spec, p.chain.state).size(), 5u);
  const Hash commitment = find_save(p.run(), save)->key_commitment;
  auto grant = [&](std::size_t from, const Hash& c, const std::string& to = "erin") {
    pb::KeyGrant g;
    g.set_run_id("run-1");
    g.set_model_id(hash_bytes(save));
    g.set_recipient(to);
    g.set_wrapped_key(std::string(kWrappedKeyBytes, static_cast<char>('a' + from)));
    g.set_key_commitment(hash_bytes(c));
    return p.tx(from, pb::TX_KEY_GRANT, g);
  };
  EXPECT_EQ(p.refusal(grant(0, fake_hash(0x77))), ProtocolRejected::key_commitment_mismatch);
  // bob received the key when it was sealed: §19.8's rules, no escrow here.
  EXPECT_EQ(p.refusal(grant(0, commitment, "bob")), ProtocolRejected::not_released);
  p.commit(grant(0, commitment));
  p.commit(grant(3, commitment));
  const auto& grants = p.chain.state.membership.grants;
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants.begin()->first.recipient, "erin");
  EXPECT_EQ(grants.begin()->first.model_id, save);
  EXPECT_EQ(grants.begin()->second.at("alice"), std::string(kWrappedKeyBytes, 'a'));
  EXPECT_EQ(grants.begin()->second.at("dave"), std::string(kWrappedKeyBytes, 'd'));
  // A refused grant is recorded in the run's log, like any KeyGrant.
  EXPECT_EQ(p.commit_refused(grant(1, fake_hash(0x78))), ProtocolRejected::key_commitment_mismatch);
  expect_audit_agrees(p);
}

TEST(MembershipAudit, TheAuditorRefusesAStateHashThatIgnoresTheChange) {
  // The same chain, but its last block is re-signed over a state hash that
  // leaves the membership part out: the auditor must notice.
  MemberChain m;
  const auto rm = MemberChain::remove_change("dave", 60);
  for (std::size_t i : {0u, 1u, 2u}) m.commit(m.change(m.key(i), rm));
  const std::string last = m.blocks.back();
  auto committed = decode_committed_block(last).value();
  LedgerState without = m.chain.state;
  without.membership = {};
  const Hash wrong = state_hash(kChainId, without);
  pb::Block block = with_header(committed.block(), [&](pb::BlockHeader& h) {
    h.set_app_state_hash(std::string(wrong.bytes.begin(), wrong.bytes.end()));
  });
  const Hash id = block_id(block);
  const auto header = decode_header(block.header()).value();
  std::vector<pb::Vote> votes;
  for (std::size_t i : {0u, 1u, 2u, 3u})
    votes.push_back(
        sign_vote(m.chain.spec.network(), m.key(i), pb::PRECOMMIT, header.height(), 0, id));
  *committed.mutable_block() = block;
  *committed.mutable_commit() = make_commit(header.height(), 0, id, votes);
  m.blocks.back() = encode_committed_block(committed);
  const auto r = audit(m);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("height " + std::to_string(m.chain.state.height) + ": wrong app state hash"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace baton::chain::testing

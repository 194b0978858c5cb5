// Keys by rotation or by vote, and a removed partner's turns (issue 18,
// docs/PROTOCOL.md §25): a KeyRotation needs the new key's signature and
// retires the old key for ever; REPLACE_KEYS does it by quorum; a removed
// partner's turns end at once.
#include <gtest/gtest.h>

#include "chain/training_plan.h"
#include "membership_fixture.h"
#include "protocol_fixture.h"

namespace baton::chain::testing {
namespace {

TEST(MemberKeys, ARotationHoldsFromTheNextBlockAndRetiresTheOldKey) {
  MemberChain m;
  const MemberSecretKeys fresh = newcomer("alice", 7);
  const SigningKey old_key = m.key(0);
  m.hold(fresh.signing);
  const auto rotate = m.rotation(old_key, fresh.signing, fresh.x25519.public_key());
  // The old key still sends in the rotation's own block.
  m.append({rotate, m.tx(old_key, pb::TX_NOTE, "")});
  EXPECT_EQ(find_refusal(m.chain.state.training, tx_hash(encode_transaction(rotate))), nullptr);
  const GenesisMember* a = m.member("alice");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->ed25519, fresh.signing.public_key());
  EXPECT_EQ(a->x25519, fresh.x25519.public_key());
  EXPECT_EQ(a->roles, m.chain.spec.genesis.members[0].roles);
  EXPECT_EQ(m.chain.state.membership.retired_ed25519.at(old_key.public_key()), "alice");
  // From the next block the old key is nobody; the new one starts at nonce 1.
  auto by_old = m.build({m.tx(old_key, pb::TX_NOTE, "")});
  ASSERT_FALSE(by_old.ok());
  EXPECT_EQ(by_old.reason().reason, BlockInvalid::transaction_from_non_member);
  m.planned.erase(old_key.public_key());
  m.append({m.tx(fresh.signing, pb::TX_NOTE, "")});
  EXPECT_EQ(m.chain.state.next_nonce(fresh.signing.public_key()), 2u);
  // Replayed as it was signed: its sender is no member any more.
  auto replay = m.build({rotate});
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.reason().reason, BlockInvalid::transaction_from_non_member);
  // Rotating back to the retired key is refused.
  const MemberSecretKeys first = m.chain.members[0];
  EXPECT_EQ(m.commit(m.rotation(fresh.signing, first.signing, first.x25519.public_key())),
            ProtocolRejected::key_taken);
}

TEST(MemberKeys, ARotationWithoutTheNewKeysSignatureIsRefused) {
  MemberChain m;
  const MemberSecretKeys fresh = newcomer("alice", 7);
  const MemberSecretKeys other = newcomer("x", 8);
  // Signed by another key than the one it installs.
  pb::KeyRotation forged = make_key_rotation(m.chain.spec.network(), m.key(0).public_key(),
                                             other.signing, fresh.x25519.public_key());
  forged.set_new_ed25519(key_string(fresh.signing.public_key()));
  EXPECT_EQ(m.commit(m.tx(m.key(0), pb::TX_KEY_ROTATION, forged.SerializeAsString())),
            ProtocolRejected::bad_rotation_signature);
  // Signed for another network (same chain id, another genesis).
  const TestChain elsewhere = same_chain_id_other_genesis();
  const pb::KeyRotation foreign = make_key_rotation(elsewhere.spec.network(), m.key(0).public_key(),
                                                    fresh.signing, fresh.x25519.public_key());
  EXPECT_EQ(m.commit(m.tx(m.key(0), pb::TX_KEY_ROTATION, foreign.SerializeAsString())),
            ProtocolRejected::bad_rotation_signature);
  // Signed over another old key: bob's rotation replayed by alice.
  const pb::KeyRotation bobs = make_key_rotation(m.chain.spec.network(), m.key(1).public_key(),
                                                 fresh.signing, fresh.x25519.public_key());
  EXPECT_EQ(m.commit(m.tx(m.key(0), pb::TX_KEY_ROTATION, bobs.SerializeAsString())),
            ProtocolRejected::bad_rotation_signature);
  // No signature at all.
  pb::KeyRotation bare = foreign;
  bare.clear_new_key_signature();
  EXPECT_EQ(m.commit(m.tx(m.key(0), pb::TX_KEY_ROTATION, bare.SerializeAsString())),
            ProtocolRejected::bad_member_fields);
  EXPECT_EQ(m.member("alice")->ed25519, m.key(0).public_key());
  EXPECT_TRUE(m.chain.state.membership.retired_ed25519.empty());
}

TEST(MemberKeys, ARotationMayNotTakeAnotherMembersKeyNorRotateTwiceInABlock) {
  MemberChain m;
  const MemberSecretKeys bob = m.chain.members[1];
  EXPECT_EQ(m.commit(m.rotation(m.key(0), bob.signing, newcomer("y", 9).x25519.public_key())),
            ProtocolRejected::key_taken);
  const MemberSecretKeys one = newcomer("alice", 7), two = newcomer("alice", 8);
  const auto first = m.rotation(m.key(0), one.signing, one.x25519.public_key());
  const auto second = m.rotation(m.key(0), two.signing, two.x25519.public_key());
  m.append({first, second});
  const Refusal* r = find_refusal(m.chain.state.training, tx_hash(encode_transaction(second)));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->reason, ProtocolRejected::already_rotating);
  EXPECT_EQ(m.member("alice")->ed25519, one.signing.public_key());
}

TEST(MemberKeys, OneMemberRotatesABoundedNumberOfTimes) {
  MemberChain m;
  SigningKey current = m.key(0);
  for (std::uint8_t i = 0; i < kMaxRotationsPerMember; ++i) {
    const MemberSecretKeys next = newcomer("alice", static_cast<std::uint8_t>(0x20 + i));
    ASSERT_EQ(m.commit(m.rotation(current, next.signing, next.x25519.public_key())), std::nullopt);
    current = next.signing;
    m.hold(current);
  }
  const MemberSecretKeys last = newcomer("alice", 0x60);
  EXPECT_EQ(m.commit(m.rotation(current, last.signing, last.x25519.public_key())),
            ProtocolRejected::too_many_rotations);
}

TEST(MemberKeys, ReplaceKeysByQuorumRecoversALeakedKey) {
  MemberChain m;
  const MemberSecretKeys fresh = newcomer("bob", 5);
  pb::MemberChange c;
  c.set_kind(pb::MemberChange::REPLACE_KEYS);
  c.set_name("bob");
  c.set_ed25519(key_string(fresh.signing.public_key()));
  c.set_x25519(key_string(fresh.x25519.public_key()));
  c.set_expires_at_height(40);
  for (std::size_t i : {0u, 2u}) m.commit(m.change(m.key(i), c));
  EXPECT_EQ(m.member("bob")->ed25519, m.key(1).public_key());
  m.commit(m.change(m.key(3), c));
  EXPECT_EQ(m.member("bob")->ed25519, fresh.signing.public_key());
  EXPECT_EQ(m.member("bob")->x25519, fresh.x25519.public_key());
  EXPECT_TRUE(
      m.chain.state.membership.retired_x25519.contains(m.chain.members[1].x25519.public_key()));
  // The leaked key signs nothing any more; the new one does.
  auto leaked = m.build({m.tx(m.key(1), pb::TX_NOTE, "")});
  ASSERT_FALSE(leaked.ok());
  EXPECT_EQ(leaked.reason().reason, BlockInvalid::transaction_from_non_member);
  m.hold(fresh.signing);
  m.append({m.tx(fresh.signing, pb::TX_NOTE, "")});
}

TEST(MemberKeys, ARemovedPartnersTurnsEndAtOnce) {
  MemberChain m;
  TrainingPlan plan = test_plan(4, 2);
  ASSERT_EQ(m.commit(m.tx(m.key(0), pb::TX_START_RUN, plan_to_proto(plan).SerializeAsString())),
            std::nullopt);
  const chain::Run* run = m.chain.state.training.find_run("run-1");
  ASSERT_NE(run, nullptr);
  ASSERT_EQ(run->current_turn()->partner, "alice");
  const auto rm = MemberChain::remove_change("alice", 60);
  for (std::size_t i : {1u, 2u}) m.commit(m.change(m.key(i), rm));
  EXPECT_EQ(m.commit(m.change(m.key(3), rm)), std::nullopt);
  const std::uint64_t h = m.height();
  run = m.chain.state.training.find_run("run-1");
  EXPECT_EQ(run->turns[0].outcome, TurnOutcome::removed);
  EXPECT_EQ(run->turns[0].end_height, h);
  ASSERT_EQ(run->current_turn()->partner, "bob");
  EXPECT_EQ(run->current_turn()->start_height, h);
  // bob's, carol's and dave's turns expire; alice's second turn is skipped
  // in the block it begins.
  for (int guard = 0; guard < 200 && m.chain.state.training.find_run("run-1")->turns.size() < 6;
       ++guard)
    m.empty_blocks(1);
  run = m.chain.state.training.find_run("run-1");
  ASSERT_GE(run->turns.size(), 6u);
  EXPECT_EQ(run->turns[3].outcome, TurnOutcome::expired);
  EXPECT_EQ(run->turns[4].partner, "alice");
  EXPECT_EQ(run->turns[4].outcome, TurnOutcome::removed);
  EXPECT_EQ(run->turns[4].start_height, run->turns[4].end_height);
  EXPECT_EQ(run->turns[5].partner, "bob");
  EXPECT_EQ(run->turns[5].start_height, run->turns[4].end_height);
}

}  // namespace
}  // namespace baton::chain::testing

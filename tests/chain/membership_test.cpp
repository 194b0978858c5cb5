// Members by vote (issue 18, docs/PROTOCOL.md §25): a MemberChange applies in
// the block where its approvers first hold more than 2/3 of the current
// power, holds from the next block, and every attacker's shortcut is refused.
#include <gtest/gtest.h>

#include "chain/state_decode.h"
#include "membership_fixture.h"

namespace baton::chain::testing {
namespace {

// erin joins with power 1: alice, bob and carol (3 of 4) approve.
MemberSecretKeys add_erin(MemberChain& m) {
  const MemberSecretKeys erin = newcomer("erin", 0);
  const auto c = MemberChain::add_change(erin, m.height() + 50);
  EXPECT_EQ(m.commit(m.change(m.key(0), c)), std::nullopt);
  EXPECT_EQ(m.commit(m.change(m.key(1), c)), std::nullopt);
  EXPECT_EQ(m.members().size(), 4u);  // 2 of 4 is no quorum
  EXPECT_EQ(m.commit(m.change(m.key(2), c)), std::nullopt);
  m.hold(erin.signing);
  return erin;
}

TEST(Membership, AnAddAppliesWhenTheApproversPassTwoThirdsAndHoldsFromTheNextBlock) {
  MemberChain m;
  EXPECT_EQ(&current_members(m.chain.spec, m.chain.state), &m.chain.spec.genesis.members);
  const Hash genesis_state = state_hash(kChainId, m.chain.state);
  const MemberSecretKeys erin = add_erin(m);
  const std::uint64_t h = m.height();
  ASSERT_EQ(m.members().size(), 5u);
  const GenesisMember* e = m.member("erin");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->ed25519, erin.signing.public_key());
  EXPECT_EQ(e->x25519, erin.x25519.public_key());
  EXPECT_EQ(e->power, 1u);
  EXPECT_EQ(m.validators().total_power(), 5u);
  EXPECT_TRUE(m.chain.state.membership.pending.empty());
  EXPECT_EQ(m.chain.state.membership.last_change_height, h);
  // Block h was signed by the four: what a snapshot at h checks it against.
  EXPECT_EQ(signers_of_state_block(m.chain.spec, m.chain.state).total_power(), 4u);
  EXPECT_NE(state_hash(kChainId, m.chain.state), genesis_state);
  // From h + 1 erin sends (its first nonce) and signs the commit.
  m.append({m.tx(erin.signing, pb::TX_NOTE, "")});
  EXPECT_EQ(m.chain.state.next_nonce(erin.signing.public_key()), 2u);
  EXPECT_EQ(signers_of_state_block(m.chain.spec, m.chain.state).total_power(), 5u);
}

TEST(Membership, ANewMembersTransactionIsRefusedInTheBlockThatAddsIt) {
  MemberChain m;
  const MemberSecretKeys erin = newcomer("erin", 0);
  const auto c = MemberChain::add_change(erin, 50);
  m.commit(m.change(m.key(0), c));
  m.commit(m.change(m.key(1), c));
  // carol's approval and erin's note in one block: erin is no member yet.
  m.hold(erin.signing);
  auto block = m.build({m.change(m.key(2), c), m.tx(erin.signing, pb::TX_NOTE, "")});
  ASSERT_FALSE(block.ok());
  EXPECT_EQ(block.reason().reason, BlockInvalid::transaction_from_non_member);
}

TEST(Membership, ANonValidatorCannotProposeOrApprove) {
  MemberChain m({1, 1, 1, 0});  // dave: power 0
  EXPECT_EQ(m.commit(m.change(m.key(3), MemberChain::remove_change("alice", 40))),
            ProtocolRejected::not_validator);
  EXPECT_TRUE(m.chain.state.membership.pending.empty());
}

TEST(Membership, AChangeThatNeverReachesTheQuorumLapses) {
  MemberChain m;
  const auto c = MemberChain::remove_change("dave", m.height() + 3);
  m.commit(m.change(m.key(0), c));
  m.commit(m.change(m.key(1), c));
  ASSERT_EQ(m.chain.state.membership.pending.size(), 1u);
  m.empty_blocks(1);  // height 3 = expires_at_height: it lapses at the end of it
  EXPECT_TRUE(m.chain.state.membership.pending.empty());
  EXPECT_TRUE(m.chain.state.membership.empty());
  EXPECT_EQ(m.members().size(), 4u);
  // A late approval is refused, not counted.
  EXPECT_EQ(m.commit(m.change(m.key(2), c)), ProtocolRejected::change_expired);
  EXPECT_EQ(m.members().size(), 4u);
}

TEST(Membership, TheExpiryMustLieAheadAndWithinTheBound) {
  MemberChain m;
  const std::uint64_t next = m.height() + 1;
  EXPECT_EQ(m.commit(m.change(m.key(0), MemberChain::remove_change("dave", next - 1))),
            ProtocolRejected::change_expired);
  EXPECT_EQ(m.commit(m.change(m.key(0), MemberChain::remove_change(
                                            "dave", m.height() + 1 + kMaxChangeLifetime + 1))),
            ProtocolRejected::change_expired);
  EXPECT_EQ(m.commit(m.change(
                m.key(0), MemberChain::remove_change("dave", m.height() + 1 + kMaxChangeLifetime))),
            std::nullopt);
}

TEST(Membership, ADoubleApprovalCountsOnce) {
  MemberChain m;
  const auto c = MemberChain::remove_change("dave", 50);
  EXPECT_EQ(m.commit(m.change(m.key(0), c)), std::nullopt);
  EXPECT_EQ(m.commit(m.change(m.key(0), c)), ProtocolRejected::already_approved);
  // Both in one block: the second is refused too.
  auto block = m.build({m.change(m.key(1), c), m.change(m.key(1), c)});
  ASSERT_TRUE(block.ok());
  m.chain.state = validate_block(m.chain.spec, m.chain.state, *block).value();
  const auto& pending = m.chain.state.membership.pending;
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending.begin()->second.approvers, (std::set<std::string>{"alice", "bob"}));
  EXPECT_EQ(m.members().size(), 4u);
}

TEST(Membership, ARemovedValidatorsApprovalNoLongerCounts) {
  MemberChain m;
  // dave approves erin's admission, then dave is removed.
  const MemberSecretKeys erin = newcomer("erin", 0);
  const auto add = MemberChain::add_change(erin, 80);
  m.commit(m.change(m.key(3), add));
  const auto rm = MemberChain::remove_change("dave", 80);
  for (std::size_t i : {0u, 1u, 2u}) m.commit(m.change(m.key(i), rm));
  ASSERT_EQ(m.member("dave"), nullptr);
  // alice and bob: 2 of the 3 left, not more than 2/3; with dave's it would be.
  m.commit(m.change(m.key(0), add));
  m.commit(m.change(m.key(1), add));
  EXPECT_EQ(m.member("erin"), nullptr);
  m.commit(m.change(m.key(2), add));
  EXPECT_NE(m.member("erin"), nullptr);
}

TEST(Membership, ARemovedMembersTransactionsAreRefusedFromTheNextBlockAndTheCommitFollows) {
  MemberChain m;
  const auto rm = MemberChain::remove_change("dave", 50);
  m.commit(m.change(m.key(0), rm));
  m.commit(m.change(m.key(1), rm));
  // carol's approval applies it in this block; dave's note in the same block
  // is still his (the set after the block before).
  m.append({m.change(m.key(2), rm), m.tx(m.key(3), pb::TX_NOTE, "")});
  ASSERT_EQ(m.member("dave"), nullptr);
  EXPECT_EQ(m.validators().total_power(), 3u);
  auto refused = m.build({m.tx(m.key(3), pb::TX_NOTE, "")});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.reason().reason, BlockInvalid::transaction_from_non_member);
  // Block h + 1 signed by bob, carol and dave: 3 of 4 of the old set, but
  // dave is no signer any more and 2 of 3 is no quorum.
  const PublicKey b = m.key(1).public_key(), c = m.key(2).public_key(), d = m.key(3).public_key();
  auto by_old = m.build({}, std::vector<PublicKey>{b, c, d});
  ASSERT_TRUE(by_old.ok());
  auto r = validate_block(m.chain.spec, m.chain.state, *by_old);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason().reason, BlockInvalid::commit_non_member_signature);
  auto by_two = m.build({}, std::vector<PublicKey>{b, c});
  r = validate_block(m.chain.spec, m.chain.state, *by_two);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason().reason, BlockInvalid::commit_insufficient_power);
  auto by_three = m.build({}, std::vector<PublicKey>{m.key(0).public_key(), b, c});
  EXPECT_TRUE(validate_block(m.chain.spec, m.chain.state, *by_three).ok());
  // The overload without a state still checks against the genesis set.
  EXPECT_TRUE(check_block_stateless(m.chain.spec, *by_old).ok());
  EXPECT_FALSE(check_block_stateless(m.chain.spec, m.validators(), *by_old).ok());
}

TEST(Membership, NamesAndKeysAreNeverReused) {
  MemberChain m;
  const auto rm = MemberChain::remove_change("dave", 50);
  for (std::size_t i : {0u, 1u, 2u}) m.commit(m.change(m.key(i), rm));
  ASSERT_EQ(m.member("dave"), nullptr);
  // dave again, with fresh keys: the name is retired.
  MemberSecretKeys again = newcomer("dave", 1);
  EXPECT_EQ(m.commit(m.change(m.key(0), MemberChain::add_change(again, 60))),
            ProtocolRejected::name_taken);
  // A new name with dave's old keys: retired.
  MemberSecretKeys old_keys = m.chain.members[3];
  old_keys.name = "frank";
  EXPECT_EQ(m.commit(m.change(m.key(0), MemberChain::add_change(old_keys, 60))),
            ProtocolRejected::key_taken);
  // A new name with a current member's keys; an existing name.
  MemberSecretKeys bobs = m.chain.members[1];
  bobs.name = "gina";
  EXPECT_EQ(m.commit(m.change(m.key(0), MemberChain::add_change(bobs, 60))),
            ProtocolRejected::key_taken);
  MemberSecretKeys carol = newcomer("carol", 2);
  EXPECT_EQ(m.commit(m.change(m.key(0), MemberChain::add_change(carol, 60))),
            ProtocolRejected::name_taken);
  EXPECT_TRUE(m.chain.state.membership.pending.empty());
}

TEST(Membership, FieldsAreBoundedAndFollowTheGenesisRoleRules) {
  MemberChain m;
  const MemberSecretKeys erin = newcomer("erin", 0);
  auto bad = [&](auto edit) {
    pb::MemberChange c = MemberChain::add_change(erin, 60);
    edit(c);
    return m.commit(m.change(m.key(0), c));
  };
  const auto refused = std::optional(ProtocolRejected::bad_member_fields);
  EXPECT_EQ(bad([](auto& c) { c.set_name("bad name"); }), refused);
  EXPECT_EQ(bad([](auto& c) { c.set_ed25519("short"); }), refused);
  EXPECT_EQ(bad([](auto& c) { c.set_x25519(std::string(31, 'x')); }), refused);
  EXPECT_EQ(bad([](auto& c) { c.set_p2p_address("no-port"); }), refused);
  EXPECT_EQ(bad([](auto& c) { c.set_p2p_address(std::string(300, 'h') + ":1"); }), refused);
  EXPECT_EQ(bad([](auto& c) { c.set_power(0); }), refused);            // "validator" needs power
  EXPECT_EQ(bad([](auto& c) { c.clear_roles(); }), refused);           // power needs "validator"
  EXPECT_EQ(bad([](auto& c) { c.add_roles("validator"); }), refused);  // twice
  EXPECT_EQ(bad([](auto& c) { c.add_roles("owner"); }), refused);
  EXPECT_EQ(bad([](auto& c) {
              c.set_power(0);
              c.clear_roles();
              c.add_roles("sponsor");
              c.add_roles("partner");
            }),
            refused);
  EXPECT_EQ(bad([](auto& c) { c.set_power(std::uint64_t{1} << 62); }), refused);
  EXPECT_EQ(bad([](auto& c) { c.set_kind(pb::MemberChange::KIND_UNKNOWN); }), refused);
  // A REMOVE carries nothing but the name and the expiry.
  auto rm = MemberChain::remove_change("dave", 60);
  rm.set_power(1);
  EXPECT_EQ(m.commit(m.change(m.key(0), rm)), refused);
  EXPECT_TRUE(m.chain.state.membership.pending.empty());
  EXPECT_EQ(m.commit(m.change(m.key(0), MemberChain::remove_change("zoe", 60))),
            ProtocolRejected::unknown_member);
}

TEST(Membership, TheLastVotingPowerCannotBeRemoved) {
  MemberChain m({1, 0, 0, 0});
  EXPECT_EQ(m.commit(m.change(m.key(0), MemberChain::remove_change("alice", 60))),
            ProtocolRejected::last_validator);
  pb::MemberChange u;
  u.set_kind(pb::MemberChange::UPDATE);
  u.set_name("alice");
  u.set_p2p_address("10.0.0.1:1");
  u.add_roles("admin");
  u.set_expires_at_height(60);
  EXPECT_EQ(m.commit(m.change(m.key(0), u)), ProtocolRejected::last_validator);
  // Alone, alice holds the quorum: her own change applies at once.
  EXPECT_EQ(m.commit(m.change(m.key(0), MemberChain::remove_change("bob", 60))), std::nullopt);
  EXPECT_EQ(m.member("bob"), nullptr);
}

TEST(Membership, AnUpdateChangesPowerRolesAndAddressAndTheQuorumFollows) {
  MemberChain m;
  pb::MemberChange u;
  u.set_kind(pb::MemberChange::UPDATE);
  u.set_name("dave");
  u.set_p2p_address("10.0.0.4:26656");
  u.set_power(3);
  u.add_roles("validator");
  u.set_expires_at_height(60);
  for (std::size_t i : {0u, 1u, 2u}) m.commit(m.change(m.key(i), u));
  const GenesisMember* d = m.member("dave");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->power, 3u);
  EXPECT_EQ(d->p2p_address, "10.0.0.4:26656");
  EXPECT_EQ(d->roles, std::vector<std::string>{"validator"});
  EXPECT_EQ(m.validators().total_power(), 6u);
  // alice, bob and carol (3 of 6) no longer hold a quorum for anything.
  const auto rm = MemberChain::remove_change("alice", 90);
  for (std::size_t i : {1u, 2u}) m.commit(m.change(m.key(i), rm));
  m.commit(m.change(m.key(0), rm));
  EXPECT_NE(m.member("alice"), nullptr);
  m.commit(m.change(m.key(3), rm));
  EXPECT_EQ(m.member("alice"), nullptr);
}

TEST(Membership, ThePendingChangesAreBoundedPerProposerAndInAll) {
  MemberChain m;
  for (std::uint8_t i = 0; i < kMaxPendingPerProposer; ++i)
    EXPECT_EQ(m.commit(m.change(m.key(0),
                                MemberChain::add_change(newcomer("n" + std::to_string(i), i), 60))),
              std::nullopt);
  EXPECT_EQ(m.commit(m.change(m.key(0), MemberChain::add_change(newcomer("n9", 9), 60))),
            ProtocolRejected::too_many_pending);
  // Approving another's change is no new pending change: still allowed.
  EXPECT_EQ(m.commit(m.change(m.key(1), MemberChain::add_change(newcomer("n0", 0), 60))),
            std::nullopt);
  // The total bound, with the state filled as if by many validators.
  LedgerState full = m.chain.state;
  for (std::size_t i = full.membership.pending.size(); i < kMaxPendingChanges; ++i) {
    PendingChange p;
    p.change = MemberChain::remove_change("dave", 100 + i);
    p.payload = p.change.SerializeAsString();
    p.proposer = "someone-" + std::to_string(i);
    full.membership.pending.emplace(sha256(p.payload), p);
  }
  const auto t = m.change(m.key(2), MemberChain::remove_change("dave", 60));
  EXPECT_EQ(check_protocol_tx(m.chain.spec, full, t), ProtocolRejected::too_many_pending);
}

TEST(Membership, TheStateWithMembershipRoundTripsThroughItsBytes) {
  MemberChain m;
  add_erin(m);
  const auto rm = MemberChain::remove_change("dave", 90);
  for (std::size_t i : {0u, 1u, 2u, 3u}) m.commit(m.change(m.key(i), rm));
  m.commit(m.change(m.key(0), MemberChain::remove_change("bob", 95)));  // pending
  const Bytes bytes = state_encoding(m.chain.state);
  auto decoded = decode_state(bytes, m.chain.spec.genesis);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  decoded->height = m.chain.state.height;
  decoded->last_block_id = m.chain.state.last_block_id;
  EXPECT_EQ(*decoded, m.chain.state);
  EXPECT_EQ(state_hash(kChainId, *decoded), state_hash(kChainId, m.chain.state));
  EXPECT_EQ(current_members(m.chain.spec, *decoded).size(), 4u);  // erin in, dave out
  EXPECT_EQ(pending_changes(m.chain.spec, *decoded).size(), 1u);
  // Every cut inside the membership part (the last part here) is refused.
  ASSERT_TRUE(m.chain.state.training.empty());
  const std::size_t part = membership_encoding(m.chain.state.membership).size();
  for (std::size_t n = bytes.size() - part; n < bytes.size(); ++n)
    EXPECT_FALSE(decode_state(ByteView(bytes).first(n), m.chain.spec.genesis).ok()) << n;
}

TEST(Membership, PendingChangesShowTheirApproversAndPowers) {
  MemberChain m;
  const auto c = MemberChain::remove_change("dave", 70);
  m.commit(m.change(m.key(0), c));
  m.commit(m.change(m.key(1), c));
  const auto views = pending_changes(m.chain.spec, m.chain.state);
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].id, sha256(c.SerializeAsString()));
  EXPECT_EQ(views[0].kind, "remove");
  EXPECT_EQ(views[0].name, "dave");
  EXPECT_EQ(views[0].approvers, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(views[0].approved_power, 2u);
  EXPECT_EQ(views[0].quorum_power, 3u);
  EXPECT_EQ(views[0].expires_at_height, 70u);
}

}  // namespace
}  // namespace baton::chain::testing

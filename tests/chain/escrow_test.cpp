// The sponsor and the escrow (issue 13, docs/PROTOCOL.md §19.6-19.7): the
// genesis role, a plan that waits for its funding (and ends unfunded when it
// never comes, refunding the sponsor), the release that pays every partner
// by its tokens, the payout at the release deadline, and every refusal,
// played by a member that wants credits or a model it has no right to.
#include <limits>

#include <gtest/gtest.h>

#include "chain/payout_tokens.h"
#include "chain/training_decode.h"
#include "economy_fixture.h"

namespace baton::chain::testing {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// Alice, bob and carol train and vote; dave sponsors with 1000 credits.
void sponsored(ProtocolChain& p, std::vector<std::uint64_t> balances = {0, 0, 0, 1000}) {
  use_genesis(p, sponsor_genesis(std::move(balances)));
  p.empty_blocks(1);  // block 1 credits the allocations
}

// One turn of `partner`, voted on by the two others with AUC gains `g1` and
// `g2` (ppm, over a head AUC of 0.5); approved when both are >= 0. A vote
// after the quorum decided counts for the gain (settled at the vote deadline).
void play_turn(ProtocolChain& p, std::size_t partner, std::int64_t g1, std::int64_t g2) {
  std::vector<std::size_t> voters;
  for (std::size_t v : {kAlice, kBob, kCarol})
    if (v != partner) voters.push_back(v);
  const std::uint64_t turn = p.turn().index;
  const Hash req = p.commit(p.load_request(partner, turn, p.run().head));
  for (std::size_t v : voters) p.commit(p.load_approval(v, req));
  const Hash save = p.commit(p.save_request(partner, turn, p.run().head));
  const std::int64_t gains[] = {g1, g2};
  for (std::size_t k = 0; k < 2; ++k) {
    const auto cand = static_cast<std::uint32_t>(500000 + gains[k]);
    const bool decided = p.run().turns[turn].phase != TurnPhase::save_voting;
    if (decided && p.run().turns[turn].outcome != TurnOutcome::approved) break;  // no gain
    p.commit(p.model_vote(voters[k], save, gains[k] >= 0, cand, 500000));
  }
}

std::uint64_t total_credits(const TrainingState& ts) {
  std::uint64_t sum = 0;
  for (const auto& [name, b] : ts.accounts.balances) sum += b;
  for (const auto& [id, run] : ts.runs)
    if (run.escrow && run.escrow->state == EscrowState::open) sum += run.escrow->funded;
  return sum;
}

void expect_round_trip(const ProtocolChain& p) {
  const Bytes bytes = training_encoding(p.training());
  auto back = decode_training_state(ByteView(bytes), p.chain.spec.genesis);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, p.training());
}

TEST(Escrow, TheSponsorRoleHasNoPowerNoDataAndNoVote) {
  EXPECT_TRUE(parse_genesis(encode_genesis(sponsor_genesis({}))));
  Genesis with_power = sponsor_genesis({});
  with_power.members[kDave].power = 1;
  with_power.members[kDave].roles = {"sponsor", "validator"};
  Genesis partner = sponsor_genesis({});
  partner.members[kDave].roles = {"sponsor", "partner"};
  for (const Genesis& g : {with_power, partner}) {
    auto r = parse_genesis(encode_genesis(g));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("is a \"sponsor\""), std::string::npos) << r.error().message;
  }
}

TEST(Escrow, APlanNamesARealSponsorAndDeadlinesThatEnd) {
  const Genesis g = sponsor_genesis({});
  EXPECT_TRUE(validate_plan(g, escrow_plan()));
  EXPECT_TRUE(validate_plan(g, escrow_plan(100)));
  struct Row {
    const char* what;
    void (*edit)(TrainingPlan&);
  };
  const Row rows[] = {
      {"a partner as sponsor", [](TrainingPlan& p) { p.sponsor = "alice"; }},
      {"no such member", [](TrainingPlan& p) { p.sponsor = "mallory"; }},
      {"no release deadline", [](TrainingPlan& p) { p.release_deadline_blocks = 0; }},
      {"a release deadline past the bound",
       [](TrainingPlan& p) { p.release_deadline_blocks = kMaxDeadlineBlocks + 1; }},
      {"a funding deadline without a minimum",
       [](TrainingPlan& p) { p.funding_deadline_blocks = 6; }},
      {"escrow numbers without a sponsor",
       [](TrainingPlan& p) {
         p.sponsor.clear();
         p.release_deadline_blocks = 0;
         p.min_escrow = 5;
       }},
  };
  for (const Row& row : rows) {
    TrainingPlan plan = escrow_plan();
    row.edit(plan);
    EXPECT_FALSE(validate_plan(g, plan)) << row.what;
  }
  TrainingPlan no_funding_deadline = escrow_plan(100);
  no_funding_deadline.funding_deadline_blocks = 0;
  EXPECT_FALSE(validate_plan(g, no_funding_deadline));
  // The JSON form round-trips.
  const TrainingPlan plan = escrow_plan(100);
  auto back = plan_from_json(g, plan_to_json(plan));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ((*back)->sponsor, "dave");
  EXPECT_EQ((*back)->min_escrow, 100u);
  EXPECT_EQ((*back)->funding_deadline_blocks, 6u);
  EXPECT_EQ((*back)->release_deadline_blocks, 5u);
  EXPECT_FALSE(plan_to_json(test_plan(3)).contains("escrow"));
}

TEST(Escrow, ARunThatRequiresFundingWaitsForItThenBeginsTurnZero) {
  ProtocolChain p;
  sponsored(p);
  p.commit(p.start(kAlice, escrow_plan(100)));  // block 2
  EXPECT_EQ(p.run().status, RunStatus::awaiting_funding);
  EXPECT_TRUE(p.run().turns.empty());
  EXPECT_FALSE(whose_turn(p.training()));
  // Nobody can act on a turn that has not begun, nor start another run.
  EXPECT_EQ(p.refusal(p.load_request(kAlice, 0, std::nullopt)), ProtocolRejected::wrong_phase);
  TrainingPlan other = escrow_plan();
  other.run_id = "run-2";
  EXPECT_EQ(p.refusal(p.start(kAlice, other)), ProtocolRejected::run_active);
  p.commit(fund(p, kDave, 60));
  EXPECT_EQ(p.run().status, RunStatus::awaiting_funding);
  expect_round_trip(p);
  p.commit(fund(p, kDave, 40));  // block 4: the minimum is reached
  EXPECT_EQ(p.run().status, RunStatus::active);
  ASSERT_EQ(p.run().turns.size(), 1u);
  EXPECT_EQ(p.turn().start_height, 4u);
  EXPECT_EQ(p.run().escrow->funded, 100u);
  EXPECT_EQ(p.training().accounts.balance("dave"), 900u);
  p.commit(p.load_request(kAlice, 0, std::nullopt));
}

TEST(Escrow, FundingThatNeverComesEndsTheRunAndRefundsTheSponsor) {
  ProtocolChain p;
  sponsored(p);
  p.commit(p.start(kAlice, escrow_plan(100)));  // block 2: funding deadline 2 + 6 = 8
  p.commit(fund(p, kDave, 30));
  EXPECT_EQ(p.training().accounts.balance("dave"), 970u);
  p.empty_blocks(4);  // blocks 4..7
  EXPECT_EQ(p.run().status, RunStatus::awaiting_funding);
  p.empty_blocks(1);  // block 8
  EXPECT_EQ(p.run().status, RunStatus::unfunded);
  EXPECT_EQ(p.run().end_height, 8u);
  EXPECT_FALSE(p.training().active_run);
  EXPECT_EQ(p.run().escrow->state, EscrowState::refunded);
  EXPECT_EQ(p.training().accounts.balance("dave"), 1000u);
  EXPECT_EQ(p.refusal(fund(p, kDave, 1)), ProtocolRejected::run_finished);
  EXPECT_EQ(p.refusal(release(p, kDave)), ProtocolRejected::already_released);
  // The consortium is free again.
  TrainingPlan next = escrow_plan();
  next.run_id = "run-2";
  p.commit(p.start(kAlice, next));
  expect_round_trip(p);
}

TEST(Escrow, TheReleasePaysEveryPartnerByItsTokensAndOnlyOnce) {
  ProtocolChain p;
  sponsored(p);
  p.commit(p.start(kAlice, escrow_plan()));
  p.commit(fund(p, kDave, 1000));
  // The run is not finished: the sponsor cannot release, nobody else either.
  EXPECT_EQ(p.refusal(release(p, kDave)), ProtocolRejected::run_not_finished);
  EXPECT_EQ(p.refusal(release(p, kAlice)), ProtocolRejected::not_sponsor);
  EXPECT_EQ(p.refusal(fund(p, kAlice, 1)), ProtocolRejected::not_sponsor);
  EXPECT_EQ(p.refusal(fund(p, kDave, 1001)), ProtocolRejected::insufficient_balance);
  EXPECT_EQ(p.refusal(fund(p, kDave, 0)), ProtocolRejected::zero_amount);
  EXPECT_EQ(p.refusal(fund(p, kDave, 1, "no-such-run")), ProtocolRejected::wrong_run);
  play_turn(p, kAlice, 20000, 40000);  // settles at +20000: the middle point nearest zero
  play_turn(p, kBob, -5000, -5000);    // rejected: no tokens
  play_turn(p, kCarol, 10000, 10000);  // +10000, the last turn: its votes are still open
  ASSERT_EQ(p.run().status, RunStatus::finished);
  // Late votes could still move the tokens until the last vote deadline.
  EXPECT_FALSE(gains_settled(p.run()));
  EXPECT_EQ(p.refusal(release(p, kDave)), ProtocolRejected::gains_not_settled);
  while (!gains_settled(p.run())) p.empty_blocks(1);
  EXPECT_EQ(p.run().escrow->state, EscrowState::open);
  EXPECT_EQ(p.run().contributivity_ppm.at("alice"), 20000);
  EXPECT_EQ(p.run().contributivity_ppm.at("carol"), 10000);
  EXPECT_EQ(p.refusal(fund(p, kDave, 1)), ProtocolRejected::run_finished);
  EXPECT_EQ(p.refusal(release(p, kBob)), ProtocolRejected::not_sponsor);
  const std::uint64_t before = total_credits(p.training());
  p.commit(release(p, kDave));
  const Escrow& e = *p.run().escrow;
  EXPECT_EQ(e.state, EscrowState::released);
  // floor(1000 * 20000 / 30000) = 666, floor(1000 * 10000 / 30000) = 333 (carol); the
  // remainder 1 goes back to the sponsor.
  EXPECT_EQ(e.payouts,
            (std::map<std::string, std::uint64_t>{{"alice", 666}, {"carol", 333}, {"dave", 1}}));
  EXPECT_EQ(p.training().accounts.balance("alice"), 666u);
  EXPECT_EQ(p.training().accounts.balance("carol"), 333u);
  EXPECT_EQ(p.training().accounts.balance("bob"), 0u);
  EXPECT_EQ(p.training().accounts.balance("dave"), 1u);
  EXPECT_EQ(total_credits(p.training()), before);
  EXPECT_EQ(p.refusal(release(p, kDave)), ProtocolRejected::already_released);
  expect_round_trip(p);
  // Past the release deadline nothing more happens: it settled once.
  p.empty_blocks(6);
  EXPECT_EQ(p.run().escrow->state, EscrowState::released);
  EXPECT_EQ(p.training().accounts.balance("alice"), 666u);
}

TEST(Escrow, WithoutAReleaseThePartnersArePaidAtTheDeadlineAndTheSponsorLosesTheModel) {
  ProtocolChain p;
  sponsored(p);
  p.commit(p.start(kAlice, escrow_plan()));
  p.commit(fund(p, kDave, 999));
  play_turn(p, kAlice, 20000, 20000);
  play_turn(p, kBob, 10000, 10000);
  play_turn(p, kCarol, 10000, 10000);
  ASSERT_EQ(p.run().status, RunStatus::finished);
  const std::uint64_t end = p.run().end_height;
  p.empty_blocks(4);  // end + 4: still open
  EXPECT_EQ(p.run().escrow->state, EscrowState::open);
  p.empty_blocks(1);  // end + 5: the release deadline
  const Escrow& e = *p.run().escrow;
  EXPECT_EQ(e.state, EscrowState::paid_at_deadline);
  EXPECT_EQ(e.settled_height, end + 5);
  // 999 * 2/4 = 499.5 -> 499; 999 * 1/4 = 249.75 -> 249 (twice); remainder 2 -> dave.
  EXPECT_EQ(e.payouts, (std::map<std::string, std::uint64_t>{
                           {"alice", 499}, {"bob", 249}, {"carol", 249}, {"dave", 2}}));
  EXPECT_EQ(p.training().accounts.balance("dave"), 1 + 2u);
  EXPECT_EQ(p.refusal(release(p, kDave)), ProtocolRejected::already_released);
  expect_round_trip(p);
}

// The block clock (issue 18): the nodes make empty blocks every second only
// while something waits for a height: the run, its last gains, the escrow's
// release deadline. Before the run and once everything settled, nothing does.
TEST(Escrow, TheChainNeedsItsClockUntilTheLastDeadlineHasPassed) {
  ProtocolChain p;
  sponsored(p);
  EXPECT_FALSE(needs_block_clock(p.training())) << "no run yet";
  p.commit(p.start(kAlice, escrow_plan()));
  EXPECT_TRUE(needs_block_clock(p.training())) << "awaiting funding: its deadline counts";
  p.commit(fund(p, kDave, 999));
  play_turn(p, kAlice, 20000, 20000);
  EXPECT_TRUE(needs_block_clock(p.training())) << "active";
  play_turn(p, kBob, 10000, 10000);
  play_turn(p, kCarol, 10000, 10000);
  ASSERT_EQ(p.run().status, RunStatus::finished);
  EXPECT_TRUE(needs_block_clock(p.training())) << "the last vote deadline is ahead";
  while (!gains_settled(p.run())) p.empty_blocks(1);
  ASSERT_EQ(p.run().escrow->state, EscrowState::open);
  EXPECT_TRUE(needs_block_clock(p.training())) << "the release deadline is ahead";
  while (p.run().escrow->state == EscrowState::open) p.empty_blocks(1);
  EXPECT_FALSE(needs_block_clock(p.training())) << "paid at the deadline: nothing left";
}

// The final model's key goes to the sponsor only after its release, only
// from a member that received it, only with the SaveRequest's commitment.
TEST(Escrow, TheModelKeyIsGrantedToTheSponsorOnlyAfterItsRelease) {
  ProtocolChain p;
  sponsored(p);
  p.commit(p.start(kAlice, escrow_plan()));
  p.commit(fund(p, kDave, 100));
  play_turn(p, kAlice, 20000, 20000);
  play_turn(p, kBob, 10000, 10000);
  play_turn(p, kCarol, -1, -1);  // rejected: the head stays bob's model
  ASSERT_EQ(p.run().status, RunStatus::finished);
  const Hash head = *p.run().head;
  const Hash commitment = find_save(p.run(), head)->key_commitment;
  const Hash earlier = p.run().models[0].id;
  // Before the release nobody may grant it.
  EXPECT_EQ(p.refusal(key_grant(p, kAlice, head, commitment)), ProtocolRejected::not_released);
  p.commit(release(p, kDave));
  struct Row {
    const char* what;
    pb::Transaction tx;
    ProtocolRejected reason;
  };
  const Row rows[] = {
      {"to a partner", key_grant(p, kAlice, head, commitment, "carol"),
       ProtocolRejected::grant_to_non_sponsor},
      {"another commitment", key_grant(p, kAlice, head, fake_hash(0x77)),
       ProtocolRejected::key_commitment_mismatch},
      {"an earlier model", key_grant(p, kAlice, earlier, commitment),
       ProtocolRejected::not_key_holder},
  };
  for (const Row& row : rows) EXPECT_EQ(p.refusal(row.tx), row.reason) << row.what;
  pb::KeyGrant short_key;
  short_key.set_run_id("run-1");
  short_key.set_model_id(hash_bytes(head));
  short_key.set_recipient("dave");
  short_key.set_wrapped_key("short");
  short_key.set_key_commitment(hash_bytes(commitment));
  EXPECT_EQ(p.refusal(p.tx(kAlice, pb::TX_KEY_GRANT, short_key)),
            ProtocolRejected::malformed_request);
  // Any holder may grant; each grant is kept, so one bad granter cannot
  // block the sponsor.
  p.commit(key_grant(p, kAlice, head, commitment));
  p.commit(key_grant(p, kCarol, head, commitment));
  EXPECT_EQ(p.run().escrow->key_grants.size(), 2u);
  EXPECT_TRUE(p.run().escrow->key_grants.contains("carol"));
  expect_round_trip(p);
}

// A partner that wraps its candidate's key for the sponsor would hand the
// model over before the sponsor paid: the SaveRequest is refused.
TEST(Escrow, ASaveRequestThatWrapsAKeyForTheSponsorIsRefused) {
  ProtocolChain p;
  sponsored(p);
  p.commit(p.start(kAlice, escrow_plan()));
  const Hash req = p.commit(p.load_request(kAlice, 0, std::nullopt));
  p.commit(p.load_approval(kBob, req));
  p.commit(p.load_approval(kCarol, req));
  pb::Transaction leak = p.save_request(kAlice, 0, std::nullopt);
  pb::SaveRequest r;
  ASSERT_TRUE(r.ParseFromString(leak.payload()));
  ASSERT_EQ(r.key_recipients_size(), 3);  // alice, bob, carol: the fixture leaves dave out
  r.add_key_recipients("dave");
  r.add_wrapped_keys(std::string(kWrappedKeyBytes, 'd'));
  EXPECT_EQ(p.refusal(p.tx(kAlice, pb::TX_SAVE_REQUEST, r)), ProtocolRejected::malformed_request);
  // The same request without dave's key is accepted.
  p.commit(p.save_request(kAlice, 0, std::nullopt));
  EXPECT_EQ(p.run().turns[0].phase, TurnPhase::save_voting);
}

TEST(Escrow, AfterTheDeadlinePayoutNoKeyIsGranted) {
  ProtocolChain p;
  sponsored(p);
  p.commit(p.start(kAlice, escrow_plan()));
  play_turn(p, kAlice, 20000, 20000);
  play_turn(p, kBob, 10000, 10000);
  play_turn(p, kCarol, 10000, 10000);
  p.empty_blocks(5);
  ASSERT_EQ(p.run().escrow->state, EscrowState::paid_at_deadline);
  const Hash head = *p.run().head;
  EXPECT_EQ(p.refusal(key_grant(p, kAlice, head, find_save(p.run(), head)->key_commitment)),
            ProtocolRejected::not_released);
}

TEST(Escrow, PayoutsFloorEachShareGiveTheRemainderToTheSponsorAndNeverOverflow) {
  using Payouts = std::map<std::string, std::uint64_t>;
  EXPECT_EQ(escrow_payouts(10, {{"a", 1}, {"b", 1}, {"c", 1}}, "s"),
            (Payouts{{"a", 3}, {"b", 3}, {"c", 3}, {"s", 1}}));
  EXPECT_EQ(escrow_payouts(10, {{"a", 0}, {"b", 0}}, "s"), (Payouts{{"s", 10}}));
  EXPECT_EQ(escrow_payouts(0, {{"a", 5}}, "s"), Payouts{});
  EXPECT_EQ(escrow_payouts(7, {{"a", 5}, {"b", 0}}, "s"), (Payouts{{"a", 7}}));
  // The largest numbers: escrow * tokens needs 128 bits, the sum of tokens 65.
  const Payouts big = escrow_payouts(kMax, {{"a", kMax}, {"b", kMax}}, "s");
  EXPECT_EQ(big, (Payouts{{"a", kMax / 2}, {"b", kMax / 2}, {"s", 1}}));
  // A partner with a negative contributivity gets no tokens, not a debt.
  chain::Run run;
  run.plan.partners = {"a", "b"};
  run.contributivity_ppm = {{"a", -400000}, {"b", 25}};
  EXPECT_EQ(payout_tokens(run), (Payouts{{"a", 0}, {"b", 25}}));
}

}  // namespace
}  // namespace baton::chain::testing

// The auditor on issue 13's and 14's state: accounts and transfers, the
// escrow and its release, key grants, deposits, and the privacy budget. Each
// chain is replayed by tests/chain/audit_export.py to the same state hashes,
// and a block whose signed state hash misstates a balance or a spend is named.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit_fixture.h"
#include "privacy_fixture.h"
#include "tests/support/test_support.h"

namespace baton::chain::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- Accounts and escrow (issue 13, docs/PROTOCOL.md §19) ----

// One turn of `partner` on the three-validator chain, voted on by the two
// others with AUC gains g1 and g2 (ppm over a head AUC of 0.5): approved
// when both are >= 0, rejected at the first negative one.
// `leak`: first send a SaveRequest that also wraps the key for dave, the
// sponsor (refused: its key comes only by a grant after its release).
void play_turn(ProtocolChain& p, std::size_t partner, std::int64_t g1, std::int64_t g2,
               bool leak = false) {
  std::vector<std::size_t> voters;
  for (std::size_t v : {kAlice, kBob, kCarol})
    if (v != partner) voters.push_back(v);
  const std::uint64_t turn = p.turn().index;
  p.grant_load(partner, {voters[0], voters[1]});
  if (leak) {
    pb::SaveRequest r;
    ASSERT_TRUE(r.ParseFromString(p.save_request(partner, turn, p.run().head).payload()));
    r.add_key_recipients("dave");
    r.add_wrapped_keys(std::string(kWrappedKeyBytes, 'd'));
    EXPECT_EQ(p.commit_refused(p.tx(partner, pb::TX_SAVE_REQUEST, r)),
              ProtocolRejected::malformed_request);
  }
  const Hash save = p.commit(p.save_request(partner, turn, p.run().head));
  for (std::size_t k = 0; k < 2; ++k) {
    const std::int64_t gain = k == 0 ? g1 : g2;
    p.commit(p.model_vote(voters[k], save, gain >= 0, static_cast<std::uint32_t>(500000 + gain),
                          500000));
    if (gain < 0) break;  // rejected: two voters, one rejection decides
  }
}

// Transfers from block 1 on (the allocations are credited before its first
// transaction), an account emptied and dropped from the state, two transfers
// in one block that together overdraw, and every Transfer refusal.
TEST(ChainAuditTraining, ReplaysTransfersAndTheirRefusals) {
  ProtocolChain p;
  Genesis g = fixed_genesis();
  g.members[kAlice].balance = 1000;
  g.members[kCarol].balance = 250;
  use_genesis(p, g);
  p.commit(transfer(p, kAlice, "bob", 300));  // block 1
  p.commit(transfer(p, kBob, "carol", 300));  // bob's account leaves the state
  EXPECT_FALSE(p.training().accounts.balances.contains("bob"));
  EXPECT_EQ(p.commit_refused(transfer(p, kBob, "alice", 1)),
            ProtocolRejected::insufficient_balance);
  EXPECT_EQ(p.commit_refused(transfer(p, kAlice, "bob", 701)),
            ProtocolRejected::insufficient_balance);
  EXPECT_EQ(p.commit_refused(transfer(p, kAlice, "mallory", 5)),
            ProtocolRejected::unknown_recipient);
  EXPECT_EQ(p.commit_refused(transfer(p, kAlice, "", 5)), ProtocolRejected::unknown_recipient);
  EXPECT_EQ(p.commit_refused(transfer(p, kAlice, "bob", 0)), ProtocolRejected::zero_amount);
  p.commit(transfer(p, kAlice, "alice", 700));  // to oneself: nothing moves
  const pb::Transaction first = transfer(p, kAlice, "dave", 500);
  p.spent(first);
  const pb::Transaction second = transfer(p, kAlice, "carol", 500);
  p.spent(second);
  p.append({encode_transaction(first), encode_transaction(second)});
  ASSERT_NE(find_refusal(p.training(), tx_hash(encode_transaction(second))), nullptr);
  p.commit(transfer(p, kCarol, "dave", 550));  // carol's whole balance
  EXPECT_EQ(p.training().accounts.balances,
            (std::map<std::string, std::uint64_t>{{"alice", 200}, {"dave", 1050}}));
  EXPECT_EQ(p.training().refusals.total, 6u);
  expect_audit_agrees(p);
}

// A run that waits for its funding (turn transactions refused meanwhile),
// funded in two parts that empty the sponsor's account (the state hash falls
// back from v3 to v2 while the escrow holds every credit), three turns, the
// release refused until the gains settle, then paid by tokens with the
// remainder to the sponsor; key grants refused before the release and for
// every wrong field after it, two accepted and one replaced.
TEST(ChainAuditTraining, ReplaysAFundedRunReleasedByItsSponsorAndItsKeyGrants) {
  ProtocolChain p;
  use_genesis(p, sponsor_genesis({0, 0, 0, 1000}));
  TrainingPlan plan = escrow_plan(600);
  plan.funding_deadline_blocks = 20;  // room for the refusals below
  TrainingPlan partner_sponsor = plan, no_deadline = plan, no_sponsor = plan;
  partner_sponsor.sponsor = "alice";
  no_deadline.funding_deadline_blocks = 0;
  no_sponsor.sponsor.clear();
  for (const TrainingPlan& bad : {partner_sponsor, no_deadline, no_sponsor})
    EXPECT_EQ(p.commit_refused(p.start(kAlice, bad)), ProtocolRejected::invalid_plan);
  p.commit(p.start(kAlice, plan));
  EXPECT_EQ(p.run().status, RunStatus::awaiting_funding);
  EXPECT_EQ(p.commit_refused(p.load_request(kAlice, 0, std::nullopt)),
            ProtocolRejected::wrong_phase);
  EXPECT_EQ(p.commit_refused(fund(p, kAlice, 1)), ProtocolRejected::not_sponsor);
  EXPECT_EQ(p.commit_refused(fund(p, kDave, 0)), ProtocolRejected::zero_amount);
  EXPECT_EQ(p.commit_refused(fund(p, kDave, 1001)), ProtocolRejected::insufficient_balance);
  EXPECT_EQ(p.commit_refused(fund(p, kDave, 1, "no-such-run")), ProtocolRejected::wrong_run);
  EXPECT_EQ(p.commit_refused(release(p, kDave)), ProtocolRejected::run_not_finished);
  EXPECT_EQ(p.commit_refused(release(p, kBob)), ProtocolRejected::not_sponsor);
  EXPECT_EQ(p.commit_refused(release(p, kDave, "no-such-run")), ProtocolRejected::wrong_run);
  p.commit(fund(p, kDave, 400));
  EXPECT_EQ(p.run().status, RunStatus::awaiting_funding);
  p.commit(fund(p, kDave, 600));  // the minimum is reached: turn 0 begins
  ASSERT_EQ(p.run().status, RunStatus::active);
  EXPECT_TRUE(p.training().accounts.empty());
  EXPECT_EQ(state_hash(kChainId, p.chain.state),
            sha256(domain_separated(kStateDomainV2, kChainId, state_encoding(p.chain.state))));

  play_turn(p, kAlice, 20000, 40000, /*leak=*/true);  // settles at +20000
  play_turn(p, kBob, 5000, -5000);                    // rejected: no tokens
  play_turn(p, kCarol, 10000, 10000);  // the last turn; its gain settles 4 blocks later
  ASSERT_EQ(p.run().status, RunStatus::finished);
  const Hash head = *p.run().head;
  const Hash commitment = find_save(p.run(), head)->key_commitment;
  EXPECT_EQ(p.commit_refused(release(p, kDave)), ProtocolRejected::gains_not_settled);
  EXPECT_EQ(p.commit_refused(key_grant(p, kAlice, head, commitment)),
            ProtocolRejected::not_released);
  EXPECT_EQ(p.commit_refused(fund(p, kDave, 1)), ProtocolRejected::run_finished);
  ASSERT_TRUE(gains_settled(p.run()));
  ASSERT_EQ(p.run().escrow->state, EscrowState::open);  // its release deadline is ahead
  p.commit(release(p, kDave));
  EXPECT_EQ(p.run().escrow->payouts,
            (std::map<std::string, std::uint64_t>{{"alice", 666}, {"carol", 333}, {"dave", 1}}));
  EXPECT_EQ(p.commit_refused(release(p, kDave)), ProtocolRejected::already_released);

  const Hash earlier = p.run().models[0].id;
  EXPECT_EQ(p.commit_refused(key_grant(p, kAlice, head, commitment, "carol")),
            ProtocolRejected::grant_to_non_sponsor);
  EXPECT_EQ(p.commit_refused(key_grant(p, kAlice, head, fake_hash(0x77))),
            ProtocolRejected::key_commitment_mismatch);
  EXPECT_EQ(p.commit_refused(key_grant(p, kAlice, earlier, commitment)),
            ProtocolRejected::not_key_holder);
  EXPECT_EQ(p.commit_refused(key_grant(p, kAlice, head, commitment, "dave", 79)),
            ProtocolRejected::malformed_request);
  pb::KeyGrant other_run;
  other_run.set_run_id("run-9");
  other_run.set_model_id(hash_bytes(head));
  other_run.set_recipient("dave");
  other_run.set_wrapped_key(std::string(kWrappedKeyBytes, 'k'));
  other_run.set_key_commitment(hash_bytes(commitment));
  EXPECT_EQ(p.commit_refused(p.tx(kAlice, pb::TX_KEY_GRANT, other_run)),
            ProtocolRejected::wrong_run);
  p.commit(key_grant(p, kAlice, head, commitment));
  p.commit(key_grant(p, kCarol, head, commitment));
  p.commit(key_grant(p, kAlice, head, commitment, "dave", kWrappedKeyBytes, 'z'));  // replaces
  EXPECT_EQ(p.run().escrow->key_grants.at("alice"), std::string(kWrappedKeyBytes, 'z'));
  // The partners spend their payout.
  p.commit(transfer(p, kAlice, "bob", 66));
  expect_audit_agrees(p);
}

// A sponsor that funds and never releases: the partners are paid by their
// tokens at the release deadline, in end_block, and the model is never
// granted. The release deadline (3 blocks after the run's end) comes before
// the last gain settles (8 blocks after its SaveRequest): the payout waits
// for it.
TEST(ChainAuditTraining, ReplaysTheDeadlinePayoutOfAnEscrowNobodyReleased) {
  ProtocolChain p;
  use_genesis(p, sponsor_genesis({0, 7, 0, 1000}));
  TrainingPlan plan = escrow_plan(0);  // starts at once
  plan.release_deadline_blocks = 3;
  plan.vote_deadline_blocks = 8;
  p.commit(p.start(kAlice, plan));
  ASSERT_EQ(p.run().status, RunStatus::active);
  p.commit(fund(p, kDave, 999));
  play_turn(p, kAlice, 20000, 20000);
  play_turn(p, kBob, 10000, 10000);
  play_turn(p, kCarol, 10000, 10000);
  ASSERT_EQ(p.run().status, RunStatus::finished);
  while (p.run().escrow->state == EscrowState::open) p.empty_blocks(1);
  EXPECT_EQ(p.run().escrow->state, EscrowState::paid_at_deadline);
  const Turn& last = p.run().turns.back();
  ASSERT_GT(vote_deadline(p.run(), last), p.run().end_height + 3);
  EXPECT_EQ(p.run().escrow->settled_height, vote_deadline(p.run(), last));
  EXPECT_EQ(p.run().escrow->payouts,
            (std::map<std::string, std::uint64_t>{
                {"alice", 499}, {"bob", 249}, {"carol", 249}, {"dave", 2}}));
  EXPECT_EQ(p.training().accounts.balance("bob"), 256u);
  EXPECT_EQ(p.commit_refused(release(p, kDave)), ProtocolRejected::already_released);
  const Hash head = *p.run().head;
  EXPECT_EQ(p.commit_refused(key_grant(p, kAlice, head, find_save(p.run(), head)->key_commitment)),
            ProtocolRejected::not_released);
  expect_audit_agrees(p);
}

// Funding that never reaches the minimum: the run ends unfunded at its
// funding deadline, the sponsor is refunded, and the consortium may start
// another run.
TEST(ChainAuditTraining, ReplaysAnUnfundedRunAndItsRefund) {
  ProtocolChain p;
  use_genesis(p, sponsor_genesis({0, 0, 0, 1000}));
  p.commit(p.start(kAlice, escrow_plan(100)));  // block 1: funding deadline 1 + 6
  p.commit(fund(p, kDave, 30));
  TrainingPlan other = escrow_plan(0);
  other.run_id = "run-2";
  EXPECT_EQ(p.commit_refused(p.start(kAlice, other)), ProtocolRejected::run_active);
  while (p.run().status == RunStatus::awaiting_funding) p.empty_blocks(1);
  EXPECT_EQ(p.run().status, RunStatus::unfunded);
  EXPECT_EQ(p.run().end_height, 7u);
  EXPECT_EQ(p.run().escrow->state, EscrowState::refunded);
  EXPECT_EQ(p.training().accounts.balance("dave"), 1000u);
  EXPECT_EQ(p.commit_refused(fund(p, kDave, 1)), ProtocolRejected::run_finished);
  EXPECT_EQ(p.commit_refused(release(p, kDave)), ProtocolRejected::already_released);
  EXPECT_EQ(p.commit_refused(p.load_request(kAlice, 0, std::nullopt)),
            ProtocolRejected::run_not_active);
  p.commit(p.start(kAlice, other));
  p.commit(fund(p, kDave, 10, "run-2"));
  expect_audit_agrees(p);
}

// A genesis plan with an escrow and a deposit (the auditor reads its "escrow"
// and "deposits" objects, the factor left to its default 1): block 1 credits
// the allocations and starts the run awaiting its funding, and the sponsor's
// FundRun in that same block begins turn 0. Bob and carol hold nothing, so
// once alice's turn ends their turns are skipped (cannot_pay) and the run
// finishes.
TEST(ChainAuditTraining, ReplaysAGenesisPlanThatWaitsForItsSponsorsFunds) {
  ProtocolChain p;
  nlohmann::ordered_json text =
      nlohmann::ordered_json::parse(encode_genesis(sponsor_genesis({50, 0, 0, 500})));
  text["training_plan"] = nlohmann::ordered_json::parse(R"({
    "run_id": "run-1",
    "model": {"architecture": "mlp", "hidden": [8], "input_shape": [2], "num_classes": 2},
    "dataset": {"feature_columns": ["age", "volume"], "label_column": "survival"},
    "partners": ["alice", "bob", "carol"],
    "cycles": 1,
    "deadlines": {"load_blocks": 4, "save_blocks": 8, "vote_blocks": 4},
    "escrow": {"sponsor": "dave", "min_credits": 300, "funding_blocks": 5, "release_blocks": 5},
    "deposits": {"deposit": 10}})");
  p.chain.genesis_text = text.dump(2) + "\n";
  p.chain.spec = load_chain_spec(p.chain.genesis_text).value();
  p.chain.state = initial_state(p.chain.spec.genesis_hash);
  ASSERT_EQ(p.chain.spec.genesis_plan()->sponsor, "dave");
  p.commit(fund(p, kDave, 300));  // block 1
  ASSERT_EQ(p.run().status, RunStatus::active);
  EXPECT_EQ(p.turn().start_height, 1u);
  EXPECT_EQ(p.run().plan.deposit_factor, 1u);
  play_turn(p, kAlice, 30000, 10000);
  EXPECT_EQ(p.training().accounts.balance("dave"), 200u);
  EXPECT_EQ(p.training().accounts.balance("alice"), 50u);  // its deposit came back
  EXPECT_EQ(p.run().turns[2].outcome, TurnOutcome::cannot_pay);
  EXPECT_EQ(p.run().status, RunStatus::finished);
  expect_audit_agrees(p);
}

// Deposits and the submission cost (§19.9): every lock is settled once, by
// the step that ends its turn. Alice's approved turn gets its deposit back;
// bob's rejected candidate forfeits it to alice, who voted against (not to
// carol, who approved); carol
// cannot pay (below min_balance) and her turns are skipped; alice's LoadRequest
// is refused below min_balance, then as unable to afford the stake, and her
// turn expires in training (cost and half the deposit back, half to the load
// approvers); bob's required deposit has doubled and his abandon refunds it
// all. The costs go into the escrow and out to the contributors with the
// sponsor's funds.
TEST(ChainAuditTraining, ReplaysDepositsLockedRefundedAndForfeited) {
  ProtocolChain p;
  use_genesis(p, sponsor_genesis({100, 100, 10, 1000}));
  TrainingPlan plan = escrow_plan(0);
  plan.cycles = 2;
  plan.load_deadline_blocks = 8;  // room for alice's refused LoadRequests
  plan.submission_cost = 5;
  plan.deposit = 21;
  plan.deposit_factor = 2;
  plan.min_balance = 12;
  TrainingPlan bad = plan;
  bad.deposit_factor = 0;  // a deposit needs a factor
  EXPECT_EQ(p.commit_refused(p.start(kAlice, bad)), ProtocolRejected::invalid_plan);
  bad = plan;
  bad.sponsor.clear();  // a cost needs an escrow
  bad.release_deadline_blocks = 0;
  EXPECT_EQ(p.commit_refused(p.start(kAlice, bad)), ProtocolRejected::invalid_plan);
  p.commit(p.start(kAlice, plan));
  p.commit(fund(p, kDave, 500));
  auto balance = [&](const char* name) { return p.training().accounts.balance(name); };
  auto conserved = [&] {
    std::uint64_t sum = 0;
    for (const auto& [name, b] : p.training().accounts.balances) sum += b;
    sum += locked_stakes(p.run());
    if (p.run().escrow->state == EscrowState::open) sum += p.run().escrow->funded;
    return sum;
  };

  play_turn(p, kAlice, 20000, 20000);  // locks 5 + 21, the cost to the escrow, 21 back
  EXPECT_EQ(balance("alice"), 95u);
  // Bob's candidate: carol approves, alice rejects; only alice takes the 21.
  p.grant_load(kBob, {kAlice, kCarol});
  const Hash bobs = p.commit(p.save_request(kBob, 1, p.run().head));
  p.commit(p.model_vote(kCarol, bobs, true, 500000, 500000));
  p.commit(p.model_vote(kAlice, bobs, false, 499000, 500000));
  EXPECT_EQ(p.run().turns[1].outcome, TurnOutcome::rejected);
  EXPECT_EQ(balance("alice"), 116u);
  EXPECT_EQ(balance("bob"), 74u);
  EXPECT_EQ(balance("carol"), 10u);
  EXPECT_EQ(p.run().turns[2].outcome, TurnOutcome::cannot_pay);  // carol: 10 < 12
  ASSERT_EQ(p.turn().partner, "alice");
  EXPECT_EQ(p.run().escrow->funded, 510u);

  p.commit(transfer(p, kAlice, "dave", 111));  // alice keeps 5
  EXPECT_EQ(p.commit_refused(p.load_request(kAlice, 3, p.run().head)),
            ProtocolRejected::below_min_balance);
  p.commit(transfer(p, kDave, "alice", 10));  // 15: above 12, below 5 + 21
  EXPECT_EQ(p.commit_refused(p.load_request(kAlice, 3, p.run().head)),
            ProtocolRejected::cannot_afford_stake);
  p.commit(transfer(p, kDave, "alice", 11));
  p.grant_load(kAlice, {kBob, kCarol});  // locks all 26 alice holds
  EXPECT_EQ(balance("alice"), 0u);
  while (p.run().turns.size() == 4) p.empty_blocks(1);  // no SaveRequest: the turn expires
  EXPECT_EQ(p.run().turns[3].outcome, TurnOutcome::expired);
  EXPECT_EQ(balance("alice"), 15u);  // the cost and floor(21 / 2)
  EXPECT_EQ(balance("bob"), 80u);    // 11 to the load approvers: 6 (the first name), 5
  EXPECT_EQ(balance("carol"), 15u);

  ASSERT_EQ(p.turn().partner, "bob");
  EXPECT_EQ(required_deposit(p.run(), "bob"), 42u);  // one rejected candidate: x2
  p.grant_load(kBob, {kAlice, kCarol});
  EXPECT_EQ(balance("bob"), 33u);
  EXPECT_EQ(conserved(), 1210u);
  p.commit(abandon(p, kBob, 4, p.run().head));  // everything back
  EXPECT_EQ(balance("bob"), 80u);
  EXPECT_EQ(p.run().turns[5].outcome, TurnOutcome::cannot_pay);  // carol: 15 < 26
  ASSERT_EQ(p.run().status, RunStatus::finished);

  while (!gains_settled(p.run())) p.empty_blocks(1);
  p.commit(release(p, kDave));
  EXPECT_EQ(p.run().escrow->payouts, (std::map<std::string, std::uint64_t>{{"alice", 510}}));
  EXPECT_EQ(conserved(), 1210u);
  expect_audit_agrees(p);
}

// The two expiries with a vote open (docs/PROTOCOL.md §19.9): a candidate
// whose vote never reaches the quorum keeps its cost in the escrow (the
// SaveRequest paid it) and gets its deposit back; a load request whose
// approvals never reach the quorum gets everything back. The voters, not the
// partner, failed to decide.
TEST(ChainAuditTraining, ReplaysStakedTurnsThatExpireWhileAVoteIsOpen) {
  ProtocolChain p;
  use_genesis(p, sponsor_genesis({100, 100, 100, 1000}));
  TrainingPlan plan = escrow_plan(0);
  plan.submission_cost = 5;
  plan.deposit = 20;
  plan.deposit_factor = 2;
  p.commit(p.start(kAlice, plan));
  p.commit(fund(p, kDave, 100));
  auto balance = [&](const char* name) { return p.training().accounts.balance(name); };

  // Alice's candidate: only carol votes; two of two voters are needed.
  p.grant_load(kAlice, {kBob, kCarol});
  EXPECT_EQ(balance("alice"), 75u);  // 5 + 20 locked
  const Hash alices = p.commit(p.save_request(kAlice, 0, std::nullopt));
  p.commit(p.model_vote(kCarol, alices, true, 510000, 500000));
  while (p.run().turns.size() == 1) p.empty_blocks(1);
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::expired);
  EXPECT_EQ(balance("alice"), 95u);  // the deposit back, the cost kept
  EXPECT_EQ(p.run().escrow->funded, 105u);
  EXPECT_TRUE(p.run().turns[0].stake.forfeits.empty());
  // A later vote is refused (the request expired) and moves nothing.
  EXPECT_EQ(p.commit_refused(p.model_vote(kBob, alices, true, 510000, 500000)),
            ProtocolRejected::vote_after_deadline);
  EXPECT_EQ(balance("bob"), 100u);

  // Bob's load request: only alice approves.
  const Hash bobs = p.commit(p.load_request(kBob, 1, p.run().head));
  p.commit(p.load_approval(kAlice, bobs));
  EXPECT_EQ(balance("bob"), 75u);
  while (p.run().turns.size() == 2) p.empty_blocks(1);
  EXPECT_EQ(p.run().turns[1].outcome, TurnOutcome::expired);
  EXPECT_EQ(balance("bob"), 100u);                   // everything back
  EXPECT_EQ(required_deposit(p.run(), "bob"), 20u);  // an expiry does not grow it

  play_turn(p, kCarol, 10000, 10000);  // approved: the only tokens
  ASSERT_EQ(p.run().status, RunStatus::finished);
  EXPECT_EQ(p.run().escrow->funded, 110u);
  while (!gains_settled(p.run())) p.empty_blocks(1);
  p.commit(release(p, kDave));
  EXPECT_EQ(p.run().escrow->payouts, (std::map<std::string, std::uint64_t>{{"carol", 110}}));
  EXPECT_EQ(balance("carol"), 205u);
  std::uint64_t sum = 0;
  for (const auto& [name, b] : p.training().accounts.balances) sum += b;
  EXPECT_EQ(sum, 1300u);
  expect_audit_agrees(p);
}

// The attacker: every validator signs a block whose state hash misstates one
// account (one credit more for alice, or one credit moved from alice to bob,
// which keeps the total). The auditor recomputes the balances from the
// transactions and names the block.
TEST(ChainAuditTraining, NamesABlockWhoseSignedStateHashMisstatesABalance) {
  ProtocolChain p;
  use_genesis(p, sponsor_genesis({0, 0, 0, 1000}));
  p.commit(p.start(kAlice, escrow_plan(0)));
  p.commit(fund(p, kDave, 900));
  play_turn(p, kAlice, 20000, 20000);
  play_turn(p, kBob, 10000, 10000);
  play_turn(p, kCarol, 10000, 10000);
  while (!gains_settled(p.run())) p.empty_blocks(1);
  p.commit(release(p, kDave));
  expect_audit_agrees(p);
  ASSERT_EQ(p.training().accounts.balance("alice"), 450u);
  const std::vector<std::pair<const char*, void (*)(Accounts&)>> tampers = {
      {"one credit created", [](Accounts& a) { a.balances.at("alice") += 1; }},
      {"one credit moved",
       [](Accounts& a) {
         a.balances.at("alice") -= 1;
         a.balances.at("bob") += 1;
       }},
  };
  for (const auto& [what, tamper] : tampers) {
    LedgerState misstated = p.chain.state;
    tamper(misstated.training.accounts);
    const pb::Block block = with_header(p.chain.propose({}).block, [&](pb::BlockHeader& h) {
      h.set_app_state_hash(hash_bytes(state_hash(kChainId, misstated)));
    });
    const pb::CommittedBlock committed = p.chain.seal(block, {0, 1, 2});
    auto verdict = validate_block(p.chain.spec, p.chain.state, committed);
    ASSERT_FALSE(verdict.ok()) << what;
    EXPECT_EQ(verdict.reason().reason, BlockInvalid::wrong_app_state_hash) << what;
    p.blocks.push_back(encode_committed_block(committed));
    const auto r = audit(p);
    EXPECT_EQ(r.exit_code, 3) << what << r.out << r.err;
    EXPECT_EQ(r.out, "height " + std::to_string(p.blocks.size()) + ": wrong app state hash\n")
        << what;
    p.blocks.pop_back();
  }
}

// The privacy budget (§20.2), replayed with the auditor's own accountant
// (privacy_accountant.py): tampered spends refused with 41 in blocks, an
// over-budget SaveRequest with 40, spends recorded whatever the vote, an
// expired turn spending nothing, and a budget_spent skip after which the run
// goes on with bob; the state hash of every block commits to each turn's
// spend and each partner's total. Then a block whose signed state hash
// misstates alice's total is caught.
TEST(ChainAuditTraining, ReplaysThePrivacyBudgetAndCatchesAMisstatedSpend) {
  ProtocolChain p;
  p.commit(p.start(kAlice, dp_plan()));
  p.grant_load(kAlice, {kBob, kCarol});
  const PrivacySpend first = honest(p, kAlice, 2);
  EXPECT_EQ(p.commit_refused(dp_save(p, kAlice, {20, 1'526'372, 1'526'372})),
            ProtocolRejected::privacy_spend_mismatch);
  EXPECT_EQ(p.commit_refused(dp_save(p, kAlice, {15, 1'526'373, 1'526'373})),
            ProtocolRejected::privacy_spend_mismatch);
  votes(p, p.commit(dp_save(p, kAlice, first)), kBob, kCarol, true);
  p.grant_load(kBob, {kCarol, kDave});
  votes(p, p.commit(dp_save(p, kBob, honest(p, kBob, 2))), kCarol, kDave, false);
  p.grant_load(kAlice, {kBob, kCarol});
  EXPECT_EQ(p.commit_refused(dp_save(p, kAlice, honest(p, kAlice, 2))),
            ProtocolRejected::privacy_budget_exceeded);
  votes(p, p.commit(dp_save(p, kAlice, honest(p, kAlice, 1))), kBob, kCarol, true);
  p.grant_load(kBob, {kCarol, kDave});
  while (p.run().turns.size() == 4) p.empty_blocks(1);
  ASSERT_EQ(p.run().turns[4].outcome, TurnOutcome::budget_spent);
  p.grant_load(kBob, {kCarol, kDave});
  votes(p, p.commit(dp_save(p, kBob, honest(p, kBob, 1))), kCarol, kDave, true);
  ASSERT_EQ(p.run().status, RunStatus::finished);
  expect_audit_agrees(p);

  LedgerState misstated = p.chain.state;
  misstated.training.runs.at("run-1").privacy_spent.at("alice").epsilon_total_micro -= 1;
  const pb::Block block = with_header(p.chain.propose({}).block, [&](pb::BlockHeader& h) {
    h.set_app_state_hash(hash_bytes(state_hash(kChainId, misstated)));
  });
  p.blocks.push_back(encode_committed_block(p.chain.seal(block, {0, 1, 2})));
  const auto r = audit(p);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(r.out, "height " + std::to_string(p.blocks.size()) + ": wrong app state hash\n");
}

// Local DP in a genesis plan (the auditor reads its "privacy" object, with
// decimals it must round as the node did): charged once, a second charge
// refused with 41, and a plan without DP refusing a SaveRequest that claims
// a spend.
TEST(ChainAuditTraining, ReplaysAGenesisPlanWithLocalDp) {
  ProtocolChain p;
  nlohmann::ordered_json text =
      nlohmann::ordered_json::parse(encode_genesis(fixed_genesis({1, 1, 1, 1})));
  text["training_plan"] = nlohmann::ordered_json::parse(R"({
    "run_id": "run-1",
    "model": {"architecture": "mlp", "hidden": [8], "input_shape": [2], "num_classes": 2},
    "dataset": {"feature_columns": ["age", "volume"], "label_column": "survival"},
    "partners": ["alice", "bob"],
    "cycles": 2,
    "deadlines": {"load_blocks": 4, "save_blocks": 8, "vote_blocks": 4},
    "privacy": {"mechanism": "local", "epsilon_budget": 200.0000004, "beta": 0.9999999,
                "sensitivity": 1.0000001, "values_per_row": 2}})");
  p.chain.genesis_text = text.dump(2) + "\n";
  p.chain.spec = load_chain_spec(p.chain.genesis_text).value();
  p.chain.state = initial_state(p.chain.spec.genesis_hash);
  const PrivacyPlan& plan = p.chain.spec.genesis_plan()->privacy;
  EXPECT_EQ(plan.budget_micro, 200'000'000u);
  EXPECT_EQ(plan.beta_micro, 999'999u);
  EXPECT_EQ(plan.sensitivity_micro, 1'000'001u);
  p.empty_blocks(1);
  // ε_row = ⌈2 × 1000001 × 10^6 / 999999⌉ = 2000005.
  const PrivacySpend once{0, 2'000'005, 2'000'005};
  p.grant_load(kAlice, {kBob, kCarol});
  EXPECT_EQ(honest(p, kAlice, 1), once);
  votes(p, p.commit(dp_save(p, kAlice, once)), kBob, kCarol, true);
  p.grant_load(kBob, {kCarol, kDave});
  votes(p, p.commit(dp_save(p, kBob, once)), kCarol, kDave, true);
  p.grant_load(kAlice, {kBob, kCarol});
  EXPECT_EQ(p.commit_refused(dp_save(p, kAlice, {0, 2'000'005, 4'000'010})),
            ProtocolRejected::privacy_spend_mismatch);
  votes(p, p.commit(dp_save(p, kAlice, {0, 0, 2'000'005})), kBob, kCarol, true);
  expect_audit_agrees(p);
}

}  // namespace
}  // namespace baton::chain::testing

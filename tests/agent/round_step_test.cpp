// The partner agent's decision core in a federated round (agent/round_step.h):
// one row per situation, the round's phase x this agent's part in it
// (partner that shared / uploaded / unmasked, voter, non-partner) x what its
// journal and memory say. Pure: no disk, no threads, no LibTorch.
#include "agent/round_step.h"

#include <gtest/gtest.h>

#include <string>

namespace baton::agent {
namespace {

using chain::TurnPhase;

constexpr std::uint64_t kDeadline = 300;
constexpr std::uint64_t kSaveBlocks = 100;  // the aggregating phase's length
constexpr std::uint32_t kStoreAttempts = 3;

chain::Hash id(std::uint8_t b) {
  chain::Hash h;
  h.bytes.fill(b);
  return h;
}

// Round 1 of a federated run of alice, bob, carol and dave in `phase`.
// `shared`, `uploaded`, `unmasked`: who is in U1, in U2, and who revealed.
struct RoundView {
  chain::Run run;
  chain::Turn& turn() { return run.turns.back(); }
};

RoundView round_in(TurnPhase phase, std::vector<std::string> shared,
                   std::vector<std::string> uploaded, std::vector<std::string> unmasked) {
  RoundView v;
  v.run.plan.run_id = "fed";
  v.run.plan.partners = {"alice", "bob", "carol", "dave"};
  v.run.plan.mode = chain::TrainingMode::federated;
  v.run.plan.secagg_threshold = 3;
  v.run.plan.min_partners = 3;
  v.run.plan.save_deadline_blocks = kSaveBlocks;
  chain::Turn t;
  t.index = 1;
  t.phase = phase;
  t.deadline_height = kDeadline;
  t.round = chain::RoundRecord{};
  for (const auto& n : shared) t.round->shares[n] = {};
  for (const auto& n : uploaded) t.round->uploads[n] = {};
  for (const auto& n : unmasked) t.round->unmasks[n] = {};
  if (phase == TurnPhase::save_voting) {
    t.partner = "bob";
    t.save_request_id = id(0x22);
    t.save = chain::SaveRecord{};
  }
  v.run.turns.push_back(t);
  return v;
}

NextStep step_at(std::uint64_t height, RoundView& v, const std::string& me,
                 const AgentMemory& memory = {}, bool voter = true) {
  return round_step(height, v.run, v.turn(), AgentIdentity{me, voter}, memory, kStoreAttempts);
}

const std::vector<std::string> kAll = {"alice", "bob", "carol", "dave"};

TEST(RoundStep, SharingAsksEveryPartnerOnceAndKeepsOutOneThatCannotTrain) {
  auto v = round_in(TurnPhase::round_sharing, {"alice"}, {}, {});
  EXPECT_EQ(step_at(10, v, "bob"), NextStep(ShareRound{false}));
  AgentMemory journaled;
  journaled.share_journaled = true;
  EXPECT_EQ(step_at(10, v, "bob", journaled), NextStep(ShareRound{true}));
  // Already in U1 on the ledger: nothing more to send.
  EXPECT_EQ(step_at(10, v, "alice", journaled), NextStep(Wait{WaitReason::round_waiting}));
  // A partner whose data do not load stays out of U1 (no dropout to repair).
  AgentMemory no_data;
  no_data.data_unusable = "no such file";
  EXPECT_EQ(step_at(10, v, "bob", no_data), NextStep(Wait{WaitReason::data_unusable}));
  // A member that is not a partner has nothing to share.
  EXPECT_EQ(step_at(10, v, "sponsor", {}, false), NextStep(Wait{WaitReason::not_a_partner}));
}

TEST(RoundStep, UploadingTrainsOnlyTheSharersAndVotersMeasureTheHead) {
  auto v = round_in(TurnPhase::round_uploading, {"alice", "bob", "carol"}, {"alice"}, {});
  EXPECT_EQ(step_at(50, v, "bob"), NextStep(TrainRound{false}));
  AgentMemory journaled;
  journaled.upload_journaled = true;
  EXPECT_EQ(step_at(50, v, "bob", journaled), NextStep(TrainRound{true}));
  // dave did not share: it must not upload (its masks would not cancel), but
  // as a voter it measures the head while the others train.
  EXPECT_EQ(step_at(50, v, "dave"), NextStep(MeasureHead{}));
  AgentMemory measured;
  measured.head_measured = true;
  EXPECT_EQ(step_at(50, v, "dave", measured), NextStep(Wait{WaitReason::not_a_sharer}));
  EXPECT_EQ(step_at(50, v, "alice", measured), NextStep(Wait{WaitReason::round_waiting}));
}

TEST(RoundStep, AFailurePastItsRetriesIsSaidOnceOnTheLedger) {
  auto v = round_in(TurnPhase::round_uploading, {"alice", "bob", "carol"}, {}, {});
  AgentMemory m;
  m.failure = TurnFailure{chain::LoadFailure::store_unreachable, "store down", true, 1};
  EXPECT_EQ(step_at(50, v, "bob", m), NextStep(TrainRound{false}));  // retried
  m.failure->attempts = kStoreAttempts;
  EXPECT_EQ(step_at(50, v, "bob", m),
            NextStep(Complain{{chain::LoadFailure::store_unreachable, "store down"}}));
  m.complained = Abandon{chain::LoadFailure::store_unreachable, "store down"};
  EXPECT_EQ(step_at(50, v, "bob", m), NextStep(Wait{WaitReason::round_waiting}));
}

TEST(RoundStep, UnmaskingAsksTheSharersThatHaveNotRevealed) {
  auto v =
      round_in(TurnPhase::round_unmasking, {"alice", "bob", "carol"}, {"alice", "bob"}, {"alice"});
  // carol shared but did not upload (a dropout): it still reveals, and its
  // share of a dropout is what lets the others' pair masks be removed.
  EXPECT_EQ(step_at(120, v, "carol"), NextStep(RevealShares{false}));
  EXPECT_EQ(step_at(120, v, "bob"), NextStep(RevealShares{false}));
  EXPECT_EQ(step_at(120, v, "alice"), NextStep(Wait{WaitReason::round_waiting}));
  EXPECT_EQ(step_at(120, v, "dave"), NextStep(Wait{WaitReason::not_a_sharer}));
  AgentMemory journaled;
  journaled.unmask_journaled = true;
  EXPECT_EQ(step_at(120, v, "bob", journaled), NextStep(RevealShares{true}));
}

TEST(RoundStep, TheDesignatedAggregatorGoesFirstAndAnyPartnerAfterHalfThePhase) {
  // bob ranks below alice but alice did not unmask: bob is designated.
  auto v = round_in(TurnPhase::round_aggregating, {"alice", "bob", "carol"},
                    {"alice", "bob", "carol"}, {"bob", "carol", "dave"});
  EXPECT_EQ(designated_aggregator(v.run, v.turn()), std::optional<std::string>("bob"));
  const std::uint64_t phase_start = kDeadline - kSaveBlocks;
  EXPECT_EQ(step_at(phase_start + 1, v, "bob"), NextStep(AggregateRound{false}));
  EXPECT_EQ(step_at(phase_start + 1, v, "carol"), NextStep(Wait{WaitReason::aggregator_first}));
  EXPECT_EQ(step_at(phase_start + kSaveBlocks / 2 - 1, v, "alice"),
            NextStep(Wait{WaitReason::aggregator_first}));
  EXPECT_EQ(step_at(phase_start + kSaveBlocks / 2, v, "alice"), NextStep(AggregateRound{false}));
  // Journaled: resend the same SaveRequest, whoever is designated.
  AgentMemory journaled;
  journaled.candidate_journaled = true;
  EXPECT_EQ(step_at(phase_start + 1, v, "carol", journaled), NextStep(AggregateRound{true}));
  // An unusable upload is said once, then the agent waits for the deadline.
  AgentMemory bad;
  bad.failure = TurnFailure{chain::LoadFailure::upload_unusable, "carol: hash", false, 1};
  EXPECT_EQ(step_at(phase_start + 1, v, "bob", bad),
            NextStep(Complain{{chain::LoadFailure::upload_unusable, "carol: hash"}}));
  EXPECT_EQ(step_at(phase_start + 1, v, "sponsor", {}, false),
            NextStep(Wait{WaitReason::not_a_partner}));
}

TEST(RoundStep, EveryVoterVotesOnTheAggregateTheAggregatorIncluded) {
  auto v = round_in(TurnPhase::save_voting, kAll, kAll, kAll);
  EXPECT_EQ(step_at(250, v, "bob"), NextStep(VoteOnSave{id(0x22), false}));
  EXPECT_EQ(step_at(250, v, "alice"), NextStep(VoteOnSave{id(0x22), false}));
  v.turn().model_votes["alice"] = {};
  EXPECT_EQ(step_at(250, v, "alice"), NextStep(Wait{WaitReason::already_voted}));
  EXPECT_EQ(step_at(250, v, "sponsor", {}, false), NextStep(Wait{WaitReason::not_a_voter}));
}

TEST(RoundStep, NextStepHandsAFederatedRunToTheRoundCore) {
  auto v = round_in(TurnPhase::round_sharing, {}, {}, {});
  chain::TrainingState state;
  v.run.status = chain::RunStatus::active;
  state.runs.emplace("fed", v.run);
  state.active_run = "fed";
  EXPECT_EQ(next_step(10, state, {"carol", true}, {}, kStoreAttempts), NextStep(ShareRound{false}));
  EXPECT_EQ(next_step(kDeadline, state, {"carol", true}, {}, kStoreAttempts),
            NextStep(Wait{WaitReason::deadline_passed}));
}

}  // namespace
}  // namespace baton::agent

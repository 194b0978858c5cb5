// A voter's decide step (agent/save_vote.h): the measurement rounded to ppm
// and decided by the plan's policy, or the ledger's unmeasured vote. One row
// per case, with the boundary of each policy kind; every vote decided here
// is one the ledger's rule (chain::vote_follows_policy) accepts.
#include "agent/save_vote.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace baton::agent {
namespace {

using chain::VotePolicy;
using chain::VotePolicyKind;

const VotePolicy kStrict{VotePolicyKind::strict, 0};
const VotePolicy kTolerance{VotePolicyKind::tolerance, 10'000};  // 0.01 AUC
const VotePolicy kDelong{VotePolicyKind::delong, 50'000};        // alpha 0.05

CandidateMeasure measured(double candidate, double head, std::optional<double> p = std::nullopt) {
  CandidateMeasure m;
  m.auc_head = head;
  m.auc_candidate = candidate;
  m.p_worse = p;
  m.validation_rows = 120;
  return m;
}

CandidateMeasure unmeasured(double head, std::string why) {
  CandidateMeasure m;
  m.auc_head = head;
  m.refusal = std::move(why);
  return m;
}

struct Row {
  std::string name;
  VotePolicy policy;
  CandidateMeasure measure;
  bool approve;
  std::uint32_t auc_candidate_ppm;
  std::uint32_t auc_head_ppm;
  std::uint32_t p_worse_ppm;
};

TEST(SaveVoteDecision, DecidesEachPolicyAtItsBoundary) {
  const std::vector<Row> rows = {
      // strict: reject iff candidate < head, in ppm
      {"strict, better", kStrict, measured(0.81, 0.80), true, 810'000, 800'000, 0},
      {"strict, equal", kStrict, measured(0.80, 0.80), true, 800'000, 800'000, 0},
      {"strict, one ppm worse", kStrict, measured(0.799999, 0.80), false, 799'999, 800'000, 0},
      {"strict, worse by less than half a ppm rounds to equal", kStrict, measured(0.7999996, 0.80),
       true, 800'000, 800'000, 0},
      {"strict, worse by more than half a ppm rounds to one ppm worse", kStrict,
       measured(0.7999994, 0.80), false, 799'999, 800'000, 0},
      {"strict, the measured p is recorded but not used", kStrict, measured(0.70, 0.80, 0.9), false,
       700'000, 800'000, 900'000},
      {"strict, an invalid p is not recorded and not needed", kStrict,
       measured(0.90, 0.80, std::numeric_limits<double>::quiet_NaN()), true, 900'000, 800'000, 0},
      {"strict, both 0", kStrict, measured(0.0, 0.0), true, 0, 0, 0},
      {"strict, both 1", kStrict, measured(1.0, 1.0), true, 1'000'000, 1'000'000, 0},
      // tolerance 10000: reject iff candidate < head - 10000
      {"tolerance, better", kTolerance, measured(0.85, 0.80), true, 850'000, 800'000, 0},
      {"tolerance, exactly the tolerance worse", kTolerance, measured(0.79, 0.80), true, 790'000,
       800'000, 0},
      {"tolerance, one ppm past the tolerance", kTolerance, measured(0.789999, 0.80), false,
       789'999, 800'000, 0},
      {"tolerance, the head within the tolerance of 0", kTolerance, measured(0.0, 0.005), true, 0,
       5'000, 0},
      // delong alpha 50000: reject iff p < 50000
      {"delong, p well above alpha", kDelong, measured(0.70, 0.80, 0.40), true, 700'000, 800'000,
       400'000},
      {"delong, p exactly alpha", kDelong, measured(0.70, 0.80, 0.05), true, 700'000, 800'000,
       50'000},
      {"delong, p one ppm below alpha", kDelong, measured(0.70, 0.80, 0.049999), false, 700'000,
       800'000, 49'999},
      {"delong, p 0: significantly worse", kDelong, measured(0.60, 0.80, 0.0), false, 600'000,
       800'000, 0},
      {"delong, a better candidate with p 1", kDelong, measured(0.90, 0.80, 1.0), true, 900'000,
       800'000, 1'000'000},
      // not measured: the ledger's rule, under every policy
      {"strict, unmeasured", kStrict, unmeasured(0.80, "hash_mismatch: swapped"), false, 0, 800'000,
       0},
      {"tolerance, unmeasured", kTolerance, unmeasured(0.80, "wrong_size: 97 bytes"), false, 0,
       800'000, 0},
      {"delong, unmeasured without a p", kDelong, unmeasured(0.80, "over_budget: 3 s"), false, 0,
       800'000, 0},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    auto vote = decide_save_vote(row.policy, row.measure);
    ASSERT_TRUE(vote.ok()) << vote.error().message;
    EXPECT_EQ(vote->approve, row.approve);
    EXPECT_EQ(vote->auc_candidate_ppm, row.auc_candidate_ppm);
    EXPECT_EQ(vote->auc_head_ppm, row.auc_head_ppm);
    EXPECT_EQ(vote->p_worse_ppm, row.p_worse_ppm);
    const bool was_measured = row.measure.auc_candidate.has_value();
    EXPECT_EQ(vote->validation_size, was_measured ? 120u : 0u);
    if (!was_measured) {
      EXPECT_EQ(vote->reason, row.measure.refusal);
    } else if (vote->approve) {
      EXPECT_EQ(vote->reason, "");
    } else {
      EXPECT_EQ(vote->reason,
                chain::policy_refusal(
                    row.policy, {vote->auc_candidate_ppm, vote->auc_head_ppm, vote->p_worse_ppm}));
      EXPECT_FALSE(vote->reason.empty());
    }
    // The ledger accepts it as an honest vote.
    const chain::pb::ModelVote mv = model_vote("run-1", chain::sha256("request"), *vote);
    EXPECT_TRUE(chain::vote_follows_policy(row.policy, mv));
  }
}

TEST(SaveVoteDecision, AbstainsOnAMeasurementItCannotVoteOn) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    std::string name;
    VotePolicy policy;
    CandidateMeasure measure;
  };
  CandidateMeasure no_rows = measured(0.9, 0.8);
  no_rows.validation_rows = 0;
  CandidateMeasure no_p = measured(0.9, 0.8);
  no_p.p_missing_why = "one class only";
  const std::vector<Case> cases = {
      {"candidate AUC NaN", kStrict, measured(nan, 0.8)},
      {"candidate AUC above 1", kStrict, measured(1.5, 0.8)},
      {"head AUC below 0", kTolerance, measured(0.9, -0.1)},
      {"head AUC NaN, unmeasured candidate", kStrict, unmeasured(nan, "bad_model: x")},
      {"delong without the p", kDelong, no_p},
      {"delong with p above 1", kDelong, measured(0.9, 0.8, 1.01)},
      {"a measured candidate with no rows", kStrict, no_rows},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto vote = decide_save_vote(c.policy, c.measure);
    EXPECT_FALSE(vote.ok());
  }
  auto without_p = decide_save_vote(kDelong, no_p);
  ASSERT_FALSE(without_p.ok());
  EXPECT_NE(without_p.error().message.find("one class only"), std::string::npos)
      << without_p.error().message;
}

TEST(SaveVoteDecision, AnUnmeasuredReasonIsClippedForTheLedger) {
  auto vote = decide_save_vote(kStrict, unmeasured(0.8, "bad_model: " + std::string(500, 'x')));
  ASSERT_TRUE(vote.ok());
  EXPECT_EQ(vote->reason.size(), kMaxReasonBytes);
  EXPECT_EQ(vote->reason.substr(kMaxReasonBytes - 3), "...");
  EXPECT_EQ(vote->reason.rfind("bad_model: ", 0), 0u);
}

TEST(SaveVoteDecision, TheModelVoteCarriesEveryField) {
  SaveVote v{false, 700'000, 800'000, 120, 12'345, "candidate AUC is below the head's"};
  const chain::Hash request = chain::sha256("request");
  const chain::pb::ModelVote mv = model_vote("run-7", request, v);
  EXPECT_EQ(mv.run_id(), "run-7");
  EXPECT_EQ(mv.request_id(),
            std::string(reinterpret_cast<const char*>(request.bytes.data()), request.bytes.size()));
  EXPECT_FALSE(mv.approve());
  EXPECT_EQ(mv.auc_candidate_ppm(), 700'000u);
  EXPECT_EQ(mv.auc_head_ppm(), 800'000u);
  EXPECT_EQ(mv.validation_size(), 120u);
  EXPECT_EQ(mv.p_worse_ppm(), 12'345u);
  EXPECT_EQ(mv.reason(), v.reason);
}

// delta_loss runs count the voters' loss decrease: the vote carries both
// losses in millionths, or neither.
TEST(SaveVoteDecision, CarriesBothValidationLossesInMillionthsOrNeither) {
  CandidateMeasure m = measured(0.81, 0.80);
  m.loss_candidate = 0.4123456;
  m.loss_head = 0.6931472;
  auto v = decide_save_vote(kStrict, m);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->loss_candidate_micro, 412'346u);
  EXPECT_EQ(v->loss_head_micro, 693'147u);
  const auto mv = model_vote("run-1", chain::Hash{}, *v);
  EXPECT_EQ(mv.loss_candidate_micro(), 412'346u);
  EXPECT_EQ(mv.loss_head_micro(), 693'147u);
  m.loss_candidate = 1e9;  // capped at the ledger's bound
  EXPECT_EQ(decide_save_vote(kStrict, m)->loss_candidate_micro, chain::kMaxLossMicro);
  m.loss_head.reset();  // one alone would claim a decrease it did not measure
  v = decide_save_vote(kStrict, m);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->loss_candidate_micro, 0u);
  EXPECT_EQ(v->loss_head_micro, 0u);
}

// A candidate with the bytes of the head (or of any other candidate of the
// run) is no contribution: the partner does not submit it and a voter
// rejects it. A perturbed copy has other bytes and is measured.
TEST(SaveVoteDecision, NamesACandidateIdenticalToTheHeadOrAnotherCandidate) {
  chain::Hash head_model, rejected_model, fresh;
  head_model.bytes.fill(0x11);
  rejected_model.bytes.fill(0x22);
  fresh.bytes.fill(0x33);
  chain::Run run;
  for (std::uint64_t i = 0; i < 3; ++i) {
    chain::Turn t;
    t.index = i;
    run.turns.push_back(t);
  }
  run.turns[0].save = chain::SaveRecord{};
  run.turns[0].save->model_sha256 = head_model;
  run.turns[0].save_request_id = chain::Hash{};
  run.turns[0].save_request_id->bytes.fill(0xa0);
  run.turns[0].outcome = chain::TurnOutcome::approved;
  run.head = run.turns[0].save_request_id;
  run.turns[1].save = chain::SaveRecord{};
  run.turns[1].save->model_sha256 = rejected_model;
  run.turns[1].outcome = chain::TurnOutcome::rejected;

  const auto same_as_head = repeated_model(run, head_model, 2);
  ASSERT_TRUE(same_as_head.has_value());
  EXPECT_EQ(same_as_head->rfind("identical_model: ", 0), 0u) << *same_as_head;
  EXPECT_NE(same_as_head->find("the head, turn 0"), std::string::npos) << *same_as_head;
  const auto same_as_rejected = repeated_model(run, rejected_model, 2);
  ASSERT_TRUE(same_as_rejected.has_value());
  EXPECT_NE(same_as_rejected->find("turn 1's candidate (rejected)"), std::string::npos);
  EXPECT_FALSE(repeated_model(run, fresh, 2).has_value());
  // A turn's own candidate is not a copy of itself (a voter on turn 1).
  EXPECT_FALSE(repeated_model(run, rejected_model, 1).has_value());
  // The voter's vote on such a candidate: unmeasured, so a reject with no gain.
  auto v = decide_save_vote(kStrict, unmeasured(0.8, *same_as_head));
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->approve);
  EXPECT_EQ(v->validation_size, 0u);
}

}  // namespace
}  // namespace baton::agent

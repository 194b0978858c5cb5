// The partner agent's decision core (agent/next_step.h), one row per
// situation: the turn's phase x this agent's part in it (partner in turn,
// voter, non-voter) x what its journal and memory say x the deadline x the
// run's status. Pure: no disk, no threads, no LibTorch.
#include "agent/next_step.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace baton::agent {
namespace {

using chain::LoadFailure;
using chain::TurnPhase;

constexpr std::uint64_t kDeadline = 100;  // the current phase's last block
constexpr std::uint32_t kStoreAttempts = 3;

chain::Hash id(std::uint8_t b) {
  chain::Hash h;
  h.bytes.fill(b);
  return h;
}
const chain::Hash kLoadRequest = id(0x11);
const chain::Hash kSaveRequest = id(0x22);

enum class Who { partner, voter, non_voter };
enum class RunIs { active, finished, none };

// The committed state: run-1, turn 2 (bob's) in `phase`; `voted`: the
// ledger holds this agent's vote on the open request.
chain::TrainingState state_for(TurnPhase phase, RunIs run_is, const std::string& me, bool voted) {
  chain::TrainingState state;
  if (run_is == RunIs::none) return state;
  chain::Run run;
  run.plan.run_id = "run-1";
  run.plan.partners = {"alice", "bob", "carol", "dave"};
  run.status = run_is == RunIs::active ? chain::RunStatus::active : chain::RunStatus::finished;
  chain::Turn t;
  t.index = 1;
  t.partner = "bob";
  t.phase = phase;
  t.deadline_height = kDeadline;
  if (phase != TurnPhase::awaiting_load_request) t.load_request_id = kLoadRequest;
  if (phase == TurnPhase::load_voting && voted) t.load_approvals[me] = {true, "ok", 40};
  if (phase == TurnPhase::save_voting || phase == TurnPhase::done) {
    t.load_token_id = kLoadRequest;
    t.save_request_id = kSaveRequest;
    t.save = chain::SaveRecord{};
  }
  if (phase == TurnPhase::save_voting && voted) t.model_votes[me] = {};
  run.turns.push_back(t);
  state.runs.emplace("run-1", run);
  if (run_is == RunIs::active) state.active_run = "run-1";
  return state;
}

AgentIdentity identity(Who who) {
  switch (who) {
    case Who::partner:
      return {"bob", true};
    case Who::voter:
      return {"carol", true};
    case Who::non_voter:
      return {"observer", false};
  }
  return {};
}

// What the agent remembers, built fluently: remembers().data_unusable("...").
struct Memory {
  AgentMemory m;
  Memory& plan_unusable(std::string why) {
    m.plan_unusable = std::move(why);
    return *this;
  }
  Memory& data_unusable(std::string why) {
    m.data_unusable = std::move(why);
    return *this;
  }
  Memory& candidate_journaled() {
    m.candidate_journaled = true;
    return *this;
  }
  Memory& load_vote_journaled() {
    m.load_vote_journaled = true;
    return *this;
  }
  Memory& save_vote_journaled() {
    m.save_vote_journaled = true;
    return *this;
  }
  Memory& head_measured() {
    m.head_measured = true;
    return *this;
  }
  Memory& failed(LoadFailure reason, bool retryable, std::uint32_t attempts) {
    m.failure = TurnFailure{reason, "what went wrong", retryable, attempts};
    return *this;
  }
  Memory& abandoned(LoadFailure reason, std::string detail) {
    m.abandoned = Abandon{reason, std::move(detail)};
    return *this;
  }
  operator AgentMemory() const { return m; }  // NOLINT(google-explicit-constructor)
};
Memory remembers() { return {}; }

struct Row {
  std::string situation;
  TurnPhase phase;
  Who who;
  AgentMemory memory;
  NextStep expected;
  std::uint64_t height = 50;  // the newest committed height the agent knows
  bool voted = false;         // its vote is on the ledger
  RunIs run = RunIs::active;
};

TurnFailure failure(LoadFailure reason, bool retryable, std::uint32_t attempts) {
  return {reason, "what went wrong", retryable, attempts};
}

const std::vector<Row>& rows() {
  using P = TurnPhase;
  static const std::vector<Row> table = {
      // ---- the run
      {"no run was ever started",
       P::awaiting_load_request,
       Who::partner,
       {},
       Wait{WaitReason::no_active_run},
       50,
       false,
       RunIs::none},
      {"the run finished",
       P::done,
       Who::partner,
       {},
       Wait{WaitReason::no_active_run},
       50,
       false,
       RunIs::finished},
      {"the run finished, a voter",
       P::done,
       Who::voter,
       {},
       Wait{WaitReason::no_active_run},
       50,
       false,
       RunIs::finished},

      // ---- the partner in turn: awaiting its LoadRequest
      {"partner, awaiting load request", P::awaiting_load_request, Who::partner, {}, RequestLoad{}},
      {"partner, request sent and not yet on the ledger (resent by the acting side's rule)",
       P::awaiting_load_request,
       Who::partner,
       {},
       RequestLoad{},
       51},
      {"partner, awaiting load request, local data unusable", P::awaiting_load_request,
       Who::partner, remembers().data_unusable("train.csv is missing"),
       Abandon{LoadFailure::local_data_unusable, "train.csv is missing"}},
      {"partner, awaiting load request, plan unusable", P::awaiting_load_request, Who::partner,
       remembers().plan_unusable("model.num_classes is 3"),
       Abandon{LoadFailure::training_failed, "model.num_classes is 3"}},
      {"partner, awaiting load request, abandoned already: the same TurnAbandon again",
       P::awaiting_load_request, Who::partner,
       remembers().abandoned(LoadFailure::local_data_unusable, "gone"),
       Abandon{LoadFailure::local_data_unusable, "gone"}},
      {"partner, awaiting load request, deadline block committed",
       P::awaiting_load_request,
       Who::partner,
       {},
       Wait{WaitReason::deadline_passed},
       kDeadline},
      {"partner, awaiting load request, one block before the deadline",
       P::awaiting_load_request,
       Who::partner,
       {},
       RequestLoad{},
       kDeadline - 1},

      // ---- the partner in turn: its LoadRequest being voted on
      {"partner, load voting", P::load_voting, Who::partner, {}, Wait{WaitReason::votes_pending}},
      {"partner, load voting, deadline passed",
       P::load_voting,
       Who::partner,
       {},
       Wait{WaitReason::deadline_passed},
       kDeadline + 3},

      // ---- the partner in turn: holds the load token
      {"partner, training, nothing journaled", P::training, Who::partner, {}, Train{}},
      {"partner, training, candidate journaled (restart): resend it", P::training, Who::partner,
       remembers().candidate_journaled(), SubmitSave{}},
      {"partner, training, candidate journaled, an old upload failure", P::training, Who::partner,
       remembers().candidate_journaled().failed(LoadFailure::store_unreachable, true, 2),
       SubmitSave{}},
      {"partner, training, deadline passed: no training that cannot count",
       P::training,
       Who::partner,
       {},
       Wait{WaitReason::deadline_passed},
       kDeadline},
      {"partner, training, deadline passed, candidate journaled", P::training, Who::partner,
       remembers().candidate_journaled(), Wait{WaitReason::deadline_passed}, kDeadline},
      {"partner, training, local data unusable", P::training, Who::partner,
       remembers().data_unusable("validation.csv: no label column"),
       Abandon{LoadFailure::local_data_unusable, "validation.csv: no label column"}},
      {"partner, training, plan unusable", P::training, Who::partner,
       remembers().plan_unusable("the plan's optimizer is unknown: rmsprop"),
       Abandon{LoadFailure::training_failed, "the plan's optimizer is unknown: rmsprop"}},
      {"partner, training, store failed once: train again", P::training, Who::partner,
       remembers().failed(LoadFailure::store_unreachable, true, 1), Train{}},
      {"partner, training, store failed twice of three: train again", P::training, Who::partner,
       remembers().failed(LoadFailure::store_unreachable, true, 2), Train{}},
      {"partner, training, store failed three times: give up", P::training, Who::partner,
       remembers().failed(LoadFailure::store_unreachable, true, 3),
       Abandon{LoadFailure::store_unreachable, "what went wrong"}},
      {"partner, training, the head's blob is tampered with: give up at once", P::training,
       Who::partner, remembers().failed(LoadFailure::head_hash_mismatch, false, 1),
       Abandon{LoadFailure::head_hash_mismatch, "what went wrong"}},
      {"partner, training, training failed: give up at once", P::training, Who::partner,
       remembers().failed(LoadFailure::training_failed, false, 1),
       Abandon{LoadFailure::training_failed, "what went wrong"}},
      {"partner, training, abandoned already", P::training, Who::partner,
       remembers()
           .failed(LoadFailure::head_missing, false, 1)
           .abandoned(LoadFailure::head_missing, "first"),
       Abandon{LoadFailure::head_missing, "first"}},

      // ---- the partner in turn: its candidate being voted on
      {"partner, save voting", P::save_voting, Who::partner, {}, Wait{WaitReason::votes_pending}},
      {"partner, save voting, candidate journaled", P::save_voting, Who::partner,
       remembers().candidate_journaled(), Wait{WaitReason::votes_pending}},

      // ---- a voter in another's turn
      {"voter, awaiting the partner's load request",
       P::awaiting_load_request,
       Who::voter,
       {},
       Wait{WaitReason::not_in_turn}},
      {"voter, load voting, not voted",
       P::load_voting,
       Who::voter,
       {},
       VoteOnLoad{kLoadRequest, false}},
      {"voter, load voting, vote journaled, not on the ledger: resend", P::load_voting, Who::voter,
       remembers().load_vote_journaled(), VoteOnLoad{kLoadRequest, true}},
      {"voter, load voting, vote on the ledger", P::load_voting, Who::voter,
       remembers().load_vote_journaled(), Wait{WaitReason::already_voted}, 50, true},
      {"voter, load voting, deadline passed",
       P::load_voting,
       Who::voter,
       {},
       Wait{WaitReason::deadline_passed},
       kDeadline},
      {"voter, load voting, its local data unusable: approving needs none", P::load_voting,
       Who::voter, remembers().data_unusable("gone"), VoteOnLoad{kLoadRequest, false}},
      {"voter, training, head not measured: measure it now",
       P::training,
       Who::voter,
       {},
       MeasureHead{}},
      {"voter, training, head measured", P::training, Who::voter, remembers().head_measured(),
       Wait{WaitReason::head_measured}},
      {"voter, training, local data unusable", P::training, Who::voter,
       remembers().data_unusable("gone"), Wait{WaitReason::data_unusable}},
      {"voter, training, plan unusable", P::training, Who::voter,
       remembers().plan_unusable("bad spec"), Wait{WaitReason::plan_unusable}},
      {"voter, training, deadline passed",
       P::training,
       Who::voter,
       {},
       Wait{WaitReason::deadline_passed},
       kDeadline},
      {"voter, save voting, not voted: measure, decide, record",
       P::save_voting,
       Who::voter,
       {},
       VoteOnSave{kSaveRequest, false}},
      {"voter, save voting, head measured", P::save_voting, Who::voter, remembers().head_measured(),
       VoteOnSave{kSaveRequest, false}},
      {"voter, save voting, vote journaled (restart): resend", P::save_voting, Who::voter,
       remembers().save_vote_journaled(), VoteOnSave{kSaveRequest, true}},
      {"voter, save voting, vote journaled, data unusable now: resend all the same", P::save_voting,
       Who::voter, remembers().data_unusable("gone").save_vote_journaled(),
       VoteOnSave{kSaveRequest, true}},
      {"voter, save voting, vote on the ledger", P::save_voting, Who::voter,
       remembers().save_vote_journaled(), Wait{WaitReason::already_voted}, 50, true},
      {"voter, save voting, local data unusable: abstain", P::save_voting, Who::voter,
       remembers().data_unusable("gone"), Wait{WaitReason::data_unusable}},
      {"voter, save voting, plan unusable: abstain", P::save_voting, Who::voter,
       remembers().plan_unusable("bad spec"), Wait{WaitReason::plan_unusable}},
      {"voter, save voting, deadline passed", P::save_voting, Who::voter,
       remembers().save_vote_journaled(), Wait{WaitReason::deadline_passed}, kDeadline},

      // ---- a member without voting power, in another's turn
      {"non-voter, awaiting load request",
       P::awaiting_load_request,
       Who::non_voter,
       {},
       Wait{WaitReason::not_a_voter}},
      {"non-voter, load voting", P::load_voting, Who::non_voter, {}, Wait{WaitReason::not_a_voter}},
      {"non-voter, training", P::training, Who::non_voter, {}, Wait{WaitReason::not_a_voter}},
      {"non-voter, save voting", P::save_voting, Who::non_voter, {}, Wait{WaitReason::not_a_voter}},
      {"non-voter, save voting, deadline passed",
       P::save_voting,
       Who::non_voter,
       {},
       Wait{WaitReason::deadline_passed},
       kDeadline},
  };
  return table;
}

TEST(NextStep, DecidesEverySituationOfTheTable) {
  for (const Row& row : rows()) {
    SCOPED_TRACE(row.situation);
    const AgentIdentity self = identity(row.who);
    const chain::TrainingState state = state_for(row.phase, row.run, self.member_name, row.voted);
    const NextStep got = next_step(row.height, state, self, row.memory, kStoreAttempts);
    EXPECT_EQ(got, row.expected) << "got " << describe(got) << ", expected "
                                 << describe(row.expected);
  }
}

TEST(NextStep, ANonVoterPartnerStillTakesItsTurn) {
  const chain::TrainingState state =
      state_for(TurnPhase::awaiting_load_request, RunIs::active, "bob", false);
  EXPECT_EQ(next_step(50, state, {"bob", false}, {}, kStoreAttempts), NextStep{RequestLoad{}});
}

TEST(NextStep, AnAbandonDetailIsClippedToWhatTheLedgerTakes) {
  const chain::TrainingState state =
      state_for(TurnPhase::awaiting_load_request, RunIs::active, "bob", false);
  AgentMemory m;
  m.data_unusable = std::string(1000, 'x');
  const NextStep got = next_step(50, state, identity(Who::partner), m, kStoreAttempts);
  const auto* a = std::get_if<Abandon>(&got);
  ASSERT_NE(a, nullptr) << describe(got);
  EXPECT_EQ(a->detail.size(), chain::kMaxAbandonDetailBytes);
  EXPECT_EQ(a->detail.substr(a->detail.size() - 3), "...");
}

TEST(NextStep, OneStoreAttemptGivesUpAtTheFirstFailure) {
  const chain::TrainingState state = state_for(TurnPhase::training, RunIs::active, "bob", false);
  AgentMemory m;
  m.failure = failure(LoadFailure::store_unreachable, true, 1);
  EXPECT_TRUE(std::holds_alternative<Abandon>(next_step(50, state, identity(Who::partner), m, 1)));
  EXPECT_EQ(next_step(50, state, identity(Who::partner), m, 2), NextStep{Train{}});
}

// How a failure to load the head on the partner's own turn becomes the
// TurnAbandon's reason, and which failures are worth another attempt.
TEST(NextStep, AHeadLoadFailureNamesTheReasonTheLedgerRecords) {
  struct Case {
    HandoffErrc code;
    LoadFailure reason;
    bool retryable;
  };
  const Case cases[] = {
      {HandoffErrc::missing_blob, LoadFailure::head_missing, false},
      {HandoffErrc::hash_mismatch, LoadFailure::head_hash_mismatch, false},
      {HandoffErrc::model_hash_mismatch, LoadFailure::head_hash_mismatch, false},
      {HandoffErrc::wrong_size, LoadFailure::head_hash_mismatch, false},
      {HandoffErrc::store_failed, LoadFailure::store_unreachable, true},
      {HandoffErrc::io, LoadFailure::head_unusable, true},
      {HandoffErrc::authentication_failed, LoadFailure::head_unusable, false},
      {HandoffErrc::not_recipient, LoadFailure::head_unusable, false},
      {HandoffErrc::cannot_unwrap, LoadFailure::head_unusable, false},
      {HandoffErrc::bad_model, LoadFailure::head_unusable, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(handoff_errc_name(c.code)));
    const TurnFailure f = head_load_failure(c.code, "detail", 2);
    EXPECT_EQ(f.reason, c.reason);
    EXPECT_EQ(f.retryable, c.retryable);
    EXPECT_EQ(f.attempts, 2u);
    EXPECT_EQ(f.detail, "detail");
  }
}

TEST(NextStep, AnUploadFailureIsRetriedAndNamesTheStoreOnlyWhenItWasTheStore) {
  const TurnFailure store = upload_failure(HandoffErrc::store_failed, "d", 1);
  EXPECT_EQ(store.reason, LoadFailure::store_unreachable);
  EXPECT_TRUE(store.retryable);
  const TurnFailure local = upload_failure(HandoffErrc::io, "d", 1);
  EXPECT_EQ(local.reason, LoadFailure::training_failed);
  EXPECT_TRUE(local.retryable);
}

}  // namespace
}  // namespace baton::agent

namespace baton::agent {
namespace {

// A partner whose balance cannot pay the plan's stake (docs/PROTOCOL.md
// §19.9) sends no LoadRequest (the ledger would refuse it) and trains for
// nothing; one that can asks as usual.
TEST(NextStep, APartnerThatCannotPayItsStakeDoesNotAskToLoad) {
  chain::TrainingState state =
      state_for(TurnPhase::awaiting_load_request, RunIs::active, "bob", false);
  chain::Run& run = state.runs.at("run-1");
  run.plan.deposit = 50;
  run.plan.deposit_factor = 2;
  state.accounts.balances["bob"] = 49;
  const AgentMemory memory;
  EXPECT_EQ(next_step(10, state, identity(Who::partner), memory, kStoreAttempts),
            NextStep(Wait{WaitReason::cannot_pay}));
  state.accounts.balances["bob"] = 50;
  EXPECT_EQ(next_step(10, state, identity(Who::partner), memory, kStoreAttempts),
            NextStep(RequestLoad{}));
  run.plan.min_balance = 51;
  EXPECT_EQ(next_step(10, state, identity(Who::partner), memory, kStoreAttempts),
            NextStep(Wait{WaitReason::cannot_pay}));
}

}  // namespace
}  // namespace baton::agent

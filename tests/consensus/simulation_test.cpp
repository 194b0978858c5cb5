#include <gtest/gtest.h>

#include "tests/consensus/sim/simulation.h"

namespace baton::consensus::sim {
namespace {

TEST(Simulation, SameSeedReplaysExactly) {
  SimOptions o;
  o.seed = 7;
  const auto a = run_simulation(o);
  const auto b = run_simulation(o);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.sim_ms, b.sim_ms);
  EXPECT_EQ(a.min_honest_height, b.min_honest_height);
  EXPECT_EQ(a.max_honest_height, b.max_honest_height);
  EXPECT_EQ(a.violations, b.violations);
}

TEST(Simulation, HonestRunWithFaultsCommitsWithoutViolations) {
  SimOptions o;
  o.seed = 3;
  const auto r = run_simulation(o);
  EXPECT_TRUE(r.violations.empty()) << r.violations.front();
  EXPECT_GT(r.min_honest_height, 0u);
}

// Byzantine validators recast honest nil votes with a block id of 32 zero
// bytes and propose blocks carrying the forged evidence; no honest node may
// record or commit evidence against an honest validator. The forgeries must
// actually be attempted, or the test proves nothing.
TEST(Simulation, ForgedNilVoteEvidenceAccusesNoHonestValidator) {
  std::uint64_t forged_votes = 0;
  std::uint64_t forged_proposals = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SimOptions o;
    o.seed = seed;
    o.nodes = 4;
    o.byzantine = 1;
    const auto r = run_simulation(o);
    EXPECT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations.front();
    forged_votes += r.forged_votes_sent;
    forged_proposals += r.forged_evidence_proposed;
  }
  EXPECT_GT(forged_votes, 0u);
  EXPECT_GT(forged_proposals, 0u);
}

// A simulation that cannot fail proves nothing: with the locking rule
// disabled in honest engines, some seed must show a fork.
TEST(Simulation, FindsForkWhenLockingIsDisabled) {
  int failing = 0;
  for (std::uint64_t seed = 1; seed <= 500 && failing == 0; ++seed) {
    SimOptions o;
    o.seed = seed;
    o.unsafe_ignore_lock = true;
    const auto r = run_simulation(o);
    if (!r.violations.empty()) {
      ++failing;
      EXPECT_NE(r.violations.front().find("fork"), std::string::npos) << r.violations.front();
    }
  }
  EXPECT_GT(failing, 0);
}

// A validator killed at any point of carrying out an output (before its
// signer record is written, between the record and the checkpoint, after
// both, after some of its messages left) and restarted from what was
// written never signs two different messages for one height, round and
// step. The crashes must actually cut outputs short, or the test proves
// nothing.
TEST(Simulation, CrashesInsideAnOutputNeverMakeAValidatorSignTwice) {
  std::uint64_t cut_short = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    SimOptions o;
    o.seed = seed;
    const auto r = run_simulation(o);
    EXPECT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations.front();
    cut_short += r.crashes_mid_output;
  }
  EXPECT_GT(cut_short, 40u);
}

// The same crashes with the order broken (messages sent before their
// signer record is written) must show a double sign for some seed.
TEST(Simulation, FindsADoubleSignWhenMessagesLeaveBeforeTheirRecords) {
  int failing = 0;
  for (std::uint64_t seed = 1; seed <= 200 && failing == 0; ++seed) {
    SimOptions o;
    o.seed = seed;
    o.unsafe_send_before_write = true;
    const auto r = run_simulation(o);
    if (!r.violations.empty()) {
      ++failing;
      EXPECT_NE(r.violations.front().find("signed two different"), std::string::npos)
          << r.violations.front();
    }
  }
  EXPECT_GT(failing, 0);
}

}  // namespace
}  // namespace baton::consensus::sim

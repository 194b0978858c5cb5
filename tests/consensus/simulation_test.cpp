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

}  // namespace
}  // namespace baton::consensus::sim

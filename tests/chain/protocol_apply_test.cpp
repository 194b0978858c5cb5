// How a protocol transaction is applied (issue 11, section 5): on the state
// itself, never on a copy of it. The old path deep-copied the whole training
// state for every protocol transaction, refused ones included, so a block of
// refused transactions cost time in proportion to all training history (500
// refused LoadApprovals on a 100,000-turn history: a 38 s block). Timings are
// in bench/protocol_bench.cpp; these tests check the structure: a refusal
// changes nothing but the refusal log, nothing is replaced by a copy, and a
// refusal allocates the same on a long history as on a short one.
#include <atomic>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "protocol_fixture.h"

// Counts every allocation of this test binary, so that a test can see how
// many one call makes (deterministic, unlike a timing). Replacing the global
// operator new is allowed by the standard; the count is read only here.
namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// GCC 12 sees the free() in these replacements inlined where it assumes the
// library's operator new, and warns of a mismatch that is not one: this
// binary's new is the malloc above (-Wmismatched-new-delete false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace baton::chain::testing {
namespace {

// Refused and accepted transactions are applied to the state in place: a
// refusal changes the refusal log and nothing else, and neither replaces the
// turns with a copy (the old apply path copied the whole training state for
// every protocol transaction, so a block's cost grew with all history).
TEST(ProtocolApply, WorksOnTheStateInPlaceWithoutCopyingIt) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4, 10)));
  const Hash req = p.commit(p.load_request(0, 0, std::nullopt));
  LedgerState state = p.chain.state;
  chain::Run& run = state.training.runs.at("run-1");
  run.turns.reserve(64);
  const Turn* turns = run.turns.data();
  const auto* approvals = &run.turns.back().load_approvals;

  const TrainingState before = state.training;
  const pb::Transaction refused = p.load_approval(1, fake_hash(0x42));  // no such request
  EXPECT_EQ(apply_protocol_tx(p.chain.spec, state, refused, state.height + 1),
            ProtocolRejected::no_open_request);
  TrainingState after = state.training;
  EXPECT_EQ(after.runs.at("run-1").refusals.total, 1u);
  after.runs.at("run-1").refusals = before.runs.at("run-1").refusals;
  EXPECT_EQ(after, before);
  EXPECT_EQ(training_encoding(ProtocolChain::without_refusals(state.training)),
            training_encoding(ProtocolChain::without_refusals(before)));
  EXPECT_EQ(state.training.runs.at("run-1").turns.data(), turns);

  p.spent(refused);
  const pb::Transaction accepted = p.load_approval(1, req);
  EXPECT_EQ(apply_protocol_tx(p.chain.spec, state, accepted, state.height + 1), std::nullopt);
  EXPECT_EQ(state.training.runs.at("run-1").turns.data(), turns);
  ASSERT_EQ(&state.training.runs.at("run-1").turns.back().load_approvals, approvals);
  EXPECT_TRUE(approvals->contains("bob"));
}

// The state before a refused LoadApproval: the fixture's run waiting for
// approvals, plus a finished run of `history_turns` turns, each with two
// recorded approvals (what a copy of the state would have to allocate).
LedgerState with_history(ProtocolChain& p, std::size_t history_turns) {
  LedgerState state = p.chain.state;
  chain::Run old = state.training.runs.at("run-1");
  old.plan.run_id = "run-0";
  old.status = RunStatus::finished;
  old.turns.clear();
  for (std::size_t i = 0; i < history_turns; ++i) {
    Turn t;
    t.index = i;
    t.partner = "alice";
    t.phase = TurnPhase::done;
    t.outcome = TurnOutcome::rejected;
    t.load_request_id = fake_hash(static_cast<std::uint8_t>(i));
    t.load_approvals["bob"] = ApprovalRecord{false, "the head does not load", 2};
    t.load_approvals["carol"] = ApprovalRecord{false, "the head does not load", 2};
    old.turns.push_back(std::move(t));
  }
  state.training.runs.emplace("run-0", std::move(old));
  return state;
}

TEST(ProtocolApply, ARefusalAllocatesTheSameOnALongHistoryAsOnAShortOne) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  p.commit(p.load_request(0, 0, std::nullopt));
  const pb::Transaction refused = p.load_approval(1, fake_hash(0x42));  // no such request
  auto allocations = [&](std::size_t history_turns, bool apply) {
    LedgerState state = with_history(p, history_turns);
    const std::size_t before = g_allocations.load();
    const auto reason = apply ? apply_protocol_tx(p.chain.spec, state, refused, state.height + 1)
                              : check_protocol_tx(p.chain.spec, state, refused);
    const std::size_t used = g_allocations.load() - before;
    EXPECT_EQ(reason, ProtocolRejected::no_open_request);
    return used;
  };
  EXPECT_EQ(allocations(10, true), allocations(2'000, true));
  EXPECT_EQ(allocations(10, false), allocations(2'000, false));
  EXPECT_LT(allocations(2'000, true), 100u);  // a copy would make over 4,000
}

}  // namespace
}  // namespace baton::chain::testing

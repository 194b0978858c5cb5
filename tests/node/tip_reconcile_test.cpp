// The ledger's tip against the committed state after a storage failure
// (node/tip_reconcile.h), one row per situation.
#include "node/tip_reconcile.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>

#include "tests/chain/chain_fixture.h"

namespace baton::node {
namespace {

using chain::testing::TestChain;

// Appends a block committed by the three validators (dave holds no power,
// so TestChain::append, which seals with all four, would be refused).
chain::pb::CommittedBlock append_by_validators(TestChain& tc, std::vector<std::string> txs) {
  auto committed = tc.seal(tc.propose(std::move(txs)).block, {0, 1, 2});
  tc.state = chain::validate_block(tc.spec, tc.state, committed).value();
  return committed;
}

// Blocks 1..3 and the state after each.
struct Chain3 {
  TestChain tc{{1, 1, 1, 0}};
  std::vector<std::string> bytes{""};      // bytes[h]: block h as stored
  std::vector<chain::LedgerState> states;  // states[h]: after block h
  Chain3() {
    states.push_back(tc.state);
    for (std::size_t i = 0; i < 3; ++i) {
      bytes.push_back(append_by_validators(tc, {tc.note(i, 1)}).SerializeAsString());
      states.push_back(tc.state);
    }
  }
  storage::Tip tip(std::uint64_t h) const { return {h, states[h].last_block_id}; }
};

TEST(TipReconcile, ComparesTheStoresTipWithTheCommittedState) {
  const Chain3 c;
  struct Row {
    const char* situation;
    storage::Tip tip;
    std::uint64_t committed;
    TipStep step;
    std::uint64_t height;      // adopt_next
    const char* why_contains;  // refuse
  };
  const Row rows[] = {
      {"in step at genesis", c.tip(0), 0, TipStep::in_step, 0, ""},
      {"in step", c.tip(2), 2, TipStep::in_step, 0, ""},
      {"a failed-looking write landed", c.tip(3), 2, TipStep::adopt_next, 3, ""},
      {"two landed", c.tip(3), 1, TipStep::adopt_next, 2, ""},
      {"the store lost a committed block", c.tip(1), 2, TipStep::refuse, 0,
       "its tip is height 1 but this node had committed height 2; restore DATA/ledger"},
      {"the store lost everything", c.tip(0), 3, TipStep::refuse, 0, "restore DATA/ledger"},
      {"another block at the committed height",
       {2, c.states[1].last_block_id},
       2,
       TipStep::refuse,
       0,
       "its tip at height 2 is block "},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.situation);
    const TipDecision d = next_tip_step(row.tip, c.states[row.committed]);
    EXPECT_EQ(d.step, row.step);
    if (row.step == TipStep::adopt_next) {
      EXPECT_EQ(d.height, row.height);
    }
    EXPECT_NE(d.why.find(row.why_contains), std::string::npos) << d.why;
    EXPECT_EQ(d.why.empty(), row.step != TipStep::refuse);
  }
}

TEST(TipReconcile, AdoptsAStoredBlockOnlyAfterTheFullCheck) {
  const Chain3 c;
  struct Row {
    const char* situation;
    std::function<std::optional<std::string>(const Chain3&)> stored;  // at height 2
    const char* error_contains;                                       // "": adopted
  };
  const std::vector<Row> rows = {
      {"the block that follows", [](auto& c) { return c.bytes[2]; }, ""},
      {"missing although the tip is above", [](auto&) { return std::nullopt; },
       "its tip is height 3 but height 2 is missing"},
      {"bytes that are no committed block", [](auto&) { return std::string("\x0a\xff"); },
       "height 2: "},
      {"a block that does not chain (height 3's)", [](auto& c) { return c.bytes[3]; },
       "height 2 is invalid: "},
      {"committed with a member that is no validator",
       [](auto& c) {
         // Block 2 resealed with dave's precommit: dave holds no voting power.
         auto committed = chain::decode_committed_block(c.bytes[2]).value();
         return c.tc.seal(committed.block(), {0, 1, 3}).SerializeAsString();
       },
       "height 2 is invalid: "},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.situation);
    auto after = adopt_stored_block(c.tc.spec, c.states[1], 2, 3, row.stored(c));
    const std::string want = row.error_contains;
    ASSERT_EQ(after.ok(), want.empty()) << (after.ok() ? "" : after.error().message);
    if (after.ok()) {
      EXPECT_EQ(after->last_block_id, c.states[2].last_block_id);
    } else {
      EXPECT_NE(after.error().message.find(want), std::string::npos) << after.error().message;
    }
  }
}

TEST(TipReconcile, TheTipMustReadBackAsTheCommittedBlock) {
  const Chain3 c;
  struct Row {
    const char* situation;
    std::uint64_t committed;
    std::optional<std::string> stored;
    bool ok;
  };
  const Row rows[] = {
      {"genesis: nothing to read", 0, std::nullopt, true},
      {"the committed block", 2, c.bytes[2], true},
      {"missing", 2, std::nullopt, false},
      {"another block's bytes", 2, c.bytes[1], false},
      {"bytes that no longer decode", 2, c.bytes[2].substr(0, c.bytes[2].size() / 2), false},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.situation);
    const Status s = tip_reads_back(c.states[row.committed], row.stored);
    EXPECT_EQ(s.ok(), row.ok);
    if (!s.ok()) {
      EXPECT_EQ(s.error().message,
                "the stored block at height 2 does not read back as the block "
                "this node committed");
    }
  }
}

}  // namespace
}  // namespace baton::node

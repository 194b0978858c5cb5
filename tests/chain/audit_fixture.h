// The Python auditor (tests/chain/audit_export.py with audit_training.py)
// run on a ProtocolChain, and the lines it must print for the chain's state:
// shared by audit_training_test.cpp (runs, turns, refusals) and
// audit_economy_test.cpp (accounts, escrow, deposits, privacy).
#pragma once

#include <map>
#include <string>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "privacy_fixture.h"
#include "tests/support/test_support.h"

namespace baton::chain::testing {

// The chain as `baton ledger export` writes it (the auditor reads only
// "stored_hex") with its genesis; returns the auditor's run.
inline baton::testing::RunResult audit(const ProtocolChain& p) {
  baton::testing::TempDir dir("baton-audit");
  baton::testing::write_text(dir / "genesis.json", p.chain.genesis_text);
  std::string lines;
  for (const auto& block : p.blocks)
    lines += nlohmann::json{{"stored_hex", to_hex(as_bytes(block))}}.dump() + "\n";
  baton::testing::write_text(dir / "export.jsonl", lines);
  return baton::testing::run_program(
      "/usr/bin/python3",
      {(baton::testing::source_dir() / "tests" / "chain" / "audit_export.py").string(),
       (dir / "genesis.json").string(), (dir / "export.jsonl").string()});
}

// "name=N,name=N" in ascending name order, or "none".
inline std::string named_amounts(const std::map<std::string, std::uint64_t>& amounts) {
  std::string out;
  for (const auto& [name, n] : amounts)
    out += (out.empty() ? "" : ",") + name + "=" + std::to_string(n);
  return out.empty() ? "none" : out;
}

// The auditor's line for `run` ("run ID: STATUS, turns ..., head ..., refusals
// N", and for a sponsored run ", escrow FUNDED STATE, paid ..., granted by ...").
inline std::string summary(const Run& run) {
  std::string turns;
  for (const auto& t : run.turns)
    turns += (turns.empty() ? "" : ",") + std::string(to_string(t.outcome));
  std::string line = "run " + run.plan.run_id + ": " + std::string(to_string(run.status)) +
                     ", turns " + turns + ", head " + (run.head ? run.head->hex() : "none") +
                     ", refusals " + std::to_string(run.refusals.total);
  if (run.escrow) {
    std::string granters;
    for (const auto& [name, sealed] : run.escrow->key_grants)
      granters += (granters.empty() ? "" : ",") + name;
    line += ", escrow " + std::to_string(run.escrow->funded) + " " +
            std::string(to_string(run.escrow->state)) + ", paid " +
            named_amounts(run.escrow->payouts) + ", granted by " +
            (granters.empty() ? "none" : granters);
  }
  return line + "\n";
}

inline void expect_audit_agrees(const ProtocolChain& p) {
  const auto r = audit(p);
  ASSERT_EQ(r.exit_code, 0) << "the auditor refused the chain (it needs python3 and "
                               "python3-nacl: deploy/bootstrap.sh): "
                            << r.out << r.err;
  EXPECT_EQ(r.out.rfind("ok: " + std::to_string(p.chain.state.height) + " blocks, " +
                            std::to_string(p.chain.state.tx_count) + " transactions, tip " +
                            p.chain.state.last_block_id.hex() + "\n",
                        0),
            0u)
      << r.out;
  for (const auto& [id, run] : p.training().runs)
    EXPECT_NE(r.out.find(summary(run)), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("balances: " + named_amounts(p.training().accounts.balances) + "\n"),
            std::string::npos)
      << r.out;
}

// A TurnAbandon of run-1's turn `turn` by member i (head_unusable).
inline pb::Transaction abandon(ProtocolChain& p, std::size_t i, std::uint64_t turn,
                               const std::optional<Hash>& head) {
  pb::TurnAbandon a;
  a.set_run_id("run-1");
  a.set_turn(turn);
  a.set_head_model_id(hash_bytes(head));
  a.set_reason(static_cast<std::uint32_t>(LoadFailure::head_unusable));
  a.set_detail("the head does not load: wrong spec");
  return p.tx(i, pb::TX_TURN_ABANDON, a);
}

}  // namespace baton::chain::testing

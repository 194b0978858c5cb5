// A chain that uses run control and the consortium schema (docs/PROTOCOL.md
// §22, §23): data summaries (accepted and refused), a run on a consortium
// schema whose partners are ready (one forged schema hash refused) and that
// an admin cancels, and runs that end not_ready each way (schema mismatch,
// a partner's refusal, the deadline). Shared by the auditor's test
// (audit_control_test.cpp) and `baton ledger` on a real ledger
// (tests/cli/ledger_control_cli_test.cpp).
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "chain/consortium_schema.h"
#include "chain/crypto.h"
#include "chain/transaction.h"
#include "protocol_fixture.h"

namespace baton::chain::testing {

// A summary of `rows` rows with the plan's columns: age (numeric: values
// -2.5, 61, 62.25, ... so that means and scales have fractions and signs)
// and volume (categorical: "low" everywhere, "hö"gh\x01" from `rows` 5 on, and
// the member's own `rare` level that one summary alone cannot make a feature).
inline pb::DataSummary control_summary(const std::string& schema_id, std::uint64_t rows,
                                       const std::string& rare) {
  DataSummaryRecord r;
  r.positive_value = "1";
  r.na_values = {"", "NA", "?"};
  r.rows = rows;
  SummaryColumn age;
  age.name = "age";
  age.missing = 1;
  for (std::uint64_t i = 1; i < rows; ++i) {
    const std::int64_t v =
        i == 1 ? -2'500'000 : static_cast<std::int64_t>(60 + i) * kMicro + 250'000;
    if (age.numeric.count == 0 || v < age.numeric.min_micro) age.numeric.min_micro = v;
    if (age.numeric.count == 0 || v > age.numeric.max_micro) age.numeric.max_micro = v;
    ++age.numeric.count;
    age.numeric.sum_micro += v;
    age.numeric.sum_squares += static_cast<u128>(static_cast<i128>(v) * v);
  }
  SummaryColumn volume;
  volume.name = "volume";
  volume.kind = SummaryKind::categorical;
  volume.levels["low"] = rows - 2;
  if (rows >= 5) {
    volume.levels["h\xc3\xb6\"gh\x01"] = 1;  // escaped in the schema's JSON
    volume.levels[rare] = 1;
  } else {
    volume.levels[rare] = 2;
  }
  r.columns = {age, volume};
  return summary_to_proto(schema_id, r);
}

// The raw 32 bytes of the SHA-256 of the schema `schema_id` derives.
inline std::string derived_schema_hash(const ProtocolChain& p, const std::string& schema_id) {
  auto json = derive_consortium_schema(p.training().schemas.at(schema_id));
  EXPECT_TRUE(json.ok()) << json.error().message;
  return hash_bytes(sha256(*json));
}

struct ControlChain {
  ProtocolChain p;
  // Hashes (hex) of some of its transactions, for the ledger's readers.
  std::string summary_bob;    // bob's DataSummary of "s1", accepted
  std::string ready_alice;    // alice's RunReady of run-1 with the derived schema's hash
  std::string forged_bob;     // bob's RunReady of run-1 with another hash: wrong_schema_hash
  std::string refusal_alice;  // alice's refusing RunReady of run-3 (width_mismatch)
  std::string cancel;         // alice's CancelRun of run-1
  std::string schema_hash;    // hex of what "s1" derives

  std::string hex(const pb::Transaction& t) { return tx_hash(encode_transaction(t)).hex(); }

  pb::Transaction ready(std::size_t i, const std::string& run, bool ok, const std::string& schema,
                        std::uint32_t reason = 0, const std::string& detail = "") {
    pb::RunReady r;
    r.set_run_id(run);
    r.set_ready(ok);
    r.set_schema_sha256(schema);
    r.set_train_rows(40 + i);
    r.set_reason(reason);
    r.set_detail(detail);
    return p.tx(i, pb::TX_RUN_READY, r);
  }

  pb::Transaction cancel_tx(std::size_t i, const std::string& run, const std::string& why) {
    pb::CancelRun c;
    c.set_run_id(run);
    c.set_reason(why);
    return p.tx(i, pb::TX_CANCEL_RUN, c);
  }

  TrainingPlan plan(const std::string& run_id, const std::string& schema_id = "") {
    TrainingPlan plan = test_plan(4);
    plan.run_id = run_id;
    plan.readiness_deadline_blocks = 6;
    plan.schema_id = schema_id;
    if (!schema_id.empty()) plan.dataset = "study-1";
    return plan;
  }

  ControlChain() {
    // Summaries: three hospitals on "s1"; refused ones of each kind.
    const pb::Transaction bob = p.tx(1, pb::TX_DATA_SUMMARY, control_summary("s1", 6, "b-only"));
    summary_bob = hex(bob);
    p.commit(bob);
    p.commit(p.tx(2, pb::TX_DATA_SUMMARY, control_summary("s1", 5, "c-only")));
    p.commit(p.tx(3, pb::TX_DATA_SUMMARY, control_summary("s1", 4, "d-only")));
    pb::DataSummary empty = control_summary("s1", 4, "x");
    empty.set_rows(0);
    EXPECT_EQ(p.commit_refused(p.tx(0, pb::TX_DATA_SUMMARY, empty)),
              ProtocolRejected::malformed_summary);
    pb::DataSummary other = control_summary("s1", 4, "x");
    other.set_column_names(0, "weight");
    EXPECT_EQ(p.commit_refused(p.tx(0, pb::TX_DATA_SUMMARY, other)),
              ProtocolRejected::summary_layout_mismatch);
    // run-1 on the consortium schema: an unknown id first, then "s1".
    EXPECT_EQ(p.commit_refused(p.start(0, plan("run-1", "s9"))), ProtocolRejected::unknown_schema);
    p.commit(p.start(0, plan("run-1", "s1")));
    EXPECT_EQ(p.commit_refused(p.tx(3, pb::TX_DATA_SUMMARY, control_summary("s1", 9, "d-only"))),
              ProtocolRejected::schema_frozen);
    const std::string good = derived_schema_hash(p, "s1");
    schema_hash = to_hex(as_bytes(good));
    const pb::Transaction forged = ready(1, "run-1", true, hash_bytes(fake_hash(5)));
    forged_bob = hex(forged);
    EXPECT_EQ(p.commit_refused(forged), ProtocolRejected::wrong_schema_hash);
    const pb::Transaction alice = ready(0, "run-1", true, good);
    ready_alice = hex(alice);
    p.commit(alice);
    for (std::size_t i = 1; i < 4; ++i) p.commit(ready(i, "run-1", true, good));
    EXPECT_EQ(p.run().status, RunStatus::active);
    const pb::Transaction stop = cancel_tx(0, "run-1", "the consortium agreed on a new schema");
    cancel = hex(stop);
    p.commit(stop);
    // run-2: two ready answers with different (claimed) schemas.
    p.commit(p.start(0, plan("run-2")));
    p.commit(ready(1, "run-2", true, hash_bytes(fake_hash(1))));
    p.commit(ready(2, "run-2", true, hash_bytes(fake_hash(2))));
    // run-3: a partner refuses.
    p.commit(p.start(0, plan("run-3")));
    const pb::Transaction refuse =
        ready(0, "run-3", false, "", static_cast<std::uint32_t>(ReadinessFailure::width_mismatch),
              "the plan's model takes 30 features but the local data encode to 33");
    refusal_alice = hex(refuse);
    p.commit(refuse);
    // run-4: nobody answers before the deadline; a cancel after it is refused.
    p.commit(p.start(0, plan("run-4")));
    p.commit(ready(3, "run-4", true, ""));
    p.empty_blocks(7);
    EXPECT_EQ(p.commit_refused(cancel_tx(0, "run-4", "too late")), ProtocolRejected::run_ended);
  }
};

}  // namespace baton::chain::testing

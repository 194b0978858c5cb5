// The Python auditor (tests/chain/audit_export.py, from docs/PROTOCOL.md
// alone) on a chain with run control and the consortium schema (TxTypes
// 23..25, §22-§23): it must decode every payload, replay every refusal and
// derive the schema's bytes itself to recompute each block's state hash.
#include <gtest/gtest.h>

#include "audit_fixture.h"
#include "control_fixture.h"

namespace baton::chain::testing {
namespace {

TEST(AuditControl, TheAuditorReplaysRunControlAndTheConsortiumSchema) {
  ControlChain c;
  EXPECT_EQ(c.p.training().runs.at("run-1").status, RunStatus::cancelled);
  EXPECT_EQ(c.p.training().runs.at("run-2").stop->cause, RunStopCause::schema_mismatch);
  EXPECT_EQ(c.p.training().runs.at("run-3").stop->cause, RunStopCause::partner_refused);
  EXPECT_EQ(c.p.training().runs.at("run-4").stop->cause, RunStopCause::readiness_expired);
  EXPECT_TRUE(c.p.training().schemas.at("s1").frozen);
  expect_audit_agrees(c.p);
}

}  // namespace
}  // namespace baton::chain::testing

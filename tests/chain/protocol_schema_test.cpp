// DataSummary on the ledger (docs/PROTOCOL.md §23): who may post, what is
// refused, the latest summary per member, the freeze at a run's start, and
// the state's encoding.
#include <gtest/gtest.h>

#include <algorithm>

#include "chain/consortium_schema.h"
#include "chain/crypto.h"
#include "chain/training_decode.h"
#include "chain/training_plan.h"
#include "chain/transaction.h"
#include "protocol_fixture.h"

namespace baton::chain::testing {
namespace {

// A summary of `rows` rows: age (numeric, values 60..60+rows-1) and sex.
pb::DataSummary summary(const std::string& schema_id, std::uint64_t rows = 4,
                        const std::string& level = "F") {
  DataSummaryRecord r;
  r.positive_value = "1";
  r.rows = rows;
  SummaryColumn age;
  age.name = "age";
  for (std::uint64_t i = 0; i < rows; ++i) {
    const std::int64_t v = static_cast<std::int64_t>(60 + i) * kMicro;
    if (i == 0) age.numeric.min_micro = v;
    age.numeric.max_micro = v;
    ++age.numeric.count;
    age.numeric.sum_micro += v;
    age.numeric.sum_squares += static_cast<u128>(static_cast<i128>(v) * v);
  }
  SummaryColumn sex;
  sex.name = "volume";  // test_plan's second feature column
  sex.kind = SummaryKind::categorical;
  sex.levels[level] = rows;
  r.columns = {age, sex};
  return summary_to_proto(schema_id, r);
}

struct SchemaChain : ProtocolChain {
  pb::Transaction post(std::size_t member, const pb::DataSummary& m) {
    return tx(member, pb::TX_DATA_SUMMARY, m);
  }
};

TEST(ProtocolSchema, RecordsEachMembersLatestSummary) {
  SchemaChain c;
  c.commit(c.post(0, summary("s1", 4)));
  c.commit(c.post(1, summary("s1", 5)));
  ASSERT_TRUE(c.training().schemas.contains("s1"));
  EXPECT_EQ(c.training().schemas.at("s1").summaries.size(), 2u);
  c.commit(c.post(0, summary("s1", 6)));  // replaces alice's
  const auto& s = c.training().schemas.at("s1");
  EXPECT_EQ(s.summaries.at("alice").rows, 6u);
  EXPECT_EQ(s.summaries.at("alice").height, c.chain.state.height);
  EXPECT_FALSE(s.frozen);
}

TEST(ProtocolSchema, RefusesMalformedMismatchedAndExcessSummaries) {
  SchemaChain c;
  c.commit(c.post(0, summary("s1")));
  pb::DataSummary bad = summary("s1");
  bad.set_rows(0);
  EXPECT_EQ(c.refusal(c.post(1, bad)), ProtocolRejected::malformed_summary);
  pb::DataSummary huge = summary("s1");
  for (int i = 0; i < 300; ++i) {  // over a column's 256 levels
    huge.add_level_columns(1);
    huge.add_level_names("z" + std::to_string(1000 + i));
    huge.add_level_counts(1);
  }
  EXPECT_EQ(c.refusal(c.post(1, huge)), ProtocolRejected::malformed_summary);
  EXPECT_EQ(c.refusal(c.post(1, summary("bad id!"))), ProtocolRejected::malformed_summary);
  pb::DataSummary other = summary("s1");
  other.set_column_names(1, "sex");  // another layout than alice's
  EXPECT_EQ(c.refusal(c.post(1, other)), ProtocolRejected::summary_layout_mismatch);
  // Alice alone may change her own layout (nobody else's summary disagrees).
  EXPECT_EQ(c.refusal(c.post(0, other)), std::nullopt);
  // A member holds at most kMaxSummariesPerMember schema ids.
  for (std::size_t i = 2; i <= kMaxSummariesPerMember; ++i)
    c.commit(c.post(0, summary("s" + std::to_string(i))));
  EXPECT_EQ(c.refusal(c.post(0, summary("one-more"))), ProtocolRejected::too_many_summaries);
  EXPECT_EQ(c.refusal(c.post(0, summary("s2", 9))), std::nullopt);  // replacing is fine
}

TEST(ProtocolSchema, OnlyPartnersMayPostAndNonMembersCannotSendAtAll) {
  SchemaChain c;
  auto& dave = c.chain.spec.genesis.members[3];
  dave.roles.erase(std::remove(dave.roles.begin(), dave.roles.end(), "partner"), dave.roles.end());
  EXPECT_EQ(c.refusal(c.post(3, summary("s1"))), ProtocolRejected::not_a_data_holder);
  const std::string bytes =
      encode_transaction(make_transaction(c.chain.spec.network(), outsider_key(), 1,
                                          pb::TX_DATA_SUMMARY, summary("s1").SerializeAsString()));
  auto checked = check_transaction(bytes, c.chain.spec.network(), c.chain.spec.validators, 1 << 20);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.reason(), TxInvalid::unknown_sender);
}

TEST(ProtocolSchema, ARunFreezesItsSchemaAndNeedsOneThatFitsThePlan) {
  SchemaChain c;
  TrainingPlan plan = test_plan(3);
  plan.schema_id = "s1";
  EXPECT_EQ(c.refusal(c.start(0, plan)), ProtocolRejected::unknown_schema);  // no summary yet
  c.commit(c.post(1, summary("s1")));
  c.commit(c.post(2, summary("s1", 7)));
  TrainingPlan other_columns = plan;
  other_columns.feature_columns = {"age", "weight"};
  EXPECT_EQ(c.refusal(c.start(0, other_columns)), ProtocolRejected::unknown_schema);
  TrainingPlan other_positive = plan;
  other_positive.positive_value = "yes";
  EXPECT_EQ(c.refusal(c.start(0, other_positive)), ProtocolRejected::unknown_schema);
  c.commit(c.start(0, plan));
  EXPECT_TRUE(c.training().schemas.at("s1").frozen);
  EXPECT_EQ(c.run().plan.schema_id, "s1");
  // Frozen: no member may change what the run encodes with.
  EXPECT_EQ(c.refusal(c.post(1, summary("s1", 9))), ProtocolRejected::schema_frozen);
  EXPECT_EQ(c.refusal(c.post(3, summary("s1"))), ProtocolRejected::schema_frozen);
  // Another id is still open.
  EXPECT_EQ(c.refusal(c.post(1, summary("s2"))), std::nullopt);
}

TEST(ProtocolSchema, PlanFieldsAreBoundedAndRoundTrip) {
  SchemaChain c;
  TrainingPlan plan = test_plan(3);
  plan.dataset = "study-2";
  EXPECT_TRUE(validate_plan(c.chain.spec.genesis, plan));
  auto back = plan_from_proto(c.chain.spec.genesis, plan_to_proto(plan));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->dataset, "study-2");
  auto json_back = decode_plan_json(plan_to_json(plan));
  ASSERT_TRUE(json_back && *json_back);
  EXPECT_EQ((*json_back)->dataset, "study-2");
  plan.dataset = std::string(65, 'a');
  EXPECT_FALSE(validate_plan(c.chain.spec.genesis, plan));
  plan.dataset = "a/b";
  EXPECT_FALSE(validate_plan(c.chain.spec.genesis, plan));
  plan.dataset.clear();
  plan.schema_id = "x y";
  EXPECT_FALSE(validate_plan(c.chain.spec.genesis, plan));
}

TEST(ProtocolSchema, AGenesisPlanCannotNameASchemaId) {
  Genesis g = fixed_genesis();
  TrainingPlan plan = test_plan(3);
  plan.schema_id = "s1";
  g.training_plan = plan;
  auto s = validate_genesis(g);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("schema_id"), std::string::npos);
  plan.schema_id.clear();
  plan.dataset = "study-2";  // a dataset name is fine: each hospital declares it
  g.training_plan = plan;
  EXPECT_TRUE(validate_genesis(g));
}

// A RunReady of member i for run-1, ready with `schema` (32 raw bytes or "").
pb::Transaction run_ready(SchemaChain& c, std::size_t i, const std::string& schema,
                          bool ok = true) {
  pb::RunReady r;
  r.set_run_id("run-1");
  r.set_ready(ok);
  r.set_schema_sha256(schema);
  r.set_train_rows(10);
  if (!ok) r.set_reason(static_cast<std::uint32_t>(ReadinessFailure::data_unusable));
  return c.tx(i, pb::TX_RUN_READY, r);
}

// The schema "s1" derives, hashed here from the derivation's bytes.
std::string derived_hash(const SchemaChain& c) {
  auto json = derive_consortium_schema(c.training().schemas.at("s1"));
  EXPECT_TRUE(json.ok());
  return hash_bytes(sha256(*json));
}

// A three-partner federated plan on schema "s1" with a readiness phase; two
// partners' summaries posted and the run started (preparing).
void prepare_on_schema(SchemaChain& c) {
  c.commit(c.post(1, summary("s1")));
  c.commit(c.post(2, summary("s1", 7)));
  TrainingPlan plan = test_plan(3);
  plan.schema_id = "s1";
  plan.readiness_deadline_blocks = 6;
  plan.mode = TrainingMode::federated;
  plan.min_partners = 2;
  plan.secagg_threshold = 2;
  c.commit(c.start(0, plan));
  EXPECT_EQ(c.run().status, RunStatus::preparing);
}

TEST(ProtocolSchema, AReadyAnswerMustNameTheDerivedSchema) {
  SchemaChain c;
  prepare_on_schema(c);
  const std::string good = derived_hash(c);
  // Another hash, or none, is refused: the partner has not answered.
  EXPECT_EQ(c.refusal(run_ready(c, 1, hash_bytes(fake_hash(9)))),
            ProtocolRejected::wrong_schema_hash);
  EXPECT_EQ(c.refusal(run_ready(c, 1, "")), ProtocolRejected::wrong_schema_hash);
  EXPECT_FALSE(c.run().readiness.contains("bob"));
  // The derived schema's hash counts; a refusal names no schema and counts.
  c.commit(run_ready(c, 1, good));
  c.commit(run_ready(c, 2, "", false));
  EXPECT_TRUE(c.run().readiness.at("bob").ready);
  EXPECT_FALSE(c.run().readiness.at("carol").ready);
  c.commit(run_ready(c, 0, good));
  EXPECT_EQ(c.run().status, RunStatus::active);
}

TEST(ProtocolSchema, APartnerThatAnnouncesAnotherSchemaNeitherCountsNorStopsTheRun) {
  // The attacker (carol) answers first with another schema's hash: without
  // the ledger's check its answer would count as ready and every honest
  // answer after it would end the run as a schema mismatch, naming the
  // honest partner. With it, carol's answer is refused and the run begins
  // with the two honest partners at the deadline (min_partners 2).
  SchemaChain c;
  prepare_on_schema(c);
  const std::uint64_t since = c.run().ready_since;
  const std::string forged = hash_bytes(sha256(std::string("{\"columns\":[]}")));
  EXPECT_EQ(c.refusal(run_ready(c, 2, forged)), ProtocolRejected::wrong_schema_hash);
  c.commit(run_ready(c, 0, derived_hash(c)));
  c.commit(run_ready(c, 1, derived_hash(c)));
  EXPECT_EQ(c.run().status, RunStatus::preparing);
  EXPECT_FALSE(c.run().stop.has_value());
  EXPECT_EQ(c.refusal(run_ready(c, 2, forged)), ProtocolRejected::wrong_schema_hash);
  while (c.chain.state.height < since + 6) c.empty_blocks(1);
  EXPECT_EQ(c.run().status, RunStatus::active);
  EXPECT_FALSE(c.run().readiness.contains("carol"));
}

TEST(ProtocolSchema, WithoutASchemaIdAnyHashIsThePartnersClaim) {
  // A plan without schema_id keeps §22.2's rule 3 (ready answers must agree
  // with each other) and no derivation is asked for.
  SchemaChain c;
  TrainingPlan plan = test_plan(3);
  plan.readiness_deadline_blocks = 6;
  c.commit(c.start(0, plan));
  EXPECT_EQ(c.refusal(run_ready(c, 0, hash_bytes(fake_hash(9)))), std::nullopt);
}

TEST(ProtocolSchema, TheStateWithSummariesDecodesBackExactly) {
  SchemaChain c;
  c.commit(c.post(1, summary("s1")));
  c.commit(c.post(2, summary("s1", 3)));
  const Bytes bytes = training_encoding(c.training());
  auto back = decode_training_state(ByteView(bytes), c.chain.spec.genesis);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, c.training());
  // Truncated: refused, never read past the end.
  EXPECT_FALSE(
      decode_training_state(ByteView(bytes.data(), bytes.size() - 3), c.chain.spec.genesis));
}

}  // namespace
}  // namespace baton::chain::testing

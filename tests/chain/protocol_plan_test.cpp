// The training plan's JSON form (genesis "training_plan", `baton run start
// --plan`) and a run started by the genesis itself.
#include <gtest/gtest.h>

#include <fstream>

#include "protocol_fixture.h"
#include "tests/support/test_support.h"

namespace baton::chain::testing {
namespace {

using nlohmann::json;

json good_plan_json() {
  return json::parse(R"({
    "run_id": "lung1-a",
    "model": {"kind": "mlp", "hidden": [16, 8]},
    "dataset": {"feature_columns": ["age", "volume"], "label_column": "survival", "positive_value": "1"},
    "partners": ["alice", "bob", "carol", "dave"],
    "cycles": 2,
    "training": {"epochs": 3, "batch_size": 16, "optimizer": "adam", "learning_rate": 0.001, "weight_decay": 0.0001, "seed": 42},
    "vote_policy": {"kind": "tolerance", "epsilon": 0.01},
    "quorum": {"num": 1, "den": 2},
    "deadlines": {"load_blocks": 5, "save_blocks": 50, "vote_blocks": 5}
  })");
}

TEST(TrainingPlanJson, ParsesEveryFieldIntoIntegers) {
  const Genesis g = fixed_genesis();
  auto plan = plan_from_json(g, good_plan_json());
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_TRUE(plan->has_value());
  const TrainingPlan& p = **plan;
  EXPECT_EQ(p.run_id, "lung1-a");
  EXPECT_EQ(p.model_spec, R"({"hidden":[16,8],"kind":"mlp"})");
  EXPECT_EQ(p.model_spec_hash, sha256(p.model_spec));
  EXPECT_EQ(p.cycles, 2u);
  EXPECT_EQ(p.total_turns(), 8u);
  EXPECT_EQ(p.learning_rate_nano, 1'000'000u);
  EXPECT_EQ(p.weight_decay_nano, 100'000u);
  EXPECT_EQ(p.vote_policy, VotePolicyKind::tolerance);
  EXPECT_EQ(p.vote_param_ppm, 10'000u);
  EXPECT_EQ(p.save_deadline_blocks, 50u);
  // JSON -> plan -> JSON -> plan is the identity; so is the proto round trip.
  auto again = plan_from_json(g, plan_to_json(p));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(**again, p);
  auto from_proto = plan_from_proto(g, plan_to_proto(p));
  ASSERT_TRUE(from_proto.ok()) << from_proto.error().message;
  EXPECT_EQ(*from_proto, p);
}

TEST(TrainingPlanJson, AnEmptyObjectIsNoPlan) {
  auto plan = plan_from_json(fixed_genesis(), json::object());
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->has_value());
}

TEST(TrainingPlanJson, ErrorsNameTheField) {
  const Genesis g = fixed_genesis();
  auto expect_error = [&](json j, const std::string& needle) {
    auto plan = plan_from_json(g, j);
    ASSERT_FALSE(plan.ok()) << needle;
    EXPECT_NE(plan.error().message.find(needle), std::string::npos) << plan.error().message;
  };
  json j = good_plan_json();
  j["colour"] = "blue";
  expect_error(j, "unknown field \"colour\"");
  j = good_plan_json();
  j["partners"].push_back("mallory");
  expect_error(j, "\"mallory\" is not a genesis member");
  j = good_plan_json();
  j["partners"].push_back("alice");
  expect_error(j, "listed twice");
  j = good_plan_json();
  j["quorum"]["num"] = 2;
  j["quorum"]["den"] = 2;
  expect_error(j, "quorum");
  j = good_plan_json();
  j["vote_policy"] = {{"kind", "vibes"}};
  expect_error(j, "vote_policy.kind");
  // Each kind takes its own parameter only (chain/vote_policy.h).
  j["vote_policy"] = {{"kind", "tolerance"}, {"epsilon", 0.01}, {"alpha", 0.05}};
  expect_error(j, "vote_policy \"tolerance\" takes \"epsilon\", not \"alpha\"");
  j["vote_policy"] = {{"kind", "strict"}, {"epsilon", 0.01}};
  expect_error(j, "vote_policy \"strict\" takes no parameter, not \"epsilon\"");
  j["vote_policy"] = {{"kind", "tolerance"}};
  expect_error(j, "vote_policy needs the field \"epsilon\"");
  j = good_plan_json();
  j["cycles"] = 0;
  expect_error(j, "cycles");
  j = good_plan_json();
  j["training"]["learning_rate"] = -1;
  expect_error(j, "training.learning_rate");
  j = good_plan_json();
  j["deadlines"]["vote_blocks"] = 0;
  expect_error(j, "deadline");
  j = good_plan_json();
  j.erase("model");
  expect_error(j, "\"model\"");
}

TEST(TrainingPlanJson, RefusesAPartnerNobodyElseCouldVoteOn) {
  const Genesis g = fixed_genesis({1, 0});  // only alice has power: nobody could vote on her models
  json j = good_plan_json();
  j["partners"] = {"alice", "bob"};
  auto plan = plan_from_json(g, j);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message.find("no other member than \"alice\""), std::string::npos)
      << plan.error().message;
}

// The genesis file with `plan` as its "training_plan".
std::string genesis_text_with(const json& plan) {
  json g = json::parse(encode_genesis(fixed_genesis()));
  g["training_plan"] = plan;
  return g.dump(2);
}

TEST(GenesisPlan, AGenesisWithABadPlanIsRefused) {
  json bad = good_plan_json();
  bad["partners"] = {"nobody"};
  auto refused = parse_genesis(genesis_text_with(bad));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("genesis: training plan: partners[0] \"nobody\""),
            std::string::npos)
      << refused.error().message;
  bad = good_plan_json();
  bad["cycles"] = "two";  // refused as it is decoded, with the field named
  refused = parse_genesis(genesis_text_with(bad));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("cycles must be a non-negative integer"),
            std::string::npos)
      << refused.error().message;
  // A Genesis built in code is held to the same rules.
  Genesis g = fixed_genesis();
  g.training_plan = decode_plan_json(good_plan_json()).value();
  EXPECT_TRUE(validate_genesis(g).ok());
  g.training_plan->partners = {"nobody"};
  EXPECT_FALSE(validate_genesis(g).ok());
}

TEST(GenesisPlan, IsDecodedOnceIntoTheChainSpecAndEncodesBack) {
  auto spec = load_chain_spec(genesis_text_with(good_plan_json()));
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  ASSERT_TRUE(spec->genesis_plan().has_value());
  const auto expected = plan_from_json(spec->genesis, good_plan_json()).value();
  EXPECT_EQ(*spec->genesis_plan(), *expected);
  // encode_genesis writes the typed plan as JSON that decodes to the same plan.
  auto again = parse_genesis(encode_genesis(spec->genesis));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->training_plan, spec->genesis_plan());
  auto none = load_chain_spec(genesis_text_with(json::object()));
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_FALSE(none->genesis_plan().has_value());
}

// The state machine starts the genesis run from the typed plan in the
// ChainSpec: no JSON is read at block 1 (the spec here never had any).
TEST(GenesisPlan, BlockOneStartsTheRunFromTheTypedPlan) {
  ChainSpec spec = load_chain_spec(encode_genesis(fixed_genesis())).value();
  TrainingPlan plan = test_plan(4);
  plan.run_id = "typed-only";
  spec.genesis.training_plan = plan;
  LedgerState state = initial_state(spec.genesis_hash);
  begin_block(spec, state, 2);
  EXPECT_TRUE(state.training.empty()) << "only block 1 starts the genesis run";
  begin_block(spec, state, 1);
  const baton::chain::Run* run = state.training.find_run("typed-only");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->plan, plan);
  EXPECT_EQ(run->started_by, "genesis");
}

TEST(GenesisPlan, StartsItsRunAtBlockOne) {
  const std::string text = genesis_text_with(good_plan_json());
  auto spec = load_chain_spec(text);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  LedgerState state = initial_state(spec->genesis_hash);
  EXPECT_TRUE(state.training.empty());
  // Block 1 carries alice's LoadRequest for turn 0: the run already exists.
  pb::LoadRequest r;
  r.set_run_id("lung1-a");
  const auto tx = make_transaction(spec->network(), fixed_member("alice", 0).signing, 1,
                                   pb::TX_LOAD_REQUEST, r.SerializeAsString());
  auto p = propose_block(*spec, state, 1795996800000, fixed_member("alice", 0).signing.public_key(),
                         {encode_transaction(tx)});
  ASSERT_TRUE(p.ok()) << p.reason().message();
  const baton::chain::Run* run = p->after.training.find_run("lung1-a");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->started_by, "genesis");
  EXPECT_EQ(run->turns[0].phase, TurnPhase::load_voting);
  EXPECT_EQ(run->turns[0].deadline_height, 1u + 5u);
}

// The ```json block of docs/PROTOCOL.md §18.1.1.
std::string documented_plan() { return baton::testing::protocol_json_block("#### 18.1.1"); }

TEST(ProtocolPlanDoc, TheExamplePlanConvertsToTheDocumentedIntegers) {
  const std::string text = documented_plan();
  ASSERT_FALSE(text.empty());
  const json j = json::parse(text);
  // The members it names: three partners and a sponsor (power 0).
  Genesis g = fixed_genesis();
  const char* names[] = {"hospital-a", "hospital-b", "hospital-c", "hospital-d"};
  for (std::size_t i = 0; i < 4; ++i) g.members[i].name = names[i];
  GenesisMember sponsor = g.members[3];
  sponsor.name = "sponsor";
  sponsor.ed25519 = fixed_member("sponsor", 9).signing.public_key();
  sponsor.x25519 = fixed_member("sponsor", 9).x25519.public_key();
  sponsor.p2p_address = "127.0.0.1:26699";
  sponsor.power = 0;
  sponsor.roles = {std::string(kRoleSponsor)};
  g.members.push_back(sponsor);

  auto plan = plan_from_json(g, j);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_TRUE(plan->has_value());
  const TrainingPlan& p = **plan;
  // The table's last column.
  EXPECT_EQ(p.run_id, "demo");
  EXPECT_EQ(p.model_spec,
            R"({"architecture":"mlp","hidden":[64,32],"input_shape":[30],"num_classes":2})");
  EXPECT_EQ(p.model_spec_hash, sha256(p.model_spec));
  EXPECT_EQ(p.feature_columns.size(), 2u);
  EXPECT_EQ(p.label_column, "malignant");
  EXPECT_EQ(p.positive_value, "1");
  EXPECT_EQ(p.partners.size(), 3u);
  EXPECT_EQ(p.cycles, 2u);
  EXPECT_EQ(p.total_turns(), 6u);
  EXPECT_EQ(p.epochs, 2u);
  EXPECT_EQ(p.batch_size, 32u);
  EXPECT_EQ(p.optimizer, "adam");
  EXPECT_EQ(p.learning_rate_nano, 1'500'000u);
  EXPECT_EQ(p.weight_decay_nano, 3u);  // 2.5 nano rounds half away from zero
  EXPECT_EQ(p.seed, 7u);
  EXPECT_EQ(p.vote_policy, VotePolicyKind::delong);
  EXPECT_EQ(static_cast<int>(p.vote_policy), 3);
  EXPECT_EQ(p.vote_param_ppm, 50'000u);
  EXPECT_EQ(p.quorum_num, 1u);
  EXPECT_EQ(p.quorum_den, 2u);
  EXPECT_EQ(p.load_deadline_blocks, 40u);
  EXPECT_EQ(p.save_deadline_blocks, 120u);
  EXPECT_EQ(p.vote_deadline_blocks, 40u);
  EXPECT_EQ(p.token_mode, TokenMode::delta_auc);
  EXPECT_EQ(p.turn_order, TurnOrder::rotating);
  EXPECT_EQ(p.suspend_after, 1u);
  EXPECT_EQ(p.sponsor, "sponsor");
  EXPECT_EQ(p.min_escrow, 1000u);
  EXPECT_EQ(p.funding_deadline_blocks, 200u);
  EXPECT_EQ(p.release_deadline_blocks, 400u);
  EXPECT_EQ(p.submission_cost, 5u);
  EXPECT_EQ(p.deposit, 20u);
  EXPECT_EQ(p.deposit_factor, 2u);
  EXPECT_EQ(p.min_balance, 25u);
  EXPECT_EQ(p.privacy.mechanism, PrivacyMechanism::dp_sgd);
  EXPECT_EQ(p.privacy.budget_micro, 2'000'000u);
  EXPECT_EQ(p.privacy.delta_pico, 10'000'000u);
  EXPECT_EQ(p.privacy.clip_micro, 1'000'000u);
  EXPECT_EQ(p.privacy.noise_multiplier_micro, 2'000'000u);
  EXPECT_EQ(p.privacy.sampling_rate_nano, 100'000'000u);
  // The proto fields the table names (numbers as stored).
  const pb::TrainingPlan proto = plan_to_proto(p);
  EXPECT_EQ(proto.vote_policy(), 3u);
  EXPECT_EQ(proto.token_mode(), 0u);
  EXPECT_EQ(proto.turn_order(), 1u);

  // Every default of the table: only the required fields given.
  json minimal = {
      {"run_id", "demo"},
      {"model", j["model"]},
      {"dataset",
       {{"feature_columns", j["dataset"]["feature_columns"]}, {"label_column", "malignant"}}},
      {"partners", j["partners"]},
      {"cycles", 2u}};
  auto d = decode_plan_json(minimal);
  ASSERT_TRUE(d.ok()) << d.error().message;
  const TrainingPlan& q = **d;
  EXPECT_EQ(q.positive_value, "1");
  EXPECT_EQ(q.epochs, 1u);
  EXPECT_EQ(q.batch_size, 32u);
  EXPECT_EQ(q.optimizer, "adam");
  EXPECT_EQ(q.learning_rate_nano, 1'000'000u);
  EXPECT_EQ(q.weight_decay_nano, 0u);
  EXPECT_EQ(q.seed, 0u);
  EXPECT_EQ(q.vote_policy, VotePolicyKind::strict);
  EXPECT_EQ(q.vote_param_ppm, 0u);
  EXPECT_EQ(q.quorum_num, 1u);
  EXPECT_EQ(q.quorum_den, 2u);
  EXPECT_EQ(q.load_deadline_blocks, 20u);
  EXPECT_EQ(q.save_deadline_blocks, 200u);
  EXPECT_EQ(q.vote_deadline_blocks, 20u);
  EXPECT_EQ(q.token_mode, TokenMode::delta_auc);
  EXPECT_EQ(q.turn_order, TurnOrder::fixed);
  EXPECT_EQ(q.suspend_after, 0u);
  EXPECT_TRUE(q.sponsor.empty());
  EXPECT_EQ(q.deposit_factor, 0u);
  EXPECT_FALSE(q.privacy.enabled());
  for (const char* required : {"run_id", "model", "partners", "cycles"}) {
    json missing = minimal;
    missing.erase(required);
    EXPECT_FALSE(decode_plan_json(missing).ok()) << required;
  }
  json no_label = minimal;
  no_label["dataset"].erase("label_column");
  EXPECT_FALSE(decode_plan_json(no_label).ok());
  // delong's alpha defaults to 0.05; tolerance needs its epsilon.
  json delong = minimal;
  delong["vote_policy"] = {{"kind", "delong"}};
  EXPECT_EQ((*decode_plan_json(delong))->vote_param_ppm, 50'000u);
  json tolerance = minimal;
  tolerance["vote_policy"] = {{"kind", "tolerance"}};
  EXPECT_FALSE(decode_plan_json(tolerance).ok());
  // Integer fields take integers only.
  json float_cycles = minimal;
  float_cycles["cycles"] = 2.0;
  EXPECT_FALSE(decode_plan_json(float_cycles).ok());
}

TEST(ProtocolPlanDoc, TheGenesisRunStartsAtHeightZero) {
  ChainSpec spec = load_chain_spec(encode_genesis(fixed_genesis())).value();
  TrainingPlan plan = test_plan(4);
  spec.genesis.training_plan = plan;
  LedgerState state = initial_state(spec.genesis_hash);
  EXPECT_TRUE(state.training.empty());
  begin_block(spec, state, 1);
  const baton::chain::Run* run = state.training.find_run(plan.run_id);
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->start_height, 0u);
  ASSERT_NE(run->current_turn(), nullptr);
  EXPECT_EQ(run->current_turn()->deadline_height, 0u + plan.load_deadline_blocks);
}

}  // namespace
}  // namespace baton::chain::testing

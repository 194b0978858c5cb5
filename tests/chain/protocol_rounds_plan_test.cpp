// The federated plan (issue 15, docs/PROTOCOL.md §21.1): its JSON form with
// defaults, its fields 80..82, its validation; and the bytes of a federated
// state (§21.3): every round field moves the state hash, the decoder reads
// them back, and a chained plan keeps its bytes.
#include <gtest/gtest.h>

#include "chain/ledger_state.h"
#include "chain/training_decode.h"
#include "round_fixture.h"

namespace baton::chain::testing {
namespace {

using nlohmann::json;

json federated_json() {
  return json::parse(R"({
    "run_id": "fed-1",
    "model": {"kind": "mlp", "hidden": [8]},
    "dataset": {"feature_columns": ["age"], "label_column": "survival"},
    "partners": ["alice", "bob", "carol", "dave"],
    "mode": "federated",
    "federated": {"rounds": 5, "local_epochs": 2},
    "deadlines": {"load_blocks": 5, "save_blocks": 50, "vote_blocks": 5}
  })");
}

TEST(FederatedPlan, JsonDefaultsToAMajorityThresholdAndRoundTrips) {
  const Genesis g = fixed_genesis();
  auto plan = plan_from_json(g, federated_json());
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  const TrainingPlan& p = **plan;
  EXPECT_TRUE(p.federated());
  EXPECT_EQ(p.cycles, 5u);
  EXPECT_EQ(p.epochs, 2u);
  EXPECT_EQ(p.total_turns(), 5u);     // one turn per round
  EXPECT_EQ(p.secagg_threshold, 3u);  // floor(4 / 2) + 1
  EXPECT_EQ(p.min_partners, 3u);      // = the threshold
  EXPECT_EQ(to_string(p.mode), "federated");
  const json back = plan_to_json(p);
  EXPECT_EQ(back["mode"], "federated");
  EXPECT_EQ(back["federated"]["rounds"], 5);
  EXPECT_FALSE(back.contains("cycles"));
  auto again = plan_from_json(g, back);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(**again, p);
  const pb::TrainingPlan proto = plan_to_proto(p);
  EXPECT_EQ(proto.mode(), 1u);
  EXPECT_EQ(proto.min_partners(), 3u);
  EXPECT_EQ(proto.secagg_threshold(), 3u);
  auto from_proto = plan_from_proto(g, proto);
  ASSERT_TRUE(from_proto.ok()) << from_proto.error().message;
  EXPECT_EQ(*from_proto, p);

  json explicit_numbers = federated_json();
  explicit_numbers["federated"]["threshold"] = 2u;
  explicit_numbers["federated"]["min_partners"] = 4u;
  auto q = plan_from_json(g, explicit_numbers);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ((*q)->secagg_threshold, 2u);
  EXPECT_EQ((*q)->min_partners, 4u);
}

TEST(FederatedPlan, AChainedPlanKeepsItsBytes) {
  const TrainingPlan chained = test_plan(4);
  const pb::TrainingPlan proto = plan_to_proto(chained);
  pb::TrainingPlan without = proto;
  without.clear_mode();
  without.clear_min_partners();
  without.clear_secagg_threshold();
  EXPECT_EQ(proto.SerializeAsString(), without.SerializeAsString());
  const json j = plan_to_json(chained);
  EXPECT_FALSE(j.contains("mode"));
  EXPECT_FALSE(j.contains("federated"));
  EXPECT_EQ(to_string(TrainingMode::chained), "chained");
}

TEST(FederatedPlan, InvalidPlansAreRefusedWithASentence) {
  const Genesis g = fixed_genesis();
  auto error_of = [&](const TrainingPlan& p) {
    auto s = validate_plan(g, p);
    return s ? std::string() : s.error().message;
  };
  EXPECT_EQ(error_of(federated_plan(4, 2, 2, 2)), "");
  EXPECT_EQ(error_of(federated_plan(4, 2, 4, 4)), "");
  EXPECT_NE(error_of(federated_plan(4, 2, 1, 2)).find("federated.threshold is 1"),
            std::string::npos);
  EXPECT_NE(error_of(federated_plan(4, 2, 5, 2)).find("federated.threshold is 5"),
            std::string::npos);
  EXPECT_NE(error_of(federated_plan(4, 2, 2, 1)).find("federated.min_partners is 1"),
            std::string::npos);
  EXPECT_NE(error_of(federated_plan(4, 2, 2, 5)).find("federated.min_partners is 5"),
            std::string::npos);
  EXPECT_NE(error_of(federated_plan(1, 2, 2, 2)).find("between 2 and 64 partners"),
            std::string::npos);
  TrainingPlan dp = federated_plan();
  dp.privacy.mechanism = PrivacyMechanism::local;
  EXPECT_NE(error_of(dp).find("not supported with mode federated yet"), std::string::npos);
  TrainingPlan stakes = federated_plan();
  stakes.deposit = 10;
  stakes.deposit_factor = 1;
  EXPECT_NE(error_of(stakes).find("not supported with mode federated yet"), std::string::npos);
  TrainingPlan suspend = federated_plan();
  suspend.suspend_after = 1;
  EXPECT_NE(error_of(suspend).find("suspend_after"), std::string::npos);
  TrainingPlan no_rounds = federated_plan(4, 0);
  EXPECT_NE(error_of(no_rounds).find("federated.rounds is 0"), std::string::npos);
  TrainingPlan too_many = federated_plan(4, kMaxPlanTurns + 1);
  EXPECT_NE(error_of(too_many).find("federated.rounds is 10001"), std::string::npos);
  EXPECT_EQ(error_of(federated_plan(4, kMaxPlanTurns)), "");  // 4 x 10000 would be too many turns
  TrainingPlan no_epochs = federated_plan();
  no_epochs.epochs = 0;
  EXPECT_NE(error_of(no_epochs).find("federated.local_epochs is 0"), std::string::npos);
  TrainingPlan stray = test_plan(4);
  stray.secagg_threshold = 2;
  EXPECT_NE(error_of(stray).find("need mode federated"), std::string::npos);
  // Proto: an unknown mode is refused, never truncated.
  pb::TrainingPlan proto = plan_to_proto(federated_plan());
  proto.set_mode(257);
  EXPECT_FALSE(plan_from_proto(g, proto).ok());
}

TEST(FederatedPlan, JsonErrorsNameTheField) {
  const Genesis g = fixed_genesis();
  auto error_of = [&](json j) {
    auto p = plan_from_json(g, j);
    return p ? std::string() : p.error().message;
  };
  json j = federated_json();
  j["cycles"] = 2;
  EXPECT_NE(error_of(j).find("federated.rounds"), std::string::npos);
  j = federated_json();
  j["training"] = {{"epochs", 3}};
  EXPECT_NE(error_of(j).find("federated.local_epochs"), std::string::npos);
  j = federated_json();
  j.erase("federated");
  EXPECT_NE(error_of(j).find("needs the object \"federated\""), std::string::npos);
  j = federated_json();
  j["mode"] = "parallel";
  EXPECT_NE(error_of(j).find("mode \"parallel\" is unknown"), std::string::npos);
  j = federated_json();
  j["federated"]["quorum"] = 1;
  EXPECT_NE(error_of(j).find("unknown field \"quorum\" in federated"), std::string::npos);
  j = federated_json();
  j.erase("mode");
  j["cycles"] = 2;
  EXPECT_NE(error_of(j).find("needs \"mode\": \"federated\""), std::string::npos);
  j = federated_json();
  j["federated"].erase("rounds");
  EXPECT_NE(error_of(j).find("federated needs the field \"rounds\""), std::string::npos);
}

// A chained run with an approved turn, an abandoned one, a refusal, an
// expiry and settled gains keeps the state hash it had before issue 15 (this
// hash was computed by the code of fc916e1, before the federated rounds).
TEST(FederatedState, AChainedRunKeepsItsStateHash) {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4, 2)));
  p.grant_load(0, {1, 2});
  const Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  p.commit(p.model_vote(1, save, true, 750000, 700000));
  p.commit(p.model_vote(2, save, true, 740000, 700000));
  p.commit(p.model_vote(3, save, true, 770000, 700000));
  pb::TurnAbandon a;
  a.set_run_id("run-1");
  a.set_turn(1);
  a.set_head_model_id(hash_bytes(save));
  a.set_reason(3);
  a.set_detail("does not load");
  p.commit(p.tx(1, pb::TX_TURN_ABANDON, a));
  p.commit_refused(p.load_request(3, 2, save));
  p.empty_blocks(6);
  p.grant_load(3, {0, 1});
  p.empty_blocks(8);
  ASSERT_EQ(p.chain.state.height, 27u);
  EXPECT_EQ(state_hash(p.chain.spec.genesis.chain_id, p.chain.state).hex(),
            "33ab6a936592898ffa811e2f1fa8fdb6dee6a66f1852023ef16e34d54fc78d3a");
}

// ---- The state bytes (§21.3) ----

// Plays round 0 to its vote with a dropout, so that every round field is set.
RoundChain busy_federated_chain() {
  RoundChain p;
  p.commit(p.start(0, federated_plan(4, 3)));
  p.play_to_aggregating(0, {0, 1, 2, 3}, {0, 1, 2});
  EXPECT_EQ(p.turn().phase, TurnPhase::round_aggregating);
  pb::TurnAbandon a;
  a.set_run_id("run-1");
  a.set_reason(static_cast<std::uint32_t>(LoadFailure::upload_unusable));
  a.set_detail("dave's upload is missing");
  p.commit(p.tx(2, pb::TX_TURN_ABANDON, a));
  const Hash save = p.commit(p.aggregate(0, 0));
  p.commit(p.model_vote(1, save, true, 750000, 700000));
  p.commit(p.model_vote(2, save, true, 750000, 700000));
  p.commit(p.model_vote(3, save, true, 750000, 700000));
  EXPECT_EQ(p.turn().phase, TurnPhase::round_sharing);
  p.commit(p.round_share(1, 1));
  return p;
}

TEST(FederatedState, DecodesToItselfAndEveryRoundFieldMovesTheHash) {
  RoundChain p = busy_federated_chain();
  const TrainingState& ts = p.training();
  const Bytes bytes = training_encoding(ts);
  auto decoded = decode_training_state(bytes, p.chain.spec.genesis);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, ts);
  ASSERT_EQ(ts.find_run("run-1")->models.size(), 1u);
  EXPECT_EQ(ts.find_run("run-1")->models[0].contributors.size(), 3u);

  const Hash base = state_hash(p.chain.spec.genesis.chain_id, p.chain.state);
  auto moved = [&](auto edit) {
    LedgerState s = p.chain.state;
    chain::Run& run = s.training.runs.at("run-1");
    edit(run);
    return state_hash(p.chain.spec.genesis.chain_id, s) != base;
  };
  auto r0 = [](chain::Run& run) -> RoundRecord& { return *run.turns[0].round; };
  EXPECT_TRUE(
      moved([&](chain::Run& run) { r0(run).shares.at("bob").ephemeral_public.bytes[0] ^= 1; }));
  EXPECT_TRUE(
      moved([&](chain::Run& run) { r0(run).shares.at("bob").self_seed_commitment.bytes[1] ^= 1; }));
  EXPECT_TRUE(moved([&](chain::Run& run) { r0(run).shares.at("bob").share_boxes[3][0] ^= 1; }));
  EXPECT_TRUE(moved(
      [&](chain::Run& run) { r0(run).shares.at("bob").self_share_commitments[0].bytes[0] ^= 1; }));
  EXPECT_TRUE(moved(
      [&](chain::Run& run) { r0(run).shares.at("bob").key_share_commitments[3].bytes[9] ^= 1; }));
  EXPECT_TRUE(moved([&](chain::Run& run) { r0(run).shares.at("bob").height += 1; }));
  EXPECT_TRUE(moved([&](chain::Run& run) { r0(run).uploads.at("carol").weight += 1; }));
  EXPECT_TRUE(moved([&](chain::Run& run) { r0(run).uploads.at("carol").object_key += "x"; }));
  EXPECT_TRUE(
      moved([&](chain::Run& run) { r0(run).uploads.at("carol").masked_sha256.bytes[0] ^= 1; }));
  EXPECT_TRUE(
      moved([&](chain::Run& run) { r0(run).uploads.at("carol").head_model_id = fake_hash(1); }));
  EXPECT_TRUE(moved([&](chain::Run& run) { r0(run).uploads.at("carol").height += 1; }));
  EXPECT_TRUE(moved([&](chain::Run& run) { r0(run).unmasks.begin()->second.shares[0][0] ^= 1; }));
  EXPECT_TRUE(moved([&](chain::Run& run) { r0(run).unmasks.begin()->second.height += 1; }));
  EXPECT_TRUE(moved([&](chain::Run& run) { r0(run).self_seeds.at("alice").bytes[0] ^= 1; }));
  EXPECT_TRUE(moved([&](chain::Run& run) { r0(run).ephemeral_secrets.at("dave").bytes[0] ^= 1; }));
  EXPECT_TRUE(moved([&](chain::Run& run) { r0(run).failed_dealer = "bob"; }));
  EXPECT_TRUE(moved([&](chain::Run& run) { r0(run).complaints.at("carol").detail += "!"; }));
  EXPECT_TRUE(moved(
      [&](chain::Run& run) { r0(run).complaints.at("carol").reason = LoadFailure::head_missing; }));
  EXPECT_TRUE(moved([&](chain::Run& run) { run.models[0].contributors.pop_back(); }));
  EXPECT_TRUE(moved([&](chain::Run& run) { run.turns[1].round->shares.clear(); }));
  EXPECT_TRUE(moved([&](chain::Run& run) { run.plan.secagg_threshold = 2; }));
  EXPECT_TRUE(moved([&](chain::Run& run) { run.plan.min_partners = 4; }));
}

TEST(FederatedState, TheDecoderRefusesAListByRankOfTheWrongLength) {
  RoundChain p = busy_federated_chain();
  TrainingState ts = p.training();
  ts.runs.at("run-1").turns[0].round->unmasks.begin()->second.shares.pop_back();
  auto decoded = decode_training_state(training_encoding(ts), p.chain.spec.genesis);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("wrong length"), std::string::npos);
}

}  // namespace
}  // namespace baton::chain::testing

// run_json of a federated run (issue 15, docs/PROTOCOL.md §21): what `baton
// run status`, `baton report` and GET /training show of a round.
#include <gtest/gtest.h>

#include "api/training_json.h"

namespace baton::api {
namespace {

chain::Hash filled(std::uint8_t b) {
  chain::Hash h;
  h.bytes.fill(b);
  return h;
}

chain::Run federated_run() {
  chain::Run run;
  run.plan.run_id = "fed-1";
  run.plan.model_spec = R"({"kind":"mlp"})";
  run.plan.partners = {"alice", "bob", "carol"};
  run.plan.cycles = 4;
  run.plan.epochs = 2;
  run.plan.mode = chain::TrainingMode::federated;
  run.plan.secagg_threshold = 2;
  run.plan.min_partners = 2;
  chain::Turn t;
  t.phase = chain::TurnPhase::done;
  t.outcome = chain::TurnOutcome::round_failed;
  chain::RoundRecord r;
  for (const char* name : {"alice", "bob", "carol"}) {
    chain::RoundShareRecord s;
    s.ephemeral_public = filled(1);
    s.share_boxes.assign(3, std::string(chain::kShareBoxBytes, 'b'));
    r.shares[name] = s;
  }
  r.uploads["alice"] = {std::nullopt, "fed-1/round-0/alice", filled(2), 120, 7};
  r.uploads["bob"] = {std::nullopt, "fed-1/round-0/bob", filled(3), 80, 8};
  r.unmasks["alice"] = {{std::string(32, 'x'), std::string(32, 'y'), std::string(32, 'z')}, 9};
  r.self_seeds["alice"] = filled(4);
  r.ephemeral_secrets["carol"] = filled(5);
  r.failed_dealer = "bob";
  r.complaints["carol"] = {chain::LoadFailure::upload_unusable, "bob's upload is missing"};
  t.round = r;
  run.turns.push_back(t);
  chain::ModelRecord m;
  m.contributor = "bob";
  m.contributors = {"alice", "bob"};
  run.models.push_back(m);
  return run;
}

TEST(TrainingJson, AFederatedRoundShowsItsSetsSecretsFailureAndComplaints) {
  const nlohmann::json j = run_json(federated_run());
  EXPECT_EQ(j["mode"], "federated");
  EXPECT_EQ(j["plan"]["federated"]["threshold"], 2);
  const nlohmann::json& turn = j["turns"][0];
  EXPECT_EQ(turn["phase"], "done");
  EXPECT_EQ(turn["decision"], "round_failed");
  const nlohmann::json& r = turn["round"];
  EXPECT_EQ(r["shares"].size(), 3u);
  EXPECT_EQ(r["shares"]["bob"]["ephemeral_public"], filled(1).hex());
  EXPECT_FALSE(r["shares"]["bob"].contains("share_boxes"));  // the agent reads them from the state
  EXPECT_EQ(r["uploads"]["alice"]["weight"], 120);
  EXPECT_EQ(r["uploads"]["bob"]["object_key"], "fed-1/round-0/bob");
  EXPECT_EQ(r["total_weight"], 200);
  EXPECT_EQ(r["unmasks"]["alice"]["shares"].size(), 3u);
  EXPECT_EQ(r["self_seeds"]["alice"], filled(4).hex());
  EXPECT_EQ(r["ephemeral_secrets"]["carol"], filled(5).hex());
  EXPECT_EQ(r["failed_dealer"], "bob");
  EXPECT_EQ(r["complaints"]["carol"]["reason"], "upload_unusable");
  EXPECT_EQ(j["models"][0]["contributor"], "bob");
  EXPECT_EQ(j["models"][0]["contributors"], nlohmann::json::array({"alice", "bob"}));
}

TEST(TrainingJson, AChainedRunHasNoRoundNorContributors) {
  chain::Run run = federated_run();
  run.plan.mode = chain::TrainingMode::chained;
  run.turns[0].round.reset();
  run.models[0].contributors.clear();
  const nlohmann::json j = run_json(run);
  EXPECT_EQ(j["mode"], "chained");
  EXPECT_FALSE(j["turns"][0].contains("round"));
  EXPECT_FALSE(j["models"][0].contains("contributors"));
}

}  // namespace
}  // namespace baton::api

// The partner agent against a real in-process ledger (the fixture of
// tests/agent/agent_network.h): four agents, a file:// object store, each
// hospital's slice of data/breast_cancer.csv, real blocks, no sockets, no
// threads.
#include "agent/agent.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "chain/protocol.h"
#include "consensus/vote_policy.h"
#include "storage/file_store.h"
#include "storage/memory_object_store.h"
#include "tests/agent/agent_network.h"
#include "tests/support/test_support.h"

namespace baton::agent {
namespace {

namespace fs = std::filesystem;
using chain::testing::kChainId;
using chain::testing::TestChain;

using namespace agent_test;

TEST(PartnerAgent, RequestsTheLoadOnItsTurnAndApprovesOthers) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  net.start_run(breast_cancer_plan());
  net.commit_and_step();  // every agent sees turn 0 (alice) awaiting her LoadRequest
  ASSERT_EQ(net.sinks_[0]->submitted.size(), 1u);
  EXPECT_EQ(net.sinks_[0]->submitted[0].first, chain::pb::TX_LOAD_REQUEST);
  for (std::size_t i = 1; i < kMembers; ++i) EXPECT_TRUE(net.sinks_[i]->submitted.empty());
  net.commit_and_step();  // the LoadRequest is on the ledger: the others approve
  for (std::size_t i = 1; i < kMembers; ++i) {
    ASSERT_EQ(net.sinks_[i]->submitted.size(), 1u) << i;
    EXPECT_EQ(net.sinks_[i]->submitted[0].first, chain::pb::TX_LOAD_APPROVAL);
  }
  net.commit_and_step();  // approvals committed: alice holds the token, trains, saves
  EXPECT_EQ(net.turn()->phase, chain::TurnPhase::training);
  ASSERT_EQ(net.sinks_[0]->submitted.size(), 2u);
  EXPECT_EQ(net.sinks_[0]->submitted[1].first, chain::pb::TX_SAVE_REQUEST);
}

TEST(PartnerAgent, SendsAgainOnlyAfterBlocksPassSinceTheNewestCommit) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  chain::TrainingPlan plan = breast_cancer_plan();
  plan.load_deadline_blocks = 30;
  net.start_run(plan);
  const std::uint64_t h = net.chain.state.height;
  PartnerAgent& alice = *net.agents_[0];
  // The node is already 6 blocks further when alice's (slow) step on height h
  // sends the LoadRequest; the mempool then loses it.
  alice.on_committed(h + 6, net.chain.state.training);
  alice.step(h, net.chain.state.training);
  ASSERT_EQ(net.sinks_[0]->submitted.size(), 1u);
  net.mempool.clear();
  auto step_to = [&](std::uint64_t height) {
    while (net.chain.state.height < height) net.chain.append({});
    alice.step(net.chain.state.height, net.chain.state.training);
  };
  step_to(h + 10);  // 4 blocks after the newest commit it knew of: wait
  EXPECT_EQ(net.sinks_[0]->submitted.size(), 1u);
  step_to(h + 11);  // 5 blocks: send again
  ASSERT_EQ(net.sinks_[0]->submitted.size(), 2u);
  EXPECT_EQ(net.sinks_[0]->submitted[1].second, net.sinks_[0]->submitted[0].second);
}

TEST(PartnerAgent, DrivesAWholeRunWithVotes) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  net.start_run(breast_cancer_plan());
  ASSERT_TRUE(net.run_until([&] { return net.finished(); }));
  const chain::Run& run = net.run();
  ASSERT_EQ(run.turns.size(), kMembers);
  // The first hand-off improves on the untrained initial model everywhere.
  EXPECT_EQ(run.turns[0].outcome, chain::TurnOutcome::approved);
  for (const auto& t : run.turns) {
    EXPECT_NE(t.outcome, chain::TurnOutcome::expired) << "turn " << t.index;
    ASSERT_TRUE(t.save.has_value()) << "turn " << t.index;
    EXPECT_GE(t.model_votes.size(), 2u) << "turn " << t.index;  // a quorum of the others voted
    for (const auto& [voter, v] : t.model_votes) {
      EXPECT_GT(v.auc_candidate_ppm, 0u);
      EXPECT_GT(v.validation_size, 0u);
    }
    if (t.outcome == chain::TurnOutcome::approved) {
      EXPECT_TRUE(fs::exists(net.blob_path(t.save->object_key)));
    } else {
      EXPECT_FALSE(fs::exists(net.blob_path(t.save->object_key)));  // refused: deleted
    }
  }
  ASSERT_TRUE(run.head.has_value());
  const chain::ModelRecord& head = run.models.back();
  EXPECT_EQ(head.id, *run.head);
  // Copies: the run is over, so every node keeps the final model only (its
  // trainer made it, its voters verified it), and nothing else.
  EXPECT_TRUE(fs::exists(net.copy_path(head.turn, head.object_key)));
  std::size_t copies = 0;
  for (std::size_t i = 0; i < kMembers; ++i) {
    copies += fs::exists(net.copy_path(i, head.object_key)) ? 1 : 0;
    for (const auto& t : run.turns) {
      if (t.save && t.save->object_key != head.object_key) {
        EXPECT_FALSE(fs::exists(net.copy_path(i, t.save->object_key))) << i << " " << t.index;
      }
    }
  }
  EXPECT_GE(copies, 3u);  // the trainer and at least a quorum of voters
  // The final head, measured by a voter, is a useful classifier.
  EXPECT_GT(run.turns[head.turn].model_votes.begin()->second.auc_candidate_ppm, 900'000u);
  // Each node recorded its hand-off steps for the benchmark.
  for (std::size_t i = 0; i < kMembers; ++i) {
    const fs::path timings = net.work_dir(i) / "timings.jsonl";
    EXPECT_EQ(count_lines_with(timings, "\"role\":\"trainer\""), 1u) << i;
    EXPECT_EQ(count_lines_with(timings, "\"role\":\"voter\""), 3u) << i;
    EXPECT_EQ(count_lines_with(timings, "\"phase\":\"turn_done\""), 4u) << i;
  }
}

TEST(PartnerAgent, VotersRefuseATamperedBlobAsHashMismatch) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  net.start_run(breast_cancer_plan());
  ASSERT_TRUE(net.run_until(
      [&] { return net.turn()->phase == chain::TurnPhase::training && !net.mempool.empty(); }));
  // alice's SaveRequest waits in the mempool and her blob is in the store.
  const chain::Turn turn0 = *net.turn();
  net.chain.append(std::move(net.mempool));
  net.mempool.clear();
  ASSERT_EQ(net.turn()->phase, chain::TurnPhase::save_voting);
  const fs::path blob = net.blob_path(net.turn()->save->object_key);
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  for (auto& a : net.agents_) a->step(net.chain.state.height, net.chain.state.training);
  net.commit_and_step();
  const chain::Turn& decided = net.run().turns[0];
  EXPECT_EQ(decided.outcome, chain::TurnOutcome::rejected);
  ASSERT_GE(decided.model_votes.size(), 2u);  // two refusals decide
  for (const auto& [voter, v] : decided.model_votes) {
    EXPECT_FALSE(v.approve) << voter;
    EXPECT_EQ(v.reason.rfind("hash_mismatch: ", 0), 0u) << voter << ": " << v.reason;
  }
  EXPECT_FALSE(net.run().head.has_value());  // the head stays the initial model
  EXPECT_FALSE(fs::exists(blob));            // the refused blob was deleted
  (void)turn0;
}

// Runs turn 0 until alice's SaveRequest is on the ledger (her blob in the
// store) and the voters have not stepped on it yet.
void run_to_save_voting(Network& net) {
  net.start_run(breast_cancer_plan());
  ASSERT_TRUE(net.run_until(
      [&] { return net.turn()->phase == chain::TurnPhase::training && !net.mempool.empty(); }));
  net.chain.append(std::move(net.mempool));
  net.mempool.clear();
  ASSERT_EQ(net.turn()->phase, chain::TurnPhase::save_voting);
}

// The partner holds the data key and the store's write access: it can put
// any object under its candidate's key. One of another size than the plan's
// model seals to is refused on HEAD, never downloaded, and the refusal is a
// journaled vote: stepping again does not touch the store.
TEST(PartnerAgent, VotersRefuseACandidateOfAnotherSizeWithoutDownloadingIt) {
  for (const bool oversized : {true, false}) {
    SCOPED_TRACE(oversized ? "oversized" : "undersized");
    testing::TempDir dir("agent-test");
    Network net(dir);
    run_to_save_voting(net);
    const fs::path blob = net.blob_path(net.turn()->save->object_key);
    if (oversized) {
      std::ofstream(blob, std::ios::app | std::ios::binary) << std::string(16 << 20, '\0');
    } else {
      fs::resize_file(blob, 97);
    }
    std::vector<int> downloads, heads;
    for (auto* s : net.stores_) {
      downloads.push_back(s->downloads);
      heads.push_back(s->heads);
    }
    for (int again = 0; again < 2; ++again)
      for (auto& a : net.agents_) a->step(net.chain.state.height, net.chain.state.training);
    for (std::size_t i = 1; i < kMembers; ++i) {
      EXPECT_EQ(net.stores_[i]->downloads, downloads[i]) << i;  // nothing fetched
      EXPECT_EQ(net.stores_[i]->heads, heads[i] + 1) << i;      // asked once, then journaled
    }
    net.commit_and_step();
    const chain::Turn& decided = net.run().turns[0];
    EXPECT_EQ(decided.outcome, chain::TurnOutcome::rejected);
    ASSERT_GE(decided.model_votes.size(), 2u);
    for (const auto& [voter, v] : decided.model_votes) {
      EXPECT_FALSE(v.approve) << voter;
      EXPECT_EQ(v.reason.rfind("wrong_size: ", 0), 0u) << voter << ": " << v.reason;
    }
    EXPECT_FALSE(net.run().head.has_value());
  }
}

TEST(PartnerAgent, VotersRejectACandidateWhoseScoringExceedsTheBudget) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  net.evaluation_budget = EvaluationBudget{0, 0, 1, 1};  // no time at all
  for (std::size_t i = 1; i < kMembers; ++i) net.open_agent(i);
  run_to_save_voting(net);
  for (auto& a : net.agents_) a->step(net.chain.state.height, net.chain.state.training);
  net.commit_and_step();
  const chain::Turn& decided = net.run().turns[0];
  EXPECT_EQ(decided.outcome, chain::TurnOutcome::rejected);
  ASSERT_GE(decided.model_votes.size(), 2u);
  for (const auto& [voter, v] : decided.model_votes) {
    EXPECT_FALSE(v.approve) << voter;
    EXPECT_EQ(v.reason.rfind("over_budget: ", 0), 0u) << voter << ": " << v.reason;
  }
}

TEST(PartnerAgent, ASaveRequestNamingTheHeadsBlobIsRejectedAndTheHeadKept) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  net.start_run(breast_cancer_plan());
  ASSERT_TRUE(net.run_until([&] {
    return net.run().turns.size() > 1 && net.turn()->phase == chain::TurnPhase::training &&
           !net.mempool.empty();
  }));
  // bob's SaveRequest waits; replace it with one that points at the head's blob.
  const std::string head_key = net.run().models.back().object_key;
  ASSERT_EQ(net.mempool.size(), 1u);
  chain::pb::Transaction tx;
  ASSERT_TRUE(tx.ParseFromString(net.mempool[0]));
  chain::pb::SaveRequest r;
  ASSERT_TRUE(r.ParseFromString(tx.payload()));
  r.set_object_key(head_key);
  net.mempool[0] = chain::encode_transaction(
      chain::make_transaction(net.chain.spec.network(), net.chain.key(1), tx.nonce(),
                              chain::pb::TX_SAVE_REQUEST, r.SerializeAsString()));
  ASSERT_TRUE(net.run_until([&] { return net.run().turns.size() > 2; }));
  const chain::Turn& bob = net.run().turns[1];
  EXPECT_EQ(bob.outcome, chain::TurnOutcome::rejected);
  for (const auto& [voter, v] : bob.model_votes)
    EXPECT_EQ(v.reason.rfind("wrong_object_key: ", 0), 0u) << voter << ": " << v.reason;
  EXPECT_TRUE(fs::exists(net.blob_path(head_key)));  // nobody deleted the head
}

TEST(PartnerAgent, TheNextPartnerTrainsOnTheHeadItVotedOnWithoutFetchingItAgain) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  net.start_run(breast_cancer_plan());
  ASSERT_TRUE(net.run_until([&] { return net.run().turns.size() > 1; }));
  ASSERT_EQ(net.run().turns[0].outcome, chain::TurnOutcome::approved);
  // alice's model is the head; bob measured it as a voter and kept it, the
  // other voters kept its measure, alice her own model. With its blob gone
  // from the store, turn 1 still trains and is voted on.
  ASSERT_TRUE(fs::remove(net.blob_path(net.run().models.back().object_key)));
  ASSERT_TRUE(net.run_until([&] { return net.run().turns.size() > 2; }));
  const chain::Turn& bob = net.run().turns[1];
  ASSERT_TRUE(bob.save.has_value()) << "bob could not load the head";
  EXPECT_GE(bob.model_votes.size(), 2u);
  for (const auto& [voter, v] : bob.model_votes) {
    EXPECT_GT(v.auc_head_ppm, 0u) << voter;
    EXPECT_EQ(v.reason.find("missing_blob"), std::string::npos) << voter << ": " << v.reason;
  }
  EXPECT_EQ(count_lines_with(net.work_dir(1) / "timings.jsonl", "\"head_kept\":true"), 1u);
}

TEST(PartnerAgent, APartnerRefusesAnOversizedHeadWithoutDownloadingIt) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  net.start_run(breast_cancer_plan());
  ASSERT_TRUE(net.run_until([&] { return net.run().turns.size() > 1; }));
  ASSERT_EQ(net.run().turns[0].outcome, chain::TurnOutcome::approved);
  // Anyone who can write to the store swaps the head's blob for a larger
  // object; bob restarts, so he no longer holds the head in memory, and has
  // no copy of his own to put back (agent/model_cache.h).
  const std::string key = net.run().models.back().object_key;
  std::ofstream(net.blob_path(key), std::ios::app | std::ios::binary)
      << std::string(16 << 20, '\0');
  ASSERT_TRUE(fs::remove(net.copy_path(1, key)));
  net.open_agent(1);
  ASSERT_TRUE(net.run_until([&] { return net.run().turns.size() > 2; }));
  const chain::Turn& bob = net.run().turns[1];
  EXPECT_EQ(bob.outcome, chain::TurnOutcome::abandoned);  // bob could not train, and said so
  ASSERT_TRUE(bob.abandon.has_value());
  EXPECT_EQ(bob.abandon->reason, chain::LoadFailure::head_hash_mismatch);
  EXPECT_EQ(bob.abandon->detail.rfind("wrong_size: ", 0), 0u) << bob.abandon->detail;
  EXPECT_GT(net.stores_[1]->heads, 0);
  EXPECT_EQ(net.stores_[1]->downloads, 0);  // every try stopped at HEAD
}

TEST(PartnerAgent, APartnerPutsItsOwnCopyInPlaceOfAnOversizedHeadAndTrains) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  net.start_run(breast_cancer_plan());
  ASSERT_TRUE(net.run_until([&] { return net.run().turns.size() > 1; }));
  const chain::ModelRecord head = net.run().models.back();
  std::ofstream(net.blob_path(head.object_key), std::ios::app | std::ios::binary)
      << std::string(16 << 20, '\0');
  net.open_agent(1);  // bob keeps his copy on disk
  ASSERT_TRUE(net.run_until([&] { return net.run().turns.size() > 2; }));
  const chain::Turn& bob = net.run().turns[1];
  EXPECT_TRUE(bob.save.has_value()) << chain::to_string(bob.outcome);
  EXPECT_NE(bob.outcome, chain::TurnOutcome::abandoned);
  EXPECT_EQ(fs::file_size(net.blob_path(head.object_key)),
            fs::file_size(net.copy_path(1, head.object_key)));
}

TEST(PartnerAgent, HonestVotersRejectALabelFlippingPartner) {
  testing::TempDir dir("agent-test");
  Network net(dir, /*malicious=*/{1});  // bob trains on flipped labels
  net.start_run(breast_cancer_plan());
  ASSERT_TRUE(net.run_until([&] { return net.run().turns.size() > 2; }));
  const chain::Run& run = net.run();
  ASSERT_EQ(run.turns[0].outcome, chain::TurnOutcome::approved);
  const chain::Turn& bob = run.turns[1];
  EXPECT_EQ(bob.partner, "bob");
  EXPECT_EQ(bob.outcome, chain::TurnOutcome::rejected);
  ASSERT_GE(bob.model_votes.size(), 2u);
  for (const auto& [voter, v] : bob.model_votes) {
    EXPECT_FALSE(v.approve) << voter;
    EXPECT_LT(v.auc_candidate_ppm, v.auc_head_ppm) << voter;
  }
  EXPECT_EQ(run.head, run.turns[0].save_token_id);  // the head is still alice's model
  EXPECT_EQ(run.contributivity_ppm.at("bob"), 0);
}

// Keeps the first `rows` rows of a hospital's training CSV, each with its
// label flipped: a few training steps from a good head in the wrong
// direction, a candidate a little worse than the head.
void keep_rows_mislabelled(const fs::path& file, std::size_t rows) {
  std::ifstream in(file);
  std::string header;
  std::getline(in, header);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l) && lines.size() < rows;)
    if (!l.empty()) lines.push_back(l);
  in.close();
  ASSERT_EQ(lines.size(), rows) << file;
  std::ofstream out(file);
  out << header << "\n";
  for (std::string& l : lines) {
    // The label column (malignant, 0 or 1) is the last, before a CR.
    const std::size_t comma = l.rfind(',');
    ASSERT_NE(comma, std::string::npos);
    char& label = l[comma + 1];
    ASSERT_TRUE(label == '0' || label == '1') << l;
    label = label == '0' ? '1' : '0';
    out << l << "\n";
  }
}

// Under one DeLong plan (alpha 0.01), one run holds both kinds of worse
// candidate: bob's (every training label flipped) is significantly worse
// and refused (p about 0), carol's (48 rows, all mislabelled) is worse on
// every voter's validation set, by 0.03 to 0.12 AUC, but not significantly
// (p 0.06 to 0.17 here), and approved. Each vote carries the
// measured p and follows alpha; carol's votes would be refusals under the
// strict policy, so it is the p that approves her candidate.
TEST(PartnerAgent, DeLongPolicyRejectsOnlySignificantlyWorseCandidates) {
  testing::TempDir dir("agent-test");
  Network net(dir, /*malicious=*/{1});
  keep_rows_mislabelled(dir.path() / "train-2.csv", 48);
  net.open_agent(2);  // carol reads her new training file
  chain::TrainingPlan plan = breast_cancer_plan();
  plan.vote_policy = chain::VotePolicyKind::delong;
  plan.vote_param_ppm = 10'000;  // alpha = 0.01
  net.start_run(plan);
  ASSERT_TRUE(net.run_until([&] { return net.finished(); }));
  const chain::Run& run = net.run();
  ASSERT_EQ(run.turns.size(), kMembers);
  for (const auto& t : run.turns) {
    for (const auto& [voter, v] : t.model_votes) {
      // Every vote carries the measured one-sided p, and follows alpha.
      EXPECT_EQ(v.approve, v.p_worse_ppm >= 10'000) << "turn " << t.index << " " << voter;
    }
  }
  // bob, labels flipped: significantly worse for every voter, refused.
  const chain::Turn& bob = run.turns[1];
  EXPECT_EQ(bob.outcome, chain::TurnOutcome::rejected);
  ASSERT_GE(bob.model_votes.size(), 2u);
  for (const auto& [voter, v] : bob.model_votes) {
    EXPECT_LT(v.auc_candidate_ppm, v.auc_head_ppm) << voter;
    EXPECT_LT(v.p_worse_ppm, 10'000u) << voter;
  }
  // carol, slightly worse: a lower AUC for every voter, a p above alpha,
  // approved (her turn's head is alice's model, as bob's was refused).
  const chain::Turn& carol = run.turns[2];
  EXPECT_EQ(carol.outcome, chain::TurnOutcome::approved);
  ASSERT_GE(carol.model_votes.size(), 2u);
  for (const auto& [voter, v] : carol.model_votes) {
    EXPECT_LT(v.auc_candidate_ppm, v.auc_head_ppm) << voter;
    EXPECT_GE(v.p_worse_ppm, 10'000u) << voter;
    EXPECT_TRUE(v.approve) << voter;
    const auto strict =
        consensus::decide({chain::VotePolicyKind::strict, 0},
                          {v.auc_candidate_ppm / 1e6, v.auc_head_ppm / 1e6, std::nullopt});
    ASSERT_TRUE(strict.ok());
    EXPECT_FALSE(strict->approve) << voter << ": the strict policy refuses the same AUCs";
  }
  ASSERT_TRUE(run.head.has_value());
  EXPECT_EQ(run.models.back().turn, 3u);  // dave's model builds on carol's
}

TEST(PartnerAgent, RestartResubmitsTheJournalledCandidateWithoutRetraining) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  net.start_run(breast_cancer_plan());
  ASSERT_TRUE(net.run_until(
      [&] { return net.turn()->phase == chain::TurnPhase::training && !net.mempool.empty(); }));
  ASSERT_EQ(net.sinks_[0]->submitted.back().first, chain::pb::TX_SAVE_REQUEST);
  const std::string first_payload = net.sinks_[0]->submitted.back().second;
  // alice crashes before her SaveRequest is committed: the mempool is lost.
  net.mempool.clear();
  net.open_agent(0);
  net.sinks_[0]->submitted.clear();
  net.commit_and_step();  // an empty block; alice's new agent sees her turn in training
  ASSERT_EQ(net.sinks_[0]->submitted.size(), 1u);
  EXPECT_EQ(net.sinks_[0]->submitted[0].first, chain::pb::TX_SAVE_REQUEST);
  EXPECT_EQ(net.sinks_[0]->submitted[0].second, first_payload);  // byte for byte
  EXPECT_EQ(count_lines_with(net.work_dir(0) / "timings.jsonl", "\"role\":\"trainer\""), 1u);
  net.commit_and_step();
  ASSERT_EQ(net.turn()->phase, chain::TurnPhase::save_voting);
  chain::pb::SaveRequest r;
  ASSERT_TRUE(r.ParseFromString(first_payload));
  EXPECT_EQ(net.turn()->save->object_key, r.object_key());
}

TEST(PartnerAgent, RestartedVoterNeverVotesTwice) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  net.start_run(breast_cancer_plan());
  ASSERT_TRUE(net.run_until([&] { return net.turn()->phase == chain::TurnPhase::save_voting; }));
  net.commit_and_step();  // votes submitted and now being committed next
  // Restart bob after his vote was journalled; whatever the ledger holds, the
  // restarted agent submits no second, different vote.
  ASSERT_FALSE(net.sinks_[1]->submitted.empty());
  const auto last = net.sinks_[1]->submitted.back();
  net.open_agent(1);
  net.sinks_[1]->submitted.clear();
  net.commit_and_step();
  for (const auto& [type, payload] : net.sinks_[1]->submitted) {
    if (type == chain::pb::TX_MODEL_VOTE) {
      EXPECT_EQ(payload, last.second);
    }
  }
  ASSERT_TRUE(net.run_until([&] { return net.run().turns.size() > 1; }));
  EXPECT_TRUE(net.run().turns[0].model_votes.contains("bob"));
}

TEST(PartnerAgent, ANodeWithoutUsableDataGivesUpItsTurnAtOnce) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  fs::remove(dir.path() / "train-0.csv");  // alice's training file is gone
  net.start_run(breast_cancer_plan());
  const std::uint64_t start = net.chain.state.height;
  ASSERT_TRUE(net.run_until([&] { return net.run().turns.size() > 1; }));
  const chain::Turn& alice = net.run().turns[0];
  EXPECT_EQ(alice.outcome, chain::TurnOutcome::abandoned);
  ASSERT_TRUE(alice.abandon.has_value());
  EXPECT_EQ(alice.abandon->reason, chain::LoadFailure::local_data_unusable);
  EXPECT_NE(alice.abandon->detail.find("train-0.csv"), std::string::npos) << alice.abandon->detail;
  // At once: the block after her first view, not the load deadline (10 blocks).
  EXPECT_LE(alice.end_height, start + 2);
  EXPECT_FALSE(alice.load_request_id.has_value());
  for (const auto& [type, payload] : net.sinks_[0]->submitted)
    EXPECT_NE(type, chain::pb::TX_LOAD_REQUEST);
  // The run moves on to bob, who trains from the initial model.
  ASSERT_TRUE(net.run_until([&] { return net.run().turns.size() > 2; }));
  EXPECT_EQ(net.run().turns[1].outcome, chain::TurnOutcome::approved);
}

chain::Hash file_sha256(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return chain::sha256(bytes);
}

void flip_byte(const fs::path& p, std::streamoff at) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  char c = 0;
  f.get(c);
  f.seekp(at);
  f.put(static_cast<char>(c ^ 0x01));
}

// alice's turn 0 approved; bob (turn 1) restarted, so that the head is not in
// his memory, and past his first view of the new agent (the head was fine
// then). Returns the head's lineage record.
chain::ModelRecord approved_head_then_bob_restarted(Network& net) {
  net.start_run(breast_cancer_plan());
  EXPECT_TRUE(net.run_until([&] { return net.run().turns.size() > 1; }));
  EXPECT_EQ(net.run().turns[0].outcome, chain::TurnOutcome::approved);
  const chain::ModelRecord head = net.run().models.back();
  EXPECT_TRUE(fs::exists(net.copy_path(1, head.object_key))) << "bob keeps no copy of the head";
  net.open_agent(1);
  net.commit_and_step();
  EXPECT_EQ(net.turn()->index, 1u);
  EXPECT_EQ(net.turn()->phase, chain::TurnPhase::load_voting);
  return head;
}

TEST(PartnerAgent, LoadsTheHeadFromItsOwnCopyWhenTheStoresIsDamagedAndRepairsTheStore) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  const chain::ModelRecord head = approved_head_then_bob_restarted(net);
  const fs::path stored = net.blob_path(head.object_key);
  flip_byte(stored, 200);
  ASSERT_NE(file_sha256(stored), head.ciphertext_sha256);
  ASSERT_TRUE(net.run_until([&] {
    const chain::Turn& t = net.run().turns[1];
    return t.save.has_value() || t.outcome != chain::TurnOutcome::pending;
  }));
  const chain::Turn& bob = net.run().turns[1];
  EXPECT_NE(bob.outcome, chain::TurnOutcome::abandoned);
  EXPECT_TRUE(bob.save.has_value()) << "bob did not train on the head";
  // The store holds the ledger's bytes again, put back from bob's copy.
  EXPECT_EQ(file_sha256(stored), head.ciphertext_sha256);
  ASSERT_TRUE(net.run_until([&] { return net.finished(); }));
  for (const auto& t : net.run().turns) EXPECT_NE(t.outcome, chain::TurnOutcome::expired);
}

TEST(PartnerAgent, APartnerWithoutACopyGivesUpItsTurnAtOnceAndTheOthersRestoreTheHead) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  const chain::ModelRecord head = approved_head_then_bob_restarted(net);
  ASSERT_TRUE(fs::remove(net.copy_path(1, head.object_key)));  // bob has no copy of his own
  const fs::path stored = net.blob_path(head.object_key);
  flip_byte(stored, 200);
  ASSERT_TRUE(net.run_until([&] { return net.run().turns.size() > 2; }));
  const chain::Turn& bob = net.run().turns[1];
  EXPECT_EQ(bob.outcome, chain::TurnOutcome::abandoned);
  ASSERT_TRUE(bob.abandon.has_value());
  EXPECT_EQ(bob.abandon->reason, chain::LoadFailure::head_hash_mismatch);
  EXPECT_EQ(bob.abandon->detail.rfind("hash_mismatch: ", 0), 0u) << bob.abandon->detail;
  // At once: in the block after his load token, not at the save deadline.
  EXPECT_EQ(bob.end_height, bob.load_token_height + 1);
  EXPECT_FALSE(bob.save.has_value());
  EXPECT_EQ(net.run().head, head.id);  // the head stays
  // The others saw why on the ledger and put their verified copy back.
  EXPECT_EQ(file_sha256(stored), head.ciphertext_sha256);
  ASSERT_TRUE(net.run_until([&] { return net.finished(); }));
  const chain::Run& run = net.run();
  for (std::size_t t = 2; t < run.turns.size(); ++t) {
    EXPECT_TRUE(run.turns[t].outcome == chain::TurnOutcome::approved ||
                run.turns[t].outcome == chain::TurnOutcome::rejected)
        << "turn " << t << " " << chain::to_string(run.turns[t].outcome);
  }
  EXPECT_EQ(file_sha256(net.blob_path(run.models.back().object_key)),
            run.models.back().ciphertext_sha256);
}

TEST(PartnerAgent, APartnerWhoseStoreStaysUnreachableGivesUpAfterItsAttempts) {
  testing::TempDir dir("agent-test");
  Network net(dir);
  auto broken = std::make_unique<storage::MemoryObjectStore>();
  broken->fail_next(1u << 30);  // every call fails as "unavailable"
  net.open_agent(1, false, std::move(broken));
  net.start_run(breast_cancer_plan());
  ASSERT_TRUE(net.run_until([&] { return net.run().turns.size() > 2; }));
  const chain::Turn& bob = net.run().turns[1];
  EXPECT_EQ(bob.outcome, chain::TurnOutcome::abandoned);
  ASSERT_TRUE(bob.abandon.has_value());
  EXPECT_EQ(bob.abandon->reason, chain::LoadFailure::store_unreachable);
  // Three attempts, one per block, then the TurnAbandon in the next block.
  EXPECT_LE(bob.end_height, bob.load_token_height + 4);
  EXPECT_GT(bob.end_height, bob.load_token_height + 2);
}

}  // namespace
}  // namespace baton::agent

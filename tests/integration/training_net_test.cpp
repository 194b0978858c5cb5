// The C-DistriM protocol between four real batond processes the test
// drives itself (issue 6 and after): a node killed during its own turn, a
// tampered or oversized blob in the object store, agents killed while
// training, batond restarted under a running agent. The demo end to end and
// the spec audit are in training_test.cpp.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "chain/protocol.h"
#include "chain/proto/ledger.pb.h"
#include "learning/model.h"
#include "agent/agent_keys.h"
#include "agent/model_handoff.h"
#include "api/http_client.h"
#include "api/training_json.h"
#include "tests/integration/run_plans.h"
#include "chain/block.h"
#include "chain/crypto.h"
#include "chain/transaction.h"
#include "storage/ledger_store.h"
#include "storage/object_store.h"
#include "tests/integration/ledgers.h"
#include "tests/integration/testnet.h"
#include "tests/integration/training_common.h"

namespace baton::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::read_text;
using testing::wait_until;
using testing::write_text;

// ---- networks driven by the test ------------------------------------------

struct TrainingNet {
  testing::TempDir dir{"baton-training"};
  fs::path store;
  std::unique_ptr<Testnet> net;

  // `agent_link`: TestnetOptions::agent_link.
  TrainingNet(const std::string& run_id, const std::vector<std::string>& partners, int epochs,
              const fs::path& data, const std::string& agent_link = "") {
    store = dir.path() / "store";
    fs::create_directories(store);
    TestnetOptions o;
    o.names = kHospitals;
    o.chain_id = "baton-" + run_id;
    o.plan = write_plan(dir.path(), run_id, partners, epochs);
    o.store = "file://" + store.string();
    o.data = data;
    o.agent_link = agent_link;
    net = std::make_unique<Testnet>(o);
  }

  // The run as node i sees it, or null.
  json run(int i, const std::string& run_id) {
    auto st = net->training(i);
    if (!st) return nullptr;
    const json* r = find_run(*st, run_id);
    return r ? *r : json(nullptr);
  }

  std::vector<fs::path> ledgers() const {
    std::vector<fs::path> out;
    for (const auto& n : net->nodes()) out.push_back(n.data_dir / "ledger");
    return out;
  }
};

// GET /metrics of node `n` (it needs no token); "" when it does not answer.
std::string metrics_of(const TestNode& n) {
  auto c = api::HttpClient::connect_to(n.admin_url, 10s, n.admin_cert_sha256);
  if (!c) return "";
  auto r = (*c)->get("/metrics");
  return r && r->status == 200 ? r->body : "";
}

// The value of the sample `series` (name and labels as rendered) in a
// Prometheus text, or -1 when it has none.
double sample(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(Training, RunFinishesWhenAPartnerIsKilledDuringItsTurn) {
  // 400 epochs: about a second of training per turn, so the kill lands inside it.
  // The agents reach their nodes over the admin API's Unix socket.
  TrainingNet t("kill", kHospitals, 400, split_dir(), "unix");
  ASSERT_TRUE(t.net->ok()) << t.net->error();
  // hospital-d: turn 3, which loads turn 2's model. testnet.sh starts the
  // nodes one after another and the run begins as soon as three are up, so
  // an earlier partner's turn may be over before the network is "up"; the
  // last node's turn cannot begin before that node runs.
  const int victim = 3;
  std::string phase;
  ASSERT_TRUE(wait_until(
      [&] {
        const json r = t.run(0, "kill");
        if (r.is_null() || r["turns"].size() < 4) return false;
        phase = r["turns"][3]["phase"];
        return phase == "training" || phase == "save_voting";
      },
      90s))
      << "hospital-d never got its load token";
  // After its load token, before its save token: kill -9.
  ASSERT_TRUE(t.net->signal(victim, SIGKILL));
  std::uint64_t kill_height = 0;
  for (int i = 0; i < 4; ++i) kill_height = std::max(kill_height, t.net->height(i));
  ASSERT_TRUE(t.net->stop(victim, /*kill=*/true));  // reaps it, clears its pid
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(t.net->start(victim));

  json run;
  ASSERT_TRUE(wait_until(
      [&] {
        run = t.run(0, "kill");
        return !run.is_null() && run["status"] == "finished";
      },
      120s))
      << "the run did not finish: " << run.dump(2).substr(0, 3000);
  ASSERT_EQ(run["turns"].size(), 4u);
  for (const auto& turn : run["turns"]) EXPECT_NE(turn["decision"], "pending");
  const json& killed = run["turns"][3];
  EXPECT_GT(killed["load_token_height"].get<std::uint64_t>(), 0u);
  EXPECT_LE(killed["load_token_height"].get<std::uint64_t>(), kill_height);
  if (!killed["save_token_id"].get<std::string>().empty()) {
    EXPECT_GT(killed["save_token_height"].get<std::uint64_t>(), kill_height)
        << "the save token came before the kill: the test killed too late";
  }
  // The restarted node caught up and agrees.
  const std::uint64_t target = t.net->height(0);
  EXPECT_TRUE(wait_until([&] { return t.net->height(victim) >= target; }, 30s));

  // Each agent reported its own work to its batond (issue 17), over the Unix
  // socket here: hospital-a trained turn 0, and the voters' votes took time.
  const auto series = [](const std::string& node, const std::string& labels) {
    return "{node=\"" + node + "\"" + labels + "}";
  };
  std::string text;
  EXPECT_TRUE(wait_until(
      [&] {
        text = metrics_of(t.net->nodes()[0]);
        return sample(text, "baton_agent_step_seconds" +
                                series("hospital-a", ",run=\"kill\",step=\"train\"")) > 0;
      },
      30s))
      << text;
  EXPECT_EQ(sample(text, "baton_agent_up" + series("hospital-a", "")), 1) << text;
  EXPECT_GE(sample(text, "baton_agent_steps_total" + series("hospital-a", ",step=\"train\"")), 1);
  EXPECT_GT(
      sample(text, "baton_agent_step_seconds_total" + series("hospital-a", ",step=\"train\"")), 0);
  double votes = 0;
  for (int i = 0; i < 3; ++i) {  // hospital-d's agent was restarted: its counts start again
    const std::string name = t.net->nodes()[i].name;
    std::string m;
    (void)wait_until(
        [&] {
          m = metrics_of(t.net->nodes()[i]);
          return sample(m, "baton_agent_steps_total" + series(name, ",step=\"vote\"")) >= 1;
        },
        10s);
    const double n = sample(m, "baton_agent_steps_total" + series(name, ",step=\"vote\""));
    if (n < 1) continue;  // the quorum was in before this one voted
    votes += n;
    EXPECT_GT(sample(m, "baton_agent_step_seconds" + series(name, ",run=\"kill\",step=\"vote\"")),
              0)
        << m;
    EXPECT_GT(sample(m, "baton_agent_step_seconds_total" + series(name, ",step=\"vote\"")), 0);
    EXPECT_GE(sample(m, "baton_agent_last_auc" + series(name, ",run=\"kill\",model=\"head\"")), 0);
  }
  EXPECT_GE(votes, 3) << "turns 1 to 3 had at least one voter each";
  ASSERT_TRUE(t.net->down());
  expect_identical_verified_ledgers(t.ledgers());
}

TEST(Training, VotersRefuseATamperedBlobAndTheLedgerSaysWhy) {
  // hospital-a gets no [training]: the test itself plays hospital-a's part,
  // so that it can alter the blob after uploading it and before its
  // SaveRequest exists. The voters only learn of the candidate from the
  // committed SaveRequest, so they can only ever fetch the altered bytes.
  testing::TempDir data("baton-tamper-data");
  for (const auto& h : {"hospital-b", "hospital-c", "hospital-d"})
    fs::copy(split_dir() / h, data.path() / h, fs::copy_options::recursive);
  fs::copy_file(split_dir() / "feature_schema.json", data.path() / "feature_schema.json");
  TrainingNet t("tamper", {"hospital-a"}, 5, data.path());
  ASSERT_TRUE(t.net->ok()) << t.net->error();
  const int a = t.net->index_of("hospital-a");
  ASSERT_EQ(a, 0);

  ASSERT_TRUE(wait_until([&] { return !t.run(0, "tamper").is_null(); }, 30s));
  chain::pb::LoadRequest load;
  load.set_run_id("tamper");
  load.set_turn(0);
  std::string why;
  ASSERT_FALSE(
      t.net->submit_tx(a, a, chain::pb::TX_LOAD_REQUEST, load.SerializeAsString(), &why).empty())
      << why;
  ASSERT_TRUE(wait_until(
      [&] {
        const json r = t.run(0, "tamper");
        return !r.is_null() && r["turns"][0]["phase"] == "training";
      },
      60s))
      << "no load token for hospital-a";

  // A real candidate: the plan's initial model, sealed for every member.
  const json plan = t.run(0, "tamper")["plan"];
  auto spec = learning::spec_from_json(plan["model"].dump());
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  auto model = learning::Model::create(*spec, 1);
  ASSERT_TRUE(model.ok());
  const chain::Bytes bytes = learning::serialize(*model);
  std::vector<chain::MemberPublicKeys> recipients;
  for (int i = 0; i < 4; ++i) recipients.push_back(t.net->keys(i).public_keys());
  std::sort(recipients.begin(), recipients.end(),
            [](const auto& x, const auto& y) { return x.name < y.name; });
  auto store = storage::open_object_store("file://" + t.store.string());
  ASSERT_TRUE(store.ok()) << store.error().message;
  agent::HandoffOptions options;
  options.work_dir = t.dir.path() / "work";
  auto sealed = agent::seal_and_upload(
      **store, bytes, {t.net->chain_id(), "tamper", "turn-0", std::string()}, recipients, options);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;

  // Flip one byte of the stored ciphertext.
  const fs::path blob = t.store / sealed->object_key;
  ASSERT_TRUE(fs::exists(blob)) << blob;
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    const auto pos = static_cast<std::streamoff>(sealed->blob_size / 2);
    f.seekg(pos);
    char c = 0;
    f.get(c);
    f.seekp(pos);
    f.put(static_cast<char>(c ^ 0x01));
  }

  const chain::pb::SaveRequest save = chain::save_request_to_proto(
      "tamper", 0, agent::save_record_for(*sealed, std::nullopt, 1, "{}"));
  ASSERT_FALSE(
      t.net->submit_tx(a, a, chain::pb::TX_SAVE_REQUEST, save.SerializeAsString(), &why).empty())
      << why;

  json run;
  ASSERT_TRUE(wait_until(
      [&] {
        run = t.run(1, "tamper");
        return !run.is_null() && run["turns"][0]["decision"] != "pending";
      },
      60s))
      << run.dump(2).substr(0, 3000);
  const json& turn = run["turns"][0];
  EXPECT_EQ(turn["decision"], "rejected");
  ASSERT_GE(turn["votes"].size(), 2u) << turn.dump(2);
  for (const auto& v : turn["votes"]) {
    EXPECT_FALSE(v["approve"].get<bool>());
    EXPECT_EQ(v["reason"].get<std::string>().rfind("hash_mismatch", 0), 0u) << v.dump();
  }
  EXPECT_TRUE(run["head"].get<std::string>().empty());

  // The ledger on disk says the same, and it verifies.
  ASSERT_TRUE(t.net->down());
  auto disk = api::read_training_status({.data_dir = t.net->nodes()[2].data_dir.string()});
  ASSERT_TRUE(disk.ok()) << disk.error().message;
  const json* on_disk = find_run(*disk, "tamper");
  ASSERT_NE(on_disk, nullptr);
  EXPECT_EQ((*on_disk)["turns"][0]["votes"], turn["votes"]);
  expect_identical_verified_ledgers(t.ledgers());

  // `baton report` from the ledger alone shows the refusal and its reason.
  const fs::path plots = t.dir.path() / "report";
  auto r = testing::run_baton({"report", "--data-dir", t.net->nodes()[3].data_dir.string(),
                               "--plots-out", plots.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json report = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << r.out;
  EXPECT_EQ(report["turns"][0]["decision"], "rejected");
  EXPECT_EQ(report["contributivity_ppm"]["hospital-a"], 0);
  EXPECT_NE(read_text(plots / "auc_per_turn.csv").find("hash_mismatch"), std::string::npos);
}

// Plays hospital-a's turn 0 of run `run_id` as a partner who holds the data
// key and the store's write access: a real candidate (the plan's initial
// model, sealed for every member), then `alter` on the stored blob, then the
// SaveRequest. Returns turn 0 once decided, as node 1 sees it (null if not).
template <class Alter>
json decided_turn_of_altered_candidate(TrainingNet& t, const std::string& run_id, Alter alter) {
  const int a = t.net->index_of("hospital-a");
  if (!wait_until([&] { return !t.run(0, run_id).is_null(); }, 30s)) return nullptr;
  chain::pb::LoadRequest load;
  load.set_run_id(run_id);
  load.set_turn(0);
  std::string why;
  if (t.net->submit_tx(a, a, chain::pb::TX_LOAD_REQUEST, load.SerializeAsString(), &why).empty())
    return nullptr;
  if (!wait_until(
          [&] {
            const json r = t.run(0, run_id);
            return !r.is_null() && r["turns"][0]["phase"] == "training";
          },
          60s))
    return nullptr;
  auto spec = learning::spec_from_json(t.run(0, run_id)["plan"]["model"].dump());
  auto model = learning::Model::create(*spec, 1);
  std::vector<chain::MemberPublicKeys> recipients;
  for (int i = 0; i < 4; ++i) recipients.push_back(t.net->keys(i).public_keys());
  std::sort(recipients.begin(), recipients.end(),
            [](const auto& x, const auto& y) { return x.name < y.name; });
  auto store = storage::open_object_store("file://" + t.store.string());
  agent::HandoffOptions options;
  options.work_dir = t.dir.path() / "work";
  auto sealed = agent::seal_and_upload(**store, learning::serialize(*model),
                                       {t.net->chain_id(), run_id, "turn-0", std::string()},
                                       recipients, options);
  if (!sealed) return nullptr;
  alter(t.store / sealed->object_key);
  const chain::pb::SaveRequest save = chain::save_request_to_proto(
      run_id, 0, agent::save_record_for(*sealed, std::nullopt, 1, "{}"));
  if (t.net->submit_tx(a, a, chain::pb::TX_SAVE_REQUEST, save.SerializeAsString(), &why).empty())
    return nullptr;
  json run;
  if (!wait_until(
          [&] {
            run = t.run(1, run_id);
            return !run.is_null() && run["turns"][0]["decision"] != "pending";
          },
          60s))
    return nullptr;
  return run["turns"][0];
}

TEST(Training, VotersRefuseAnOversizedBlobWithoutDownloadingIt) {
  // A candidate whose hashes, key and binding are all in order, with 64 MiB
  // appended to its blob in the store: every voter refuses it on its size
  // alone, which only HEAD told it, and says so on the ledger.
  testing::TempDir data("baton-oversize-data");
  for (const auto& h : {"hospital-b", "hospital-c", "hospital-d"})
    fs::copy(split_dir() / h, data.path() / h, fs::copy_options::recursive);
  fs::copy_file(split_dir() / "feature_schema.json", data.path() / "feature_schema.json");
  TrainingNet t("oversize", {"hospital-a"}, 5, data.path());
  ASSERT_TRUE(t.net->ok()) << t.net->error();
  const json turn = decided_turn_of_altered_candidate(t, "oversize", [](const fs::path& blob) {
    std::ofstream(blob, std::ios::app | std::ios::binary) << std::string(64 << 20, '\0');
  });
  ASSERT_FALSE(turn.is_null()) << "the altered candidate was not decided";
  EXPECT_EQ(turn["decision"], "rejected");
  ASSERT_GE(turn["votes"].size(), 2u) << turn.dump(2);
  for (const auto& v : turn["votes"]) {
    EXPECT_FALSE(v["approve"].get<bool>());
    const std::string reason = v["reason"].get<std::string>();
    EXPECT_EQ(reason.rfind("wrong_size: ", 0), 0u) << v.dump();
    EXPECT_NE(reason.find("was not downloaded"), std::string::npos) << v.dump();
  }
  ASSERT_TRUE(t.net->down());
  expect_identical_verified_ledgers(t.ledgers());
}

// What the ledger holds of a finished run, checked for the restart tests
// (issue 12): every turn approved by the vote, and, in every block of the
// (stopped) node's ledger, exactly one LoadRequest and one SaveRequest per
// turn and at most one LoadApproval or ModelVote per voter and request,
// refused or not: no restarted process sent a second candidate or vote.
// (A late first vote is refused as "not open" in any run; a second one would
// be a second transaction here.)
void expect_one_candidate_and_vote_each(const json& run, const fs::path& ledger) {
  ASSERT_EQ(run["turns"].size(), 4u);
  for (const auto& turn : run["turns"])
    EXPECT_EQ(turn["decision"], "approved") << turn.dump(2).substr(0, 2000);
  auto store = storage::LedgerStore::open_reader(ledger);
  ASSERT_TRUE(store.ok()) << store.error().message;
  std::map<std::string, int> requests;  // "load|save/turn" -> transactions
  std::map<std::string, int> votes;     // "sender/request id" -> transactions
  const std::uint64_t tip = (*store)->tip().height;
  for (std::uint64_t h = 1; h <= tip; ++h) {
    auto bytes = (*store)->block_at(h);
    ASSERT_TRUE(bytes.ok() && bytes->has_value()) << "height " << h;
    auto committed = chain::decode_committed_block(**bytes);
    ASSERT_TRUE(committed.ok());
    for (const auto& stored : committed->block().transactions()) {
      chain::pb::Transaction tx;
      ASSERT_TRUE(tx.ParseFromString(stored));
      const std::string sender = chain::to_hex(chain::as_bytes(tx.sender()));
      if (tx.type() == chain::pb::TX_LOAD_REQUEST) {
        chain::pb::LoadRequest r;
        ASSERT_TRUE(r.ParseFromString(tx.payload()));
        ++requests["load/" + std::to_string(r.turn())];
      } else if (tx.type() == chain::pb::TX_SAVE_REQUEST) {
        chain::pb::SaveRequest r;
        ASSERT_TRUE(r.ParseFromString(tx.payload()));
        ++requests["save/" + std::to_string(r.turn())];
      } else if (tx.type() == chain::pb::TX_LOAD_APPROVAL) {
        chain::pb::LoadApproval a;
        ASSERT_TRUE(a.ParseFromString(tx.payload()));
        ++votes[sender + "/" + chain::to_hex(chain::as_bytes(a.request_id()))];
      } else if (tx.type() == chain::pb::TX_MODEL_VOTE) {
        chain::pb::ModelVote v;
        ASSERT_TRUE(v.ParseFromString(tx.payload()));
        ++votes[sender + "/" + chain::to_hex(chain::as_bytes(v.request_id()))];
      }
    }
  }
  for (int turn = 0; turn < 4; ++turn) {
    EXPECT_EQ(requests["load/" + std::to_string(turn)], 1) << "LoadRequests of turn " << turn;
    EXPECT_EQ(requests["save/" + std::to_string(turn)], 1) << "SaveRequests of turn " << turn;
  }
  EXPECT_FALSE(votes.empty());
  for (const auto& [key, n] : votes) EXPECT_EQ(n, 1) << "votes of " << key;
}

TEST(Training, AgentsKilledWhileTrainingResumeWithoutASecondCandidateOrVote) {
  // 3000 epochs: a few seconds of training per turn, so each kill lands in it.
  TrainingNet t("agentkill", kHospitals, 3000, split_dir());
  ASSERT_TRUE(t.net->ok()) << t.net->error();
  for (int turn = 0; turn < 4; ++turn) {
    // The partner of turn i is hospital i; its baton-agent is killed (-9)
    // once its load token is on the ledger, while it trains, and restarted.
    std::string phase;
    ASSERT_TRUE(wait_until(
        [&] {
          const json r = t.run(0, "agentkill");
          if (r.is_null() || r["turns"].size() <= static_cast<std::size_t>(turn)) return false;
          phase = r["turns"][turn]["phase"];
          return phase != "awaiting_load_request" && phase != "load_voting";
        },
        90s))
        << "turn " << turn << " never got its load token";
    ASSERT_TRUE(t.net->signal(turn, SIGKILL, Testnet::Process::agent));
    // The kill must land while the partner trains (after its load token,
    // before its SaveRequest is committed), or the test tests nothing.
    EXPECT_EQ(phase, "training") << "turn " << turn << ": killed too late";
    ASSERT_TRUE(t.net->stop(turn, /*kill=*/true, Testnet::Process::agent));  // reaps it
    ASSERT_TRUE(t.net->start(turn, Testnet::Process::agent));
  }
  json run;
  ASSERT_TRUE(wait_until(
      [&] {
        run = t.run(0, "agentkill");
        return !run.is_null() && run["status"] == "finished";
      },
      180s))
      << "the run did not finish: " << run.dump(2).substr(0, 3000);
  ASSERT_TRUE(t.net->down());
  expect_identical_verified_ledgers(t.ledgers());
  expect_one_candidate_and_vote_each(run, t.ledgers()[0]);
}

TEST(Training, BatondRestartsUnderARunningAgentAndTheRunFinishes) {
  // Over TLS: each agent pins its node's self-signed certificate, which a
  // restart of batond keeps (docs/OPERATIONS.md, "Admin API").
  TrainingNet t("noderestart", kHospitals, 3000, split_dir(), "https");
  ASSERT_TRUE(t.net->ok()) << t.net->error();
  for (const TestNode& n : t.net->nodes()) {
    ASSERT_TRUE(n.admin_url.starts_with("https://")) << n.admin_url;
    ASSERT_EQ(n.admin_cert_sha256.size(), 64u) << n.name;
  }
  // hospital-c's batond is killed (-9) while its agent trains turn 2, and
  // hospital-b's is stopped (SIGTERM) while the others vote on turn 2: each
  // agent keeps running, follows its node again once it is back, and sends
  // what it still has to through it.
  const auto wait_phase = [&](int turn, std::initializer_list<const char*> phases) {
    return wait_until(
        [&] {
          const json r = t.run(0, "noderestart");
          if (r.is_null() || r["turns"].size() <= static_cast<std::size_t>(turn)) return false;
          for (const char* p : phases)
            if (r["turns"][turn]["phase"] == p) return true;
          return false;
        },
        90s);
  };
  ASSERT_TRUE(wait_phase(2, {"training", "save_voting", "done"}));
  const std::string phase = t.run(0, "noderestart")["turns"][2]["phase"];
  ASSERT_TRUE(t.net->signal(2, SIGKILL, Testnet::Process::batond));
  EXPECT_EQ(phase, "training") << "killed too late: the test tests nothing";
  ASSERT_TRUE(t.net->stop(2, /*kill=*/true, Testnet::Process::batond));
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(t.net->start(2, Testnet::Process::batond));
  ASSERT_TRUE(wait_phase(2, {"save_voting", "done"}));
  ASSERT_TRUE(t.net->stop(1, /*kill=*/false, Testnet::Process::batond));
  ASSERT_TRUE(t.net->start(1, Testnet::Process::batond));
  json run;
  ASSERT_TRUE(wait_until(
      [&] {
        run = t.run(0, "noderestart");
        return !run.is_null() && run["status"] == "finished";
      },
      180s))
      << "the run did not finish: " << run.dump(2).substr(0, 3000);
  const std::uint64_t target = t.net->height(0);
  for (int i : {1, 2}) EXPECT_TRUE(wait_until([&] { return t.net->height(i) >= target; }, 30s));
  ASSERT_TRUE(t.net->down());
  expect_identical_verified_ledgers(t.ledgers());
  expect_one_candidate_and_vote_each(run, t.ledgers()[0]);
}

}  // namespace
}  // namespace baton::integration

// Nothing is lost when an approved model's blob is damaged or missing in the
// object store (issue 11, section 1), between four real batond processes on
// loopback: a flipped byte in the head mid-run, an older blob in the head's
// place with every node restarted, and `baton models repair` after every
// approved blob was deleted. Each ends with the run completed (or the reason
// on the ledger), identical verified ledgers, and every approved model in the
// store hashing to the ledger's ciphertext SHA-256.
#include <fstream>
#include <functional>
#include <sstream>

#include <gtest/gtest.h>

#include "chain/crypto.h"
#include "api/training_json.h"
#include "tests/integration/ledgers.h"
#include "tests/integration/run_plans.h"
#include "api/http_client.h"
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

// The demo's plan (MLP 30-64-32, delong 0.05). 400 epochs take about a
// second per turn: long enough for a test to act while the run goes on.
fs::path write_plan(const fs::path& dir, const std::string& run_id, int cycles, int epochs,
                    int load_blocks) {
  json plan = base_plan(split_dir(), run_id, kHospitals, cycles, epochs, 120);
  plan["deadlines"] = {{"load_blocks", load_blocks}, {"save_blocks", 120}, {"vote_blocks", 40}};
  const fs::path p = dir / (run_id + "-plan.json");
  write_text(p, plan.dump(2));
  return p;
}

struct Net {
  testing::TempDir dir{"baton-durability"};
  fs::path store;
  std::string run_id;
  std::unique_ptr<Testnet> net;

  Net(const std::string& run, int cycles, int epochs, int load_blocks, int model_check_s,
      const std::vector<std::string>& training = kHospitals,
      const std::function<void(const fs::path&)>& edit_data = {})
      : run_id(run) {
    store = dir.path() / "store";
    fs::create_directories(store);
    const fs::path data = dir.path() / "data";
    fs::create_directories(data);
    for (const auto& h : training) fs::copy(split_dir() / h, data / h, fs::copy_options::recursive);
    if (edit_data) edit_data(data);
    fs::copy_file(split_dir() / "feature_schema.json", data / "feature_schema.json");
    TestnetOptions o;
    o.names = kHospitals;
    o.chain_id = "baton-" + run;
    o.plan = write_plan(dir.path(), run, cycles, epochs, load_blocks);
    o.store = "file://" + store.string();
    o.data = data;
    o.model_check_s = model_check_s;
    net = std::make_unique<Testnet>(o);
  }

  json run(int i) {
    auto st = net->training(i);
    if (!st) return nullptr;
    const json* r = api::select_run(*st, run_id);
    return r ? *r : json(nullptr);
  }

  std::vector<fs::path> ledgers() const {
    std::vector<fs::path> out;
    for (const auto& n : net->nodes()) out.push_back(n.data_dir / "ledger");
    return out;
  }

  fs::path blob(const json& model) const { return store / model["object_key"].get<std::string>(); }

  // The approved models whose blob in the store is not the ledger's.
  std::vector<std::string> bad_blobs(const json& run) const {
    std::vector<std::string> bad;
    for (const auto& m : run["models"]) {
      const fs::path p = blob(m);
      if (!fs::exists(p) || chain::sha256(read_text(p)).hex() != m["ciphertext_sha256"])
        bad.push_back(m["object_key"]);
    }
    return bad;
  }

  // What the nodes logged about models, for failure messages.
  std::string model_log() const {
    std::string out;
    for (const auto& n : net->nodes()) {
      std::istringstream in(read_text(n.config.parent_path() / "agent.log"));
      for (std::string line; std::getline(in, line);) {
        if (line.find("restored") != std::string::npos ||
            line.find("store's copy") != std::string::npos ||
            line.find("gave up") != std::string::npos ||
            line.find("cannot load") != std::string::npos || line.find("copy") != std::string::npos)
          out += n.name + ": " + line + "\n";
      }
    }
    return out.size() > 6000 ? out.substr(out.size() - 6000) : out;
  }

  std::vector<std::string> urls(std::initializer_list<int> nodes) const {
    std::vector<std::string> out;
    for (int i : nodes) out.push_back(net->nodes()[i].admin_url);
    return out;
  }
};

std::string dump(const json& j) { return j.dump(2).substr(0, 4000); }

void flip_byte(const fs::path& p) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(200);
  char c = 0;
  f.get(c);
  f.seekp(200);
  f.put(static_cast<char>(c ^ 0x01));
}

// Every turn was decided by the vote, or given up because of the head with
// the reason on the ledger; none waited out a deadline.
void expect_no_turn_lost_to_a_deadline(const json& run) {
  for (const auto& t : run["turns"]) {
    const std::string d = t["decision"];
    EXPECT_NE(d, "expired") << dump(t);
    EXPECT_NE(d, "pending") << dump(t);
    if (d == "abandoned") {
      const std::string why = t["abandon"]["reason"];
      EXPECT_TRUE(why == "head_hash_mismatch" || why == "head_missing") << dump(t);
    }
  }
}

json run_status_json(const std::string& url) {
  auto r = testing::run_baton({"run", "status", "--node", url, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out, nullptr, false);
}

TEST(Durability, AFlippedHeadInTheStoreIsRepairedAndTheRunCompletes) {
  Net t("flip", 2, 400, 40, /*model_check_s=*/2);
  ASSERT_TRUE(t.net->ok()) << t.net->error();
  json run;
  ASSERT_TRUE(wait_until(
      [&] {
        run = t.run(0);
        return !run.is_null() && !run["models"].empty();
      },
      60s))
      << "no approved model: " << dump(run);
  // The first approved head, damaged in the store while the run goes on
  // (for seven more turns: the nodes keep every approved model of an active
  // run, and check the store's copies every 2 s here).
  ASSERT_EQ(run["status"], "active");
  const json head = run["models"][0];
  flip_byte(t.blob(head));

  ASSERT_TRUE(wait_until(
      [&] {
        run = t.run(0);
        return !run.is_null() && run["status"] == "finished";
      },
      90s))
      << "the run did not finish: " << dump(run);
  expect_no_turn_lost_to_a_deadline(run);
  // A node's verified copy went back into the store: nothing is lost.
  std::vector<std::string> bad;
  EXPECT_TRUE(wait_until(
      [&] {
        bad = t.bad_blobs(run);
        return bad.empty();
      },
      20s))
      << "still not the ledger's: " << bad.front() << "\n"
      << t.model_log();
  // The final model, damaged after the run: the nodes keep it, and put it back.
  ASSERT_FALSE(run["models"].empty());
  flip_byte(t.blob(run["models"][run["models"].size() - 1]));
  EXPECT_TRUE(wait_until(
      [&] {
        bad = t.bad_blobs(run);
        return bad.empty();
      },
      20s))
      << "still not the ledger's: " << bad.front() << "\n"
      << t.model_log();
  const json st = run_status_json(t.net->nodes()[1].admin_url);
  ASSERT_FALSE(st.is_discarded());
  EXPECT_EQ(st["runs"][0]["final_model"]["store"], "ok") << dump(st["runs"][0]["final_model"]);
  ASSERT_TRUE(t.net->down());
  expect_identical_verified_ledgers(t.ledgers());
}

TEST(Durability, AnOlderBlobInTheHeadsPlaceIsRepairedWhenEveryNodeRestarts) {
  Net t("swap", 2, 400, 40, /*model_check_s=*/0);
  ASSERT_TRUE(t.net->ok()) << t.net->error();
  json run;
  ASSERT_TRUE(wait_until(
      [&] {
        run = t.run(0);
        return !run.is_null() && run["models"].size() >= 2;
      },
      90s))
      << "not two approved models: " << dump(run);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(t.net->stop(i));
  // The most advanced ledger names the head the nodes will load on restart.
  json latest;
  for (int i = 0; i < 4; ++i) {
    auto disk = api::read_training_status({.data_dir = t.net->nodes()[i].data_dir.string()});
    ASSERT_TRUE(disk.ok()) << disk.error().message;
    const json* r = api::select_run(*disk, "swap");
    ASSERT_NE(r, nullptr);
    if (latest.is_null() || (*r)["models"].size() > latest["models"].size()) latest = *r;
  }
  ASSERT_EQ(latest["status"], "active") << "the run ended before the nodes stopped";
  const json& models = latest["models"];
  const json head = models[models.size() - 1], older = models[models.size() - 2];
  fs::copy_file(t.blob(older), t.blob(head), fs::copy_options::overwrite_existing);
  ASSERT_EQ(t.bad_blobs(latest).size(), 1u);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(t.net->start(i));

  ASSERT_TRUE(wait_until(
      [&] {
        run = t.run(0);
        return !run.is_null() && run["status"] == "finished";
      },
      120s))
      << "the run did not finish: " << dump(run);
  expect_no_turn_lost_to_a_deadline(run);
  std::vector<std::string> bad;
  EXPECT_TRUE(wait_until(
      [&] {
        bad = t.bad_blobs(run);
        return bad.empty();
      },
      20s))
      << "still not the ledger's: " << bad.front() << "\n"
      << t.model_log();
  const json st = run_status_json(t.net->nodes()[2].admin_url);
  ASSERT_FALSE(st.is_discarded());
  EXPECT_EQ(st["runs"][0]["final_model"]["store"], "ok") << dump(st["runs"][0]["final_model"]);
  ASSERT_TRUE(t.net->down());
  expect_identical_verified_ledgers(t.ledgers());
}

testing::RunResult models_repair(const Net& t, const std::vector<std::string>& urls) {
  std::vector<std::string> args{"models", "repair", "--run", t.run_id, "--json"};
  for (const auto& u : urls) args.insert(args.end(), {"--node", u});
  return testing::run_baton(args);
}

TEST(Durability, ModelsRepairPutsBackEveryApprovedBlobFromTheNodesCopies) {
  // hospital-d takes no part (no [training]): the run waits at its turn
  // until the load deadline, with turns 0-2 done and the run still active.
  // The routine checks are made rare so that only `models repair` restores.
  Net t("repair", 1, 5, 24, /*model_check_s=*/600, {"hospital-a", "hospital-b", "hospital-c"});
  ASSERT_TRUE(t.net->ok()) << t.net->error();
  json run;
  ASSERT_TRUE(wait_until(
      [&] {
        run = t.run(0);
        return !run.is_null() && run["turns"].size() == 4 &&
               run["turns"][3]["phase"] == "awaiting_load_request";
      },
      90s))
      << "the run did not reach hospital-d's turn: " << dump(run);
  // Each agent checks the store's copy of a new head when it processes the
  // view that shows it; let them finish that before the blobs go, so that
  // only `models repair` can put them back.
  const std::uint64_t turn3 = run["turns"][3]["start_height"];
  const json nodes = json::parse(read_text(t.net->net_dir() / "nodes.json"));
  for (const auto& n : nodes) {
    if (n["agent_config"] == "") continue;
    auto agent = api::HttpClient::connect_to(n["agent_url"].get<std::string>(), 5s);
    ASSERT_TRUE(agent.ok());
    ASSERT_TRUE(wait_until(
        [&] {
          auto r = (*agent)->get("/status");
          if (!r || r->status != 200) return false;
          return json::parse(r->body).value("processed_height", std::uint64_t{0}) >= turn3;
        },
        30s))
        << n["name"] << "'s agent did not process the view of turn 3's start";
  }
  const json models = run["models"];
  ASSERT_GE(models.size(), 2u) << dump(run);
  for (const auto& m : models) ASSERT_TRUE(fs::remove(t.blob(m)));

  auto r = models_repair(t, t.urls({0, 1, 2, 3}));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  EXPECT_EQ(out["unrestored"], 0);
  ASSERT_EQ(out["models"].size(), models.size());
  for (const auto& m : out["models"]) {
    EXPECT_EQ(m["status"], "restored") << dump(m);
    EXPECT_EQ(m["before"], "missing") << dump(m);
  }
  // hospital-d keeps no models, and says so; the others did the work.
  EXPECT_TRUE(out["nodes"][3].contains("error")) << dump(out["nodes"]);
  EXPECT_TRUE(t.bad_blobs(run).empty());

  // Once the run is over, the nodes keep its final model only.
  ASSERT_TRUE(wait_until(
      [&] {
        run = t.run(0);
        return !run.is_null() && run["status"] == "finished";
      },
      60s));
  const std::uint64_t end = run["end_height"];
  ASSERT_TRUE(wait_until(
      [&] {
        for (int i = 0; i < 4; ++i)
          if (t.net->height(i) < end + 2) return false;
        return true;
      },
      30s));
  const json final_model = models[models.size() - 1];
  ASSERT_EQ(run["head"], final_model["id"]);
  ASSERT_TRUE(fs::remove(t.blob(final_model)));
  ASSERT_TRUE(fs::remove(t.blob(models[0])));
  // `run status` does not call the run finished while its final model is gone.
  auto text = testing::run_baton({"run", "status", "--node", t.net->nodes()[0].admin_url});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("final model missing from the store: run `baton models repair --run "
                          "repair`"),
            std::string::npos)
      << text.out;
  EXPECT_EQ(text.out.find("(finished, 4/4 turns)"), std::string::npos) << text.out;
  EXPECT_EQ(run_status_json(t.net->nodes()[1].admin_url)["runs"][0]["final_model"]["store"],
            "missing");

  // The final model comes back; turn 0's no node kept: reported, exit 1.
  r = models_repair(t, t.urls({0, 1, 2}));
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_NE(r.err.find("could not be restored"), std::string::npos) << r.err;
  out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  EXPECT_EQ(out["unrestored"], 1);
  EXPECT_EQ(out["models"][0]["status"], "unrestored") << dump(out["models"][0]);
  EXPECT_EQ(out["models"][models.size() - 1]["status"], "restored");
  text = testing::run_baton({"run", "status", "--node", t.net->nodes()[0].admin_url});
  EXPECT_NE(text.out.find("(finished, 4/4 turns)"), std::string::npos) << text.out;

  ASSERT_TRUE(t.net->down());
  expect_identical_verified_ledgers(t.ledgers());
  // From a ledger on disk: checked in the store given, else not called finished.
  const std::string data = t.net->nodes()[3].data_dir.string();
  text = testing::run_baton(
      {"run", "status", "--data-dir", data, "--store", "file://" + t.store.string()});
  EXPECT_NE(text.out.find("(finished, 4/4 turns)"), std::string::npos) << text.out << text.err;
  text = testing::run_baton({"run", "status", "--data-dir", data});
  EXPECT_NE(text.out.find("(finished, 4/4 turns, final model not verified (give --store URI"),
            std::string::npos)
      << text.out << text.err;
  // Turn 3's partner took no part: the ledger says why the turn ended.
  EXPECT_NE(text.out.find("expired (no load request by block"), std::string::npos) << text.out;
}

TEST(Durability, APartnerWhoseDataDoNotLoadGivesUpItsTurnAndRunStatusSaysWhy) {
  // hospital-b's training file lacks the label column: its turn is given up
  // at once, with the reason on the ledger, instead of waiting 40 blocks.
  Net t("nodata", 1, 5, 40, /*model_check_s=*/0, kHospitals, [](const fs::path& data) {
    write_text(data / "hospital-b" / "train.csv", "mean_radius,mean_texture\n1.0,2.0\n");
  });
  ASSERT_TRUE(t.net->ok()) << t.net->error();
  json run;
  ASSERT_TRUE(wait_until(
      [&] {
        run = t.run(0);
        return !run.is_null() && run["status"] == "finished";
      },
      90s))
      << dump(run);
  const json& b = run["turns"][1];
  ASSERT_EQ(b["partner"], "hospital-b");
  EXPECT_EQ(b["decision"], "abandoned") << dump(b);
  EXPECT_EQ(b["abandon"]["reason"], "local_data_unusable") << dump(b);
  EXPECT_TRUE(b["load_request_id"].get<std::string>().empty());
  EXPECT_LT(b["end_height"].get<std::uint64_t>(), b["start_height"].get<std::uint64_t>() + 40);
  for (int i : {0, 2, 3}) EXPECT_NE(run["turns"][i]["decision"], "expired") << i;
  auto text = testing::run_baton({"run", "status", "--node", t.net->nodes()[0].admin_url});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(
      text.out.find("hospital-b: abandoned (the partner gave up its turn: local_data_unusable"),
      std::string::npos)
      << text.out;
  ASSERT_TRUE(t.net->down());
  expect_identical_verified_ledgers(t.ledgers());
}

}  // namespace
}  // namespace baton::integration

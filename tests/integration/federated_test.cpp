// A federated run (issue 15) between four real batond processes and their
// agents: the hospitals train in parallel, round after round, and only the
// sum of their updates is ever unmasked (docs/PROTOCOL.md §21).
//
//   round 0  hospital-d's agent stops taking part once its masked upload is
//            on the ledger (testnet.sh --drop-out: deterministic, where a
//            kill would race the next block), and is then killed: the others
//            reveal their shares of its self-mask seed, the ledger
//            reconstructs it, and the round's aggregate holds all four
//            updates.
//   round 1  three partners (hospital-d never shares again); hospital-d's key
//            (its node is up) sends a RoundUpload for round 7 and a
//            RoundShare for round 0: both refused (wrong_round), with their
//            reasons on the ledger.
//   round 2  hospital-c's masked upload is changed in the store as soon as
//            it is written (its RoundUpload names the bytes it wrote): the
//            aggregator finds it does not match its hash, says so on the
//            ledger (a complaint, which ends nothing), and the round expires
//            with no candidate.
//   round 3  three partners again: approved.
//
// Every candidate is the FedAvg of its round's uploads, recomputed by every
// voter before it measures it; the ledgers are identical and verified.
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "api/training_json.h"
#include "chain/proto/ledger.pb.h"
#include "tests/integration/ledgers.h"
#include "tests/integration/run_plans.h"
#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::read_text;
using testing::run_baton;
using testing::RunResult;
using testing::wait_until;
using testing::write_text;

fs::path write_plan(const fs::path& dir, const fs::path& split_dir) {
  // Sharing waits out its deadline once a partner is gone: kept short. Round
  // 0 begins only once every agent said it is ready (§22), however long the
  // four agents take to start on a loaded machine, so that all four share
  // and upload in it.
  json plan = base_plan(split_dir, "fed", kHospitals, 4, 5, 30);
  plan["deadlines"]["load_blocks"] = 16;
  plan["deadlines"]["ready_blocks"] = 240;
  plan["mode"] = "federated";
  plan["federated"] = {{"rounds", 4}, {"local_epochs", 5}, {"min_partners", 3}, {"threshold", 3}};
  plan.erase("cycles");
  plan["training"].erase("epochs");
  const fs::path p = dir / "fed-plan.json";
  write_text(p, plan.dump(2));
  return p;
}

const json& round_of(const json& turn) { return turn.at("round"); }

bool round_has(const json& turn, const char* what, const std::string& name) {
  if (!turn.contains("round")) return false;
  const json& list = round_of(turn).at(what);
  if (list.is_object()) return list.contains(name);
  for (const auto& n : list)
    if (n == name) return true;
  return false;
}

TEST(Federated, RoundsSurviveADropoutRefuseAttacksAndComplainAboutATamperedUpload) {
  testing::TempDir dir("baton-federated");
  const fs::path store = dir.path() / "store";
  fs::create_directories(store);
  const fs::path data = split_breast_cancer(dir.path());
  TestnetOptions o;
  o.names = kHospitals;
  o.chain_id = "baton-federated";
  o.plan = write_plan(dir.path(), data);
  o.store = "file://" + store.string();
  o.data = data;
  o.drop_out = "hospital-d";
  Testnet net(o);
  ASSERT_TRUE(net.ok()) << net.error();
  const int d = net.index_of("hospital-d");
  auto run = [&] {
    auto st = net.training(0);
    const json* r = st ? api::select_run(*st, "fed") : nullptr;
    return r ? *r : json(nullptr);
  };
  auto turn = [&](const json& r, std::size_t k) -> const json* {
    return r.is_object() && r["turns"].size() > k ? &r["turns"][k] : nullptr;
  };
  json r;

  // Round 0: hospital-d drops out right after its upload; then its agent dies.
  ASSERT_TRUE(wait_until(
      [&] {
        r = run();
        const json* t = turn(r, 0);
        return t && round_has(*t, "uploads", "hospital-d");
      },
      120s))
      << r.dump(2).substr(0, 3000);
  ASSERT_TRUE(net.stop(d, true, Testnet::Process::agent));

  // Once round 1 began, hospital-d's key plays the attacker.
  ASSERT_TRUE(wait_until(
      [&] {
        r = run();
        return turn(r, 1) != nullptr;
      },
      120s))
      << r.dump(2).substr(0, 3000);
  chain::pb::RoundUpload other_round;
  other_round.set_run_id("fed");
  other_round.set_round(7);
  other_round.set_object_key("runs/fed/rounds/7/hospital-d.masked");
  other_round.set_masked_sha256(std::string(32, '\x01'));
  other_round.set_weight(100);
  std::string why;
  const std::string upload_tx =
      net.submit_tx(d, d, chain::pb::TX_ROUND_UPLOAD, other_round.SerializeAsString(), &why);
  ASSERT_FALSE(upload_tx.empty()) << why;
  ASSERT_TRUE(wait_until([&] { return net.committed(d, upload_tx); }, 30s));
  chain::pb::RoundShare late;
  late.set_run_id("fed");
  late.set_round(0);
  const std::string share_tx =
      net.submit_tx(d, d, chain::pb::TX_ROUND_SHARE, late.SerializeAsString(), &why);
  ASSERT_FALSE(share_tx.empty()) << why;
  ASSERT_TRUE(wait_until([&] { return net.committed(d, share_tx); }, 30s));

  // Round 2: hospital-c's masked update is changed in the store as soon as
  // it is there (the file store renames a complete object into place).
  const fs::path file = store / "runs" / "fed" / "rounds" / "2" / "hospital-c.masked";
  ASSERT_TRUE(wait_until([&] { return fs::exists(file); }, 120s));
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f) << file;
    f.seekg(100);
    const char byte = static_cast<char>(f.get());
    f.seekp(100);
    f.put(static_cast<char>(~byte));  // one masked value, changed
  }

  ASSERT_TRUE(wait_until(
      [&] {
        r = run();
        return r.is_object() && r["status"] == "finished";
      },
      240s))
      << "the federated run did not finish: " << r.dump(2).substr(0, 4000);
  ASSERT_EQ(r["turns"].size(), 4u) << r["turns"].dump(2).substr(0, 4000);
  const json& r0 = r["turns"][0];
  EXPECT_EQ(r0["decision"], "approved") << r0.dump(2);
  // All four updates are in round 0's aggregate, hospital-d's included,
  // although it never revealed a share after its upload.
  for (const auto& h : kHospitals) EXPECT_TRUE(round_has(r0, "uploads", h)) << h;
  EXPECT_FALSE(round_has(r0, "unmasks", "hospital-d")) << r0["round"].dump(2);
  EXPECT_TRUE(round_of(r0)["self_seeds"].contains("hospital-d")) << r0["round"].dump(2);
  EXPECT_FALSE(r0["votes"].is_null());
  for (const auto& v : r0["votes"]) EXPECT_NE(v["voter"], "hospital-d");

  const json& r1 = r["turns"][1];
  EXPECT_EQ(r1["decision"], "approved") << r1.dump(2);
  EXPECT_FALSE(round_has(r1, "shares", "hospital-d"));
  EXPECT_EQ(round_of(r1)["uploads"].size(), 3u);
  std::set<std::string> refused;
  for (const auto& f : r["refusals"]["recent"])
    if (f["sender"] == "hospital-d")
      refused.insert(f["type"].get<std::string>() + ": " + f["reason"].get<std::string>());
  EXPECT_EQ(refused.size(), 2u) << r["refusals"].dump(2);
  for (const auto& f : r["refusals"]["recent"]) {
    if (f["sender"] != "hospital-d") continue;
    EXPECT_TRUE(f["type"] == "TX_ROUND_UPLOAD" || f["type"] == "TX_ROUND_SHARE") << f.dump();
    EXPECT_NE(f["reason"].get<std::string>().find("round"), std::string::npos) << f.dump();
  }

  const json& r2 = r["turns"][2];
  EXPECT_EQ(r2["decision"], "expired") << r2.dump(2);
  EXPECT_TRUE(r2["save_request_id"].get<std::string>().empty()) << r2.dump(2);
  bool complained = false;
  for (const auto& [who, c] : round_of(r2)["complaints"].items())
    if (c["reason"] == "upload_unusable" &&
        c["detail"].get<std::string>().find("hospital-c") != std::string::npos)
      complained = true;
  EXPECT_TRUE(complained) << round_of(r2).dump(2);

  const json& r3 = r["turns"][3];
  EXPECT_EQ(r3["decision"], "approved") << r3.dump(2);
  // Contributors share each approved round's gain; the models name them.
  ASSERT_EQ(r["models"].size(), 3u);
  EXPECT_EQ(r["models"][0]["contributors"].size(), 4u) << r["models"][0].dump(2);
  EXPECT_EQ(r["models"][1]["contributors"].size(), 3u);

  const RunResult status = run_baton({"run", "status", "--node", net.nodes()[0].admin_url});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("federated"), std::string::npos) << status.out;

  ASSERT_TRUE(net.down());
  std::vector<fs::path> ledgers;
  for (const auto& n : net.nodes()) ledgers.push_back(n.data_dir / "ledger");
  expect_identical_verified_ledgers(ledgers);
}

}  // namespace
}  // namespace baton::integration

// Run control on real batond processes (issue 17, docs/PROTOCOL.md §22): a
// plan whose input_shape does not match what the hospitals' data encode to
// ends in seconds, not_ready, with the reason on every node; a duplicate run
// id is refused before anything is signed; an admin cancels a running run
// and every node shows it cancelled with the reason.
#include <gtest/gtest.h>

#include "api/training_json.h"
#include "tests/integration/run_plans.h"
#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::run_baton;
using testing::RunResult;
using testing::wait_until;
using testing::write_text;

json run_on(Testnet& net, int i, const std::string& run_id) {
  auto st = net.training(i);
  const json* r = st ? api::select_run(*st, run_id) : nullptr;
  return r ? *r : json(nullptr);
}

// Every node shows run `run_id` with `status`; `last` holds what the last
// node asked showed.
bool all_show(Testnet& net, const std::string& run_id, const std::string& status, json& last) {
  for (int i = 0; i < static_cast<int>(net.nodes().size()); ++i) {
    last = run_on(net, i, run_id);
    if (last.is_null() || last["status"] != status) return false;
  }
  return true;
}

TEST(RunControl, AMismatchedPlanEndsNotReadyAndAnAdminCancelsARunningOne) {
  testing::TempDir dir("baton-runctl");
  const fs::path data = split_breast_cancer(dir.path());
  const fs::path store = dir.path() / "store";
  fs::create_directories(store);
  TestnetOptions o;
  o.names = kHospitals;
  o.chain_id = "baton-runctl";
  o.store = "file://" + store.string();
  o.data = data;
  Testnet net(o);
  ASSERT_TRUE(net.ok()) << net.error();
  const std::string genesis = (net.net_dir() / "genesis.json").string();
  const std::string key = (net.net_dir() / "keys" / "hospital-a.key").string();
  const std::string node = net.nodes()[0].admin_url;
  auto start = [&](const json& plan) {
    const fs::path p = dir.path() / (plan["run_id"].get<std::string>() + ".json");
    write_text(p, plan.dump(2));
    return run_baton(
        {"run", "start", "--plan", p.string(), "--genesis", genesis, "--key", key, "--node", node});
  };

  // The model takes one input fewer than the data encode to: the ledger and
  // `run start` cannot know it, the agents can.
  json bad = base_plan(data, "mismatch", kHospitals, 1, 1, 40);
  const std::size_t width = bad["dataset"]["feature_columns"].size();
  bad["model"]["input_shape"] = json::array({width - 1});
  const RunResult started = start(bad);
  ASSERT_EQ(started.exit_code, 0) << started.err << started.out;
  json r;
  ASSERT_TRUE(wait_until([&] { return all_show(net, "mismatch", "not_ready", r); }, 30s))
      << r.dump(2).substr(0, 3000);
  EXPECT_TRUE(r["turns"].empty());
  ASSERT_TRUE(r.contains("stop")) << r.dump(2);
  EXPECT_EQ(r["stop"]["cause"], "partner_refused");
  EXPECT_NE(r["stop"]["reason"].get<std::string>().find("width_mismatch"), std::string::npos)
      << r["stop"].dump();
  const std::string refuser = r["stop"]["member"].get<std::string>();
  EXPECT_EQ(r["readiness"]["partners"][refuser]["answer"], "refused");
  // `run status` says why, on every node.
  for (const auto& n : net.nodes()) {
    const RunResult st = run_baton({"run", "status", "--node", n.admin_url, "--run", "mismatch"});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    EXPECT_NE(st.out.find("not_ready"), std::string::npos) << st.out;
    EXPECT_NE(st.out.find("width_mismatch"), std::string::npos) << st.out;
  }

  // The same run id again: refused before signing, never "submitted".
  const RunResult again = start(bad);
  EXPECT_NE(again.exit_code, 0);
  EXPECT_EQ(again.out.find("submitted"), std::string::npos) << again.out;
  EXPECT_NE(again.err.find("already has a run \"mismatch\""), std::string::npos) << again.err;

  // A plan that fits, long enough to still be running when it is cancelled.
  json good = base_plan(data, "good", kHospitals, 50, 1, 40);
  ASSERT_EQ(start(good).exit_code, 0);
  ASSERT_TRUE(wait_until(
      [&] {
        r = run_on(net, 0, "good");
        return !r.is_null() && r["status"] == "active" && !r["turns"].empty();
      },
      30s))
      << r.dump(2).substr(0, 3000);
  for (const auto& [name, p] : r["readiness"]["partners"].items())
    EXPECT_EQ(p["answer"], "ready") << name;
  const std::string reason = "the consortium agreed on a new schema";
  const RunResult cancelled = run_baton({"run", "cancel", "--run", "good", "--reason", reason,
                                         "--genesis", genesis, "--key", key, "--node", node});
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.err << cancelled.out;
  ASSERT_TRUE(wait_until([&] { return all_show(net, "good", "cancelled", r); }, 30s))
      << r.dump(2).substr(0, 3000);
  EXPECT_EQ(r["stop"]["reason"], reason);
  EXPECT_EQ(r["stop"]["member"], "hospital-a");
  EXPECT_NE(r["turns"].back()["decision"], "pending");
  for (const auto& n : net.nodes()) {
    const RunResult st = run_baton({"run", "status", "--node", n.admin_url, "--run", "good"});
    EXPECT_NE(st.out.find("cancelled"), std::string::npos) << st.out;
    EXPECT_NE(st.out.find(reason), std::string::npos) << st.out;
  }
  // A non-admin key cannot cancel (refused locally, before signing).
  const RunResult by_partner =
      run_baton({"run", "cancel", "--run", "good", "--reason", "x", "--genesis", genesis, "--key",
                 (net.net_dir() / "keys" / "hospital-b.key").string(), "--node", node});
  EXPECT_NE(by_partner.exit_code, 0);
}

}  // namespace
}  // namespace baton::integration

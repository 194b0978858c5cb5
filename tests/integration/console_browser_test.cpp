// The web console (node/console.h) in a real browser: four batond processes
// train a short chained run, then headless Chromium (Debian's `chromium`,
// installed by deploy/bootstrap.sh --with-test-tools) logs in with the node's
// admin token and loads every page; the test checks what each page shows
// against the ledger's JSON (GET /block/H, GET /training) and writes
// screenshots.
//
// Screenshots go to $BATON_CONSOLE_SCREENSHOTS when set, else to
// build/test-output/console/ (beside build/bin). Without /usr/bin/chromium
// the test fails (tests/run.sh installs it); it does not skip.
#include <algorithm>
#include <cstdio>

#include <gtest/gtest.h>

#include "api/admin_token.h"
#include "tests/integration/run_plans.h"
#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const fs::path kChromium = "/usr/bin/chromium";

fs::path screenshot_dir() {
  if (const char* dir = std::getenv("BATON_CONSOLE_SCREENSHOTS"); dir && *dir) return dir;
  return testing::bin_path("baton").parent_path().parent_path() / "test-output" / "console";
}

std::string ppm(std::int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", static_cast<double>(v) / 1e6);
  return buf;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

class Browser {
 public:
  Browser(std::string base, std::string token, fs::path profile_root)
      : base_(std::move(base)), token_(std::move(token)), root_(std::move(profile_root)) {}

  // The DOM of console page `path` (e.g. "/console/runs") after a login with
  // ?token= that redirects to it, as Chromium rendered it.
  std::string dom(const std::string& path) {
    auto r = run({"--dump-dom", login_url(path)});
    EXPECT_EQ(r.exit_code, 0) << path << ": " << r.err.substr(0, 2000);
    return r.out;
  }
  // A PNG of the page at `size` ("1280,900").
  void screenshot(const std::string& path, const fs::path& png, const std::string& size) {
    auto r = run({"--screenshot=" + png.string(), "--window-size=" + size, "--hide-scrollbars",
                  login_url(path)});
    EXPECT_EQ(r.exit_code, 0) << path << ": " << r.err.substr(0, 2000);
    EXPECT_TRUE(fs::exists(png)) << png;
  }

 private:
  std::string login_url(const std::string& path) const {
    std::string next;
    for (char c : path) {
      if (c == '/')
        next += "%2F";
      else if (c == '?')
        next += "%3F";
      else if (c == '=')
        next += "%3D";
      else
        next.push_back(c);
    }
    return base_ + "/console/login?token=" + token_ + "&next=" + next;
  }
  testing::RunResult run(std::vector<std::string> args) {
    // A fresh profile per page: nothing carries over but what the login sets.
    const fs::path profile = root_ / ("profile-" + std::to_string(++runs_));
    std::vector<std::string> all{"--headless",     "--no-sandbox",
                                 "--disable-gpu",  "--disable-dev-shm-usage",
                                 "--no-first-run", "--user-data-dir=" + profile.string()};
    all.insert(all.end(), args.begin(), args.end());
    return testing::run_program(kChromium, all, 60s);
  }
  std::string base_;
  std::string token_;
  fs::path root_;
  int runs_ = 0;
};

TEST(ConsoleBrowser, EveryPageShowsWhatTheLedgerSays) {
  ASSERT_TRUE(fs::exists(kChromium))
      << "headless Chromium is missing: install Debian's chromium (deploy/bootstrap.sh "
         "--with-test-tools, or apt-get install chromium); the console's browser test needs it";
  testing::TempDir dir("baton-console");
  const fs::path split = split_breast_cancer(dir.path());
  json plan = base_plan(split, "console-run", kHospitals, 1, 2, 120);
  plan["deadlines"]["vote_blocks"] = 40;
  const fs::path plan_file = dir.path() / "plan.json";
  testing::write_text(plan_file, plan.dump(2));
  fs::create_directories(dir.path() / "store");
  TestnetOptions o;
  o.names = kHospitals;
  o.chain_id = "baton-console";
  o.plan = plan_file;
  o.store = "file://" + (dir.path() / "store").string();
  o.data = split;
  Testnet net(o);
  ASSERT_TRUE(net.ok()) << net.error();

  json run;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        auto st = net.training(0);
        if (!st) return false;
        for (const auto& r : (*st)["runs"])
          if (r["run_id"] == "console-run" && r["status"] == "finished") run = r;
        return !run.is_null();
      },
      150s))
      << "the run did not finish";

  const TestNode& node = net.nodes().at(0);
  auto token = api::read_admin_token(node.config.parent_path() / "admin.token");
  ASSERT_TRUE(token.ok()) << token.error().message;
  Browser browser(node.admin_url, *token, dir.path());
  const fs::path shots = screenshot_dir();
  fs::create_directories(shots);

  // A block with transactions: the first turn's SaveRequest's.
  const json& turn0 = run["turns"][0];
  const std::uint64_t save_height = turn0["save_request_height"];
  const std::string save_tx = turn0["save_request_id"];
  ASSERT_GT(save_height, 0u);

  {  // The block page: its id and every transaction hash, as GET /block/H says.
    const std::string block_id = net.block_id(0, save_height);
    ASSERT_FALSE(block_id.empty());
    const std::string dom = browser.dom("/console/block/" + std::to_string(save_height));
    EXPECT_NE(dom.find("Block " + std::to_string(save_height)), std::string::npos)
        << dom.substr(0, 3000);
    EXPECT_NE(dom.find(block_id), std::string::npos);
    EXPECT_NE(dom.find(save_tx.substr(0, 12)), std::string::npos);
    EXPECT_NE(dom.find("TX_SAVE_REQUEST"), std::string::npos);
  }
  {  // The chain page lists the latest blocks.
    const std::uint64_t height = net.height(0);
    const std::string dom = browser.dom("/console/");
    EXPECT_NE(dom.find("Latest blocks"), std::string::npos) << dom.substr(0, 3000);
    EXPECT_NE(dom.find("/console/block/" + std::to_string(height) + "\""), std::string::npos);
  }
  {  // A transaction, and search by its hash.
    const std::string dom = browser.dom("/console/tx/" + save_tx);
    EXPECT_NE(dom.find("committed in"), std::string::npos) << dom.substr(0, 3000);
    EXPECT_NE(dom.find("block " + std::to_string(save_height)), std::string::npos);
    const std::string found = browser.dom("/console/search?q=" + save_tx);
    EXPECT_NE(found.find("TX_SAVE_REQUEST"), std::string::npos) << found.substr(0, 3000);
  }
  {  // Members: every hospital, the peers connected.
    const std::string dom = browser.dom("/console/members");
    for (const auto& h : kHospitals) EXPECT_NE(dom.find(h), std::string::npos) << h;
    EXPECT_EQ(count(dom, "tag-connected\""), kHospitals.size() - 1) << dom.substr(0, 4000);
  }
  {  // Runs: the run and its status.
    const std::string dom = browser.dom("/console/runs");
    EXPECT_NE(dom.find("/console/run/console-run"), std::string::npos) << dom.substr(0, 3000);
    EXPECT_NE(dom.find("tag-finished\""), std::string::npos);
  }
  {  // The run: each turn's decision, every vote's AUCs, the final head, the graphics.
    const std::string dom = browser.dom("/console/run/console-run");
    std::map<std::string, std::size_t> decisions;
    std::size_t measured_turns = 0;
    for (const auto& t : run["turns"]) {
      ++decisions[t["decision"].get<std::string>()];
      bool measured = false;
      for (const auto& v : t["votes"]) {
        EXPECT_NE(dom.find(ppm(v["auc_candidate_ppm"])), std::string::npos) << v.dump();
        EXPECT_NE(dom.find(ppm(v["auc_head_ppm"])), std::string::npos) << v.dump();
        measured = measured || v["validation_size"].get<std::uint64_t>() > 0;
      }
      measured_turns += measured ? 1 : 0;
    }
    for (const auto& [decision, n] : decisions)
      EXPECT_EQ(count(dom, "tag-" + decision + "\""), n) << decision;
    EXPECT_GT(measured_turns, 0u);
    EXPECT_EQ(count(dom, "class=\"turn-mark\""), measured_turns);
    const std::string head = run["head"];
    ASSERT_FALSE(head.empty());
    EXPECT_NE(dom.find(head), std::string::npos);
    EXPECT_NE(dom.find("final head"), std::string::npos);
    EXPECT_EQ(count(dom, "class=\"model head\""), 1u);
    EXPECT_EQ(count(dom, "class=\"model"), run["models"].size());
    EXPECT_NE(dom.find("class=\"auc-chart\""), std::string::npos);
  }
  {  // Without the login, nothing but the form.
    auto r = testing::run_program(kChromium,
                                  {"--headless", "--no-sandbox", "--disable-gpu",
                                   "--user-data-dir=" + (dir.path() / "anon").string(),
                                   "--dump-dom", node.admin_url + "/console/runs"},
                                  60s);
    EXPECT_NE(r.out.find("name=\"token\""), std::string::npos) << r.out.substr(0, 2000);
    EXPECT_EQ(r.out.find("console-run"), std::string::npos);
  }
  browser.screenshot("/console/run/console-run", shots / "console-run.png", "1280,2200");
  browser.screenshot("/console/", shots / "console-chain.png", "1280,900");
  browser.screenshot("/console/members", shots / "console-members.png", "1280,700");
  std::printf("console screenshots in %s\n", shots.c_str());
}

}  // namespace
}  // namespace baton::integration

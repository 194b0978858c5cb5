// What the training integration tests share (training_test.cpp, the demo
// and the spec audit; training_net_test.cpp, networks the test drives): the
// breast_cancer split, made once per test binary, and the demo-like plan.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/training_json.h"
#include "tests/integration/run_plans.h"
#include "tests/support/test_support.h"

namespace baton::integration {

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str(), nullptr, false);
}

// `baton data split` of breast_cancer among the four hospitals, once.
inline const std::filesystem::path& split_dir() {
  static testing::TempDir dir("baton-split");
  static const std::filesystem::path out = [] {
    const std::filesystem::path p = dir.path() / "split";
    auto r = testing::run_baton(
        {"data", "split", "--csv", (testing::source_dir() / "data" / "breast_cancer.csv").string(),
         "--label", "malignant", "--positive", "1", "--partners",
         "hospital-a,hospital-b,hospital-c,hospital-d", "--seed", "1", "--out", p.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    return p;
  }();
  return out;
}

// A plan like the demo's (MLP 30-64-32, delong 0.05) for `partners`.
inline std::filesystem::path write_plan(const std::filesystem::path& dir, const std::string& run_id,
                                        const std::vector<std::string>& partners, int epochs) {
  nlohmann::json plan = base_plan(split_dir(), run_id, partners, 1, epochs, 120);
  plan["deadlines"]["vote_blocks"] = 40;
  const std::filesystem::path p = dir / (run_id + "-plan.json");
  testing::write_text(p, plan.dump(2));
  return p;
}

inline const nlohmann::json* find_run(const nlohmann::json& status, const std::string& run_id) {
  return api::select_run(status, run_id);
}

inline std::string tail(const std::string& s, std::size_t n = 3000) {
  return s.size() > n ? s.substr(s.size() - n) : s;
}

}  // namespace baton::integration

// `--version` of every program: the project version, the git commit the
// build was configured from (or "unknown" for a tree without git), and the
// LibTorch version where LibTorch is linked (baton-learn, baton-agent and
// the bench programs that train or score models).
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "baton_build_info.h"
#include "tests/cli/cli_fixture.h"

namespace {

using baton::testing::bin_path;
using baton::testing::run_program;
using baton::testing::RunResult;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The libtorch version printed, or "" when there is no such line.
std::string check_version(const std::string& program, bool links_libtorch) {
  const RunResult r = run_program(bin_path(program), {"--version"});
  EXPECT_EQ(r.exit_code, 0) << program << ": " << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  const auto lines = lines_of(r.out);
  EXPECT_EQ(lines.size(), links_libtorch ? 3u : 2u) << r.out;
  if (lines.size() < 2) return "";
  EXPECT_EQ(lines[0], program + " " + BATON_VERSION);
  EXPECT_EQ(lines[1], std::string("commit ") + BATON_GIT_COMMIT);
  EXPECT_TRUE(std::regex_match(lines[1], std::regex("commit ([0-9a-f]{40}|unknown)"))) << lines[1];
  if (!links_libtorch || lines.size() < 3) return "";
  EXPECT_TRUE(std::regex_match(lines[2], std::regex(R"(libtorch [0-9]+\.[0-9]+\.[0-9]+.*)")))
      << lines[2];
  return lines[2];
}

TEST(VersionCli, EveryProgramNamesItsVersionAndCommit) {
  check_version("baton", false);
  check_version("batond", false);
  const std::string learn = check_version("baton-learn", true);
  const std::string agent = check_version("baton-agent", true);
  EXPECT_FALSE(learn.empty());
  EXPECT_EQ(learn, agent);
  // The version is the project's, in the form x.y.z.
  EXPECT_TRUE(
      std::regex_match(std::string(BATON_VERSION), std::regex(R"([0-9]+\.[0-9]+\.[0-9]+)")));
}

TEST(VersionCli, EveryBenchProgramNamesItsVersionAndCommit) {
  // A figure is only comparable between builds one can name. The bench
  // programs that link LibTorch name its version, the same as baton-learn's.
  const std::string learn = check_version("baton-learn", true);
  for (const char* program :
       {"baton-bench-consensus", "baton-bench-ledger", "baton-bench-p2p", "baton-bench-privacy",
        "baton-bench-protocol", "baton-bench-secagg", "baton-bench-vault"})
    check_version(program, false);
  for (const char* program :
       {"baton-bench-candidate", "baton-bench-handoff", "baton_bench_resnet3d"})
    EXPECT_EQ(check_version(program, true), learn) << program;
}

TEST(VersionCli, VersionWithOtherArgumentsIsNotTheVersion) {
  // batond and baton-agent keep their one command line: --version alone.
  const RunResult r = run_program(bin_path("batond"), {"--version", "--config", "x.toml"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

}  // namespace

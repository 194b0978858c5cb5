#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace baton::testing {
namespace {

TEST(CliUsage, UnknownCommandIsUsageErrorWithOneSentence) {
  auto r = run_baton({"no-such-command"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("baton: "), std::string::npos);
  EXPECT_EQ(r.signal, 0);
}

TEST(CliUsage, HelpExitsZero) {
  auto r = run_baton({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("baton"), std::string::npos);
}

// Every bench program answers --help with its usage instead of starting.
TEST(CliUsage, BenchProgramsAnswerHelp) {
  for (const char* bench :
       {"baton-bench-candidate", "baton-bench-consensus", "baton-bench-handoff",
        "baton-bench-ledger", "baton-bench-p2p", "baton-bench-privacy", "baton-bench-protocol",
        "baton-bench-secagg", "baton-bench-vault", "baton_bench_resnet3d"}) {
    for (const char* flag : {"--help", "-h"}) {
      const RunResult r = run_program(bin_path(bench), {flag}, std::chrono::seconds(20));
      EXPECT_EQ(r.exit_code, 0) << bench << " " << flag << ": " << r.err;
      EXPECT_EQ(r.out.rfind(std::string("usage: ") + bench, 0), 0u) << bench << ": " << r.out;
    }
  }
}

}  // namespace
}  // namespace baton::testing

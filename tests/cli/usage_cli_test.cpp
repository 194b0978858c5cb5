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

// A typo'd or missing command names the commands that exist at that level.
TEST(CliUsage, TypoInACommandListsTheCommands) {
  const RunResult typo = run_baton({"run", "stauts", "--json"});
  EXPECT_EQ(typo.exit_code, 2);
  const nlohmann::json j = nlohmann::json::parse(typo.err, nullptr, false);
  ASSERT_TRUE(j.is_object()) << typo.err;
  const std::string message = j.value("error", "");
  EXPECT_NE(message.find("`baton run stauts` is not a command"), std::string::npos) << message;
  EXPECT_NE(message.find("start, status"), std::string::npos) << message;

  const RunResult top = run_baton({"stauts"});
  EXPECT_EQ(top.exit_code, 2);
  EXPECT_EQ(top.err.rfind("baton: `baton stauts` is not a command", 0), 0u) << top.err;
  EXPECT_NE(top.err.find("status"), std::string::npos) << top.err;
  EXPECT_NE(top.err.find("ledger"), std::string::npos) << top.err;

  const RunResult missing = run_baton({"ledger"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err.rfind("baton: `baton ledger` needs a command; the commands of", 0), 0u)
      << missing.err;
  EXPECT_NE(missing.err.find("verify"), std::string::npos) << missing.err;

  // A leaf's arguments are not taken for commands: the usual message.
  const RunResult extra = run_baton({"run", "status", "surplus"});
  EXPECT_EQ(extra.exit_code, 2);
  EXPECT_EQ(extra.err.find("is not a command"), std::string::npos) << extra.err;
}

// Under --json a failure is one JSON object on stderr with the message and
// the exit code; stdout stays empty, as without --json.
TEST(CliUsage, JsonErrorsUnderJson) {
  TempDir tmp;
  const RunResult failed =
      run_baton({"run", "status", "--data-dir", (tmp.path() / "absent").string(), "--json"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_TRUE(failed.out.empty()) << failed.out;
  const nlohmann::json j = nlohmann::json::parse(failed.err, nullptr, false);
  ASSERT_TRUE(j.is_object()) << failed.err;
  EXPECT_EQ(j["exit"], 1);
  EXPECT_NE(j["error"].get<std::string>().find("absent"), std::string::npos) << failed.err;

  const RunResult bad_flag = run_baton({"run", "status", "--no-such-flag", "--json"});
  EXPECT_EQ(bad_flag.exit_code, 2);
  const nlohmann::json b = nlohmann::json::parse(bad_flag.err, nullptr, false);
  ASSERT_TRUE(b.is_object()) << bad_flag.err;
  EXPECT_EQ(b["exit"], 2);

  // Without --json: the sentence.
  const RunResult plain =
      run_baton({"run", "status", "--data-dir", (tmp.path() / "absent").string()});
  EXPECT_EQ(plain.err.rfind("baton: ", 0), 0u) << plain.err;
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

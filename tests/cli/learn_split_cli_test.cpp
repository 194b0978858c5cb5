// `baton` stays free of LibTorch: the commands that need it (experiment,
// bench train, ...) are built into `baton-learn`, which baton execs from its
// own directory with the same argv (tools/learn_commands.h).
#include <algorithm>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/cli/cli_fixture.h"

namespace baton::testing {
namespace {

namespace fs = std::filesystem;

// The DT_NEEDED entries of an ELF file's dynamic section, as readelf prints
// them: "0x... (NEEDED)  Shared library: [libc.so.6]".
std::vector<std::string> needed_libraries(const fs::path& binary) {
  const RunResult r = run_program("/usr/bin/readelf", {"--dynamic", "--wide", binary.string()});
  EXPECT_EQ(r.exit_code, 0) << "readelf (binutils) is needed: " << r.err;
  std::vector<std::string> libs;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.find("(NEEDED)") == std::string::npos) continue;
    const auto open = line.find('[');
    const auto close = line.find(']', open);
    if (open != std::string::npos && close != std::string::npos)
      libs.push_back(line.substr(open + 1, close - open - 1));
  }
  return libs;
}

bool names_libtorch(const std::string& text) {
  // Library names only: a bare "c10" also occurs in ldd's load addresses
  // (0x...bc1059000), which made this check fail at random.
  for (const char* part : {"libtorch", "libc10", "libcaffe2"}) {
    if (text.find(part) != std::string::npos) return true;
  }
  return false;
}

// Neither the dynamic section nor ldd's closure of `binary` names LibTorch.
void expect_no_libtorch(const std::string& binary) {
  const auto libs = needed_libraries(bin_path(binary));
  EXPECT_NE(std::find(libs.begin(), libs.end(), "libc.so.6"), libs.end())
      << "the dynamic section was not read";
  for (const auto& lib : libs) EXPECT_FALSE(names_libtorch(lib)) << binary << ": " << lib;
  // ldd resolves the whole closure of shared libraries the loader would map.
  const RunResult ldd = run_program("/usr/bin/ldd", {bin_path(binary).string()});
  ASSERT_EQ(ldd.exit_code, 0) << ldd.err;
  EXPECT_NE(ldd.out.find("libc.so.6"), std::string::npos) << ldd.out;
  EXPECT_FALSE(names_libtorch(ldd.out)) << binary << ": " << ldd.out;
}

TEST(LearnSplit, BatonNeedsNoLibTorchDirectlyOrThroughItsLibraries) { expect_no_libtorch("baton"); }

// Issue 12: the ledger node is torch-free; the partner agent is the process
// that trains.
TEST(LearnSplit, BatondNeedsNoLibTorchAndBatonAgentDoes) {
  expect_no_libtorch("batond");
  const auto libs = needed_libraries(bin_path("baton-agent"));
  EXPECT_TRUE(std::any_of(libs.begin(), libs.end(), names_libtorch));
}

// The check above would see LibTorch where it is linked.
TEST(LearnSplit, BatonLearnNeedsLibTorch) {
  const auto libs = needed_libraries(bin_path("baton-learn"));
  EXPECT_TRUE(std::any_of(libs.begin(), libs.end(), names_libtorch));
}

TEST(LearnSplit, HelpListsTheCommandsOfBothHalves) {
  const RunResult r = run_baton({"--help"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* command : {"vault", "ledger", "experiment", "bench"})
    EXPECT_NE(r.out.find(command), std::string::npos) << command << " missing from\n" << r.out;
}

TEST(LearnSplit, TorchCommandsRunInBatonLearnWithTheSameArguments) {
  // Only baton-learn's `experiment` knows --dataset; baton's entry is a name.
  const RunResult exp = run_baton({"experiment", "--help"});
  ASSERT_EQ(exp.exit_code, 0) << exp.err;
  EXPECT_NE(exp.out.find("--dataset"), std::string::npos) << exp.out;
  const RunResult bench = run_baton({"bench", "train", "--help"});
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  EXPECT_NE(bench.out.find("--export-split"), std::string::npos) << bench.out;
  // Exit codes and stderr are baton-learn's own.
  expect_one_sentence_failure(run_baton({"bench", "train", "--epochs", "0"}), 2, "--epochs");
}

// Issue 16: `baton models replay|check-vote` run in baton-learn, the other
// `models` commands in baton; `baton models --help` lists them all.
TEST(LearnSplit, ModelsReplayAndCheckVoteRunInBatonLearn) {
  const RunResult help = run_baton({"models", "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  for (const char* command : {"lineage", "get", "repair", "replay", "check-vote"})
    EXPECT_NE(help.out.find(command), std::string::npos) << command << " missing from\n"
                                                         << help.out;
  for (const char* command : {"replay", "check-vote"}) {
    const RunResult r = run_baton({"models", command, "--help"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("--config"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--turn"), std::string::npos) << r.out;
  }
  expect_one_sentence_failure(run_baton({"models", "replay", "--turn", "1"}), 2, "--config");
  const RunResult lineage = run_baton({"models", "lineage", "--help"});
  ASSERT_EQ(lineage.exit_code, 0) << lineage.err;
  EXPECT_EQ(lineage.out.find("--turn"), std::string::npos) << lineage.out;
}

// A copy of baton alone in a directory: its own commands work, the torch ones
// fail with one sentence naming what is missing.
TEST(LearnSplit, WithoutBatonLearnBesideItBatonSaysWhatIsMissing) {
  TempDir dir;
  const fs::path baton = dir / "baton";
  fs::copy_file(bin_path("baton"), baton);
  fs::permissions(baton, fs::perms::owner_all);
  const RunResult own = run_program(baton, {"vault", "--help"});
  EXPECT_EQ(own.exit_code, 0) << own.err;
  const RunResult missing = run_program(baton, {"experiment", "--dataset", "iris"});
  expect_one_sentence_failure(missing, 1, (dir / "baton-learn").string() + " does not exist");
  // Present but not executable.
  write_text(dir / "baton-learn", "#!/bin/sh\nexit 0\n");
  fs::permissions(dir / "baton-learn", fs::perms::owner_read | fs::perms::owner_write);
  const RunResult denied = run_program(baton, {"experiment", "--dataset", "iris"});
  expect_one_sentence_failure(denied, 1, "cannot run");
}

}  // namespace
}  // namespace baton::testing

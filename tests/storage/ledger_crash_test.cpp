// Crash safety: a child process appends valid blocks with synced writes and is
// SIGKILLed at random moments. After every kill the ledger must open, verify
// from genesis, end in a complete block, and hold every height the child
// reported as acknowledged (printed only after append() returned).
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "ledger_test_chain.h"
#include "storage/ledger_store.h"
#include "storage/ledger_verify.h"
#include "tests/support/test_support.h"

namespace baton::storage {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The highest "acked H" line in the child's log; a torn last line is ignored.
std::uint64_t highest_acked(const fs::path& log) {
  std::ifstream in(log);
  std::string line;
  std::uint64_t highest = 0;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: the write was cut short
    if (line.rfind("acked ", 0) == 0)
      highest = std::max<std::uint64_t>(highest, std::stoull(line.substr(6)));
  }
  return highest;
}

TEST(LedgerCrash, KilledWriterLeavesAVerifiableLedgerWithEveryAcknowledgedBlock) {
  baton::testing::TempDir tmp;
  const auto consortium = testing::make_test_consortium(4);
  testing::write_consortium(consortium, tmp / "consortium");
  const fs::path data = tmp / "ledger";

  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::uniform_int_distribution<int> delay_ms(0, 200);

  std::uint64_t acked_total = 0;
  std::uint64_t previous_tip = 0;
  constexpr int kKills = 24;
  for (int round = 0; round < kKills; ++round) {
    const fs::path log = tmp / ("writer-" + std::to_string(round) + ".log");
    {
      baton::testing::ChildProcess child(baton::testing::bin_path("baton-crash-writer"),
                                         {(tmp / "consortium").string(), data.string()}, log);
      // Even rounds kill at any moment, often while the child opens and
      // verifies the ledger; odd rounds wait until it is appending.
      if (round % 2 == 1) {
        ASSERT_TRUE(
            baton::testing::wait_until([&] { return highest_acked(log) > previous_tip; }, 20s))
            << "the writer acknowledged nothing; its log:\n"
            << std::ifstream(log).rdbuf();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
      ASSERT_TRUE(child.running()) << "the writer exited early; its log:\n"
                                   << std::ifstream(log).rdbuf();
      child.kill_hard();
    }
    const std::uint64_t acked = highest_acked(log);
    acked_total += acked > previous_tip ? acked - previous_tip : 0;

    auto store = LedgerStore::open_writer({.dir = data,
                                           .genesis_hash = consortium.spec.genesis_hash,
                                           .genesis_document = consortium.genesis_text});
    ASSERT_TRUE(store.ok()) << "round " << round << ": " << store.error().message;
    auto verdict = verify_ledger(**store, consortium.spec);
    ASSERT_TRUE(verdict.ok()) << verdict.error().message;
    ASSERT_TRUE(verdict->ok()) << "round " << round << ", height " << verdict->reason().height
                               << ": " << verdict->reason().what;
    const Tip tip = (*store)->tip();
    EXPECT_GE(tip.height, acked) << "round " << round << ": acknowledged height " << acked
                                 << " was lost";
    EXPECT_GE(tip.height, previous_tip) << "round " << round << ": the tip went backwards";
    EXPECT_EQ(verdict->value().state.height, tip.height);
    previous_tip = tip.height;
  }
  // Every odd round killed a child that had acknowledged new blocks.
  EXPECT_GE(acked_total, static_cast<std::uint64_t>(kKills / 2));
  std::cout << "[ crash    ] " << kKills << " kills, tip " << previous_tip << ", seed " << seed
            << "\n";
}

// What `baton ledger verify` does while batond runs: a reader in another
// process opens the ledger, verifies a consistent prefix, and catches up.
TEST(LedgerCrash, ReaderVerifiesWhileAnotherProcessAppends) {
  baton::testing::TempDir tmp;
  const auto consortium = testing::make_test_consortium(4);
  testing::write_consortium(consortium, tmp / "consortium");
  const fs::path log = tmp / "writer.log";
  baton::testing::ChildProcess child(baton::testing::bin_path("baton-crash-writer"),
                                     {(tmp / "consortium").string(), (tmp / "ledger").string()},
                                     log);
  ASSERT_TRUE(baton::testing::wait_until([&] { return highest_acked(log) >= 3; }, 30s))
      << std::ifstream(log).rdbuf();

  auto reader = LedgerStore::open_reader(tmp / "ledger");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  const std::uint64_t first_tip = (*reader)->tip().height;
  EXPECT_GE(first_tip, 3u);
  auto verdict = verify_ledger(**reader, consortium.spec);
  ASSERT_TRUE(verdict.ok()) << verdict.error().message;
  ASSERT_TRUE(verdict->ok()) << "height " << verdict->reason().height << ": "
                             << verdict->reason().what;
  EXPECT_EQ(verdict->value().state.height, first_tip);

  ASSERT_TRUE(baton::testing::wait_until([&] { return highest_acked(log) >= first_tip + 3; }, 30s));
  ASSERT_TRUE((*reader)->catch_up().ok());
  EXPECT_GE((*reader)->tip().height, first_tip + 3);
  auto again = verify_ledger(**reader, consortium.spec);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->ok()) << "height " << again->reason().height << ": " << again->reason().what;
  EXPECT_TRUE(child.running());
}

}  // namespace
}  // namespace baton::storage

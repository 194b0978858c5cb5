// The decisions of a storage halt (node/storage_faults.h): halt once, log
// once per interval with a count, retry with a growing pause, resume.
#include <gtest/gtest.h>

#include "node/storage_faults.h"

namespace baton::node {
namespace {

const StorageFaultOptions kOptions{10'000, 500, 4'000};
constexpr std::string_view kFull = "No space left on device";

TEST(StorageFaults, TheFirstFailureHaltsWithItsReasonAndIsLogged) {
  StorageFaults f(kOptions);
  EXPECT_FALSE(f.halted());
  auto line = f.on_failure(StorageArea::ledger, kFull, 1'000);
  ASSERT_TRUE(line.has_value());
  EXPECT_NE(line->find("halted"), std::string::npos);
  EXPECT_NE(line->find("No space left on device"), std::string::npos);
  EXPECT_TRUE(f.halted());
  EXPECT_EQ(f.area(), StorageArea::ledger);
  EXPECT_EQ(f.reason(), "ledger: No space left on device");
  // A later failure elsewhere does not replace the reason.
  (void)f.on_failure(StorageArea::checkpoint, "Input/output error", 1'100);
  EXPECT_EQ(f.reason(), "ledger: No space left on device");
}

TEST(StorageFaults, RepeatedFailuresAreLoggedOncePerIntervalWithACount) {
  StorageFaults f(kOptions);
  ASSERT_TRUE(f.on_failure(StorageArea::ledger, kFull, 0).has_value());
  // 15 a second for 9 s: nothing more is logged...
  int logged = 0;
  for (std::uint64_t t = 66; t < 9'999; t += 66) {
    if (f.on_failure(StorageArea::ledger, kFull, t)) ++logged;
  }
  EXPECT_EQ(logged, 0);
  // ...until the interval has passed: one line that counts them.
  auto line = f.on_failure(StorageArea::ledger, kFull, 10'000);
  ASSERT_TRUE(line.has_value());
  EXPECT_NE(line->find("[151 similar errors in the last 10 s not logged]"), std::string::npos)
      << *line;
  EXPECT_EQ(f.failures(), 153u);
  EXPECT_FALSE(f.on_failure(StorageArea::ledger, kFull, 10'001).has_value());
}

TEST(StorageFaults, RetriesWithADoublingPauseUpToTheMaximum) {
  StorageFaults f(kOptions);
  (void)f.on_failure(StorageArea::signer_state, kFull, 1'000);
  EXPECT_FALSE(f.retry_due(1'499));
  EXPECT_TRUE(f.retry_due(1'500));
  std::uint64_t now = 1'500;
  const std::uint64_t expected_pauses[] = {1'000, 2'000, 4'000, 4'000};
  for (const std::uint64_t pause : expected_pauses) {
    (void)f.on_retry_failed(kFull, now);
    EXPECT_FALSE(f.retry_due(now + pause - 1)) << pause;
    EXPECT_TRUE(f.retry_due(now + pause)) << pause;
    now += pause;
  }
}

TEST(StorageFaults, RecoveryEndsTheHaltAndAFreshFailureHaltsAgain) {
  StorageFaults f(kOptions);
  (void)f.on_failure(StorageArea::checkpoint, kFull, 0);
  (void)f.on_retry_failed(kFull, 500);
  const std::string line = f.on_recovered(20'000);
  EXPECT_NE(line.find("after 20 s and 2 failed writes or attempts"), std::string::npos) << line;
  EXPECT_FALSE(f.halted());
  EXPECT_TRUE(f.reason().empty());
  EXPECT_FALSE(f.retry_due(1'000'000));
  // A new halt logs at once again, whatever the interval.
  auto again = f.on_failure(StorageArea::ledger, kFull, 20'100);
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(again->find("halted"), std::string::npos);
  EXPECT_EQ(f.failures(), 1u);
}

}  // namespace
}  // namespace baton::node

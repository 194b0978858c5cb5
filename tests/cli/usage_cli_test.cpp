#include <gtest/gtest.h>

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

}  // namespace
}  // namespace baton::testing

// The admin API's bearer token file (api/admin_token.h, issue 12).
#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "api/admin_token.h"
#include "tests/support/test_support.h"

namespace baton::api {
namespace {

namespace fs = std::filesystem;

TEST(AdminToken, IsCreatedOnceWithMode0600AndReadBackTheSame) {
  testing::TempDir dir("baton-token");
  const fs::path path = dir.path() / "admin.token";
  auto made = load_or_create_admin_token(path);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto again = load_or_create_admin_token(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *made);
  EXPECT_EQ(*read_admin_token(path), *made);
  // Another file gets another token.
  EXPECT_NE(*load_or_create_admin_token(dir.path() / "other" / "admin.token"), *made);
}

TEST(AdminToken, RefusesAFileOthersMayReadAndOneThatIsNoToken) {
  testing::TempDir dir("baton-token");
  const fs::path path = dir.path() / "admin.token";
  ASSERT_TRUE(load_or_create_admin_token(path).ok());
  ::chmod(path.c_str(), 0644);
  auto open = read_admin_token(path);
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message.find("chmod 600"), std::string::npos) << open.error().message;
  EXPECT_FALSE(load_or_create_admin_token(path).ok());  // never silently replaced

  const fs::path other = dir.path() / "key.json";
  { std::ofstream(other) << "{\"format\": \"baton-key-v1\"}\n"; }
  ::chmod(other.c_str(), 0600);
  EXPECT_FALSE(read_admin_token(other).ok());
  EXPECT_FALSE(read_admin_token(dir.path() / "missing.token").ok());
}

TEST(AdminToken, BearerMatchesOnlyTheExactToken) {
  const std::string token(64, 'a');
  EXPECT_TRUE(bearer_matches("Bearer " + token, token));
  EXPECT_FALSE(bearer_matches("Bearer " + token + "a", token));
  EXPECT_FALSE(bearer_matches("Bearer " + token.substr(1), token));
  EXPECT_FALSE(bearer_matches("bearer " + token, token));
  EXPECT_FALSE(bearer_matches(token, token));
  EXPECT_FALSE(bearer_matches("", token));
  EXPECT_FALSE(bearer_matches("Bearer ", ""));  // an empty token never matches
}

TEST(AdminToken, OnlyLoopbackAddressesCountAsLoopback) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.3.2.1"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  EXPECT_FALSE(is_loopback_host("node-a.lan"));
  EXPECT_FALSE(is_loopback_host("127.0.0.1.evil.example"));
}

}  // namespace
}  // namespace baton::api

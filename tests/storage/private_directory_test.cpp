// storage::make_private_directory: the data directory and the agent's work
// directory are made for their owner only.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "storage/secret_file.h"

namespace baton::storage {
namespace {

namespace fs = std::filesystem;

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

class PrivateDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("baton-private-dir-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(PrivateDirectoryTest, MakesANewOneWithParentsForItsOwnerOnlyWhateverTheUmask) {
  const mode_t old = ::umask(0);  // a umask that takes nothing away
  auto made = make_private_directory(root_ / "a" / "b" / "data");
  ::umask(old);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_TRUE(made->created);
  EXPECT_FALSE(made->open_to_others);
  EXPECT_EQ(mode_of(root_ / "a" / "b" / "data"), 0700u);
  EXPECT_EQ(made->mode, 0700u);
}

TEST_F(PrivateDirectoryTest, LeavesAnExistingOneAsItIsAndSaysWhenOthersMayEnterIt) {
  const fs::path open = root_ / "open";
  fs::create_directory(open);
  ::chmod(open.c_str(), 0750);
  auto used = make_private_directory(open);
  ASSERT_TRUE(used.ok()) << used.error().message;
  EXPECT_FALSE(used->created);
  EXPECT_TRUE(used->open_to_others);
  EXPECT_EQ(used->mode, 0750u);
  EXPECT_EQ(mode_of(open), 0750u) << "the operator's mode was changed";

  const fs::path closed = root_ / "closed";
  fs::create_directory(closed);
  ::chmod(closed.c_str(), 0700);
  auto again = make_private_directory(closed);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->open_to_others);
}

TEST_F(PrivateDirectoryTest, RefusesAFileInItsPlace) {
  std::ofstream(root_ / "data") << "not a directory";
  auto refused = make_private_directory(root_ / "data");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("not a directory"), std::string::npos)
      << refused.error().message;
}

// Issue 17: a secret key file that group or others may read or write is
// refused as ssh refuses one, with its name, its mode and the fix; the
// check is on the descriptor read, so a swap after a check cannot slip by.
TEST_F(PrivateDirectoryTest, ASecretFileOthersMayReadOrWriteIsRefusedNamingItsModeAndTheFix) {
  const fs::path key = root_ / "hospital-a.key";
  std::ofstream(key) << "{\"format\": \"baton-key-v1\"}";
  for (const unsigned mode : {0644u, 0640u, 0604u, 0620u, 0602u, 0610u, 0666u}) {
    ASSERT_EQ(::chmod(key.c_str(), mode), 0);
    auto r = read_secret_file(key);
    ASSERT_FALSE(r) << std::oct << mode;
    const std::string& m = r.error().message;
    EXPECT_NE(m.find(key.string()), std::string::npos) << m;
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", mode);
    EXPECT_NE(m.find(std::string("mode ") + octal), std::string::npos) << m;
    EXPECT_NE(m.find("chmod 600 " + key.string()), std::string::npos) << m;
  }
  for (const unsigned mode : {0600u, 0400u}) {
    ASSERT_EQ(::chmod(key.c_str(), mode), 0);
    auto r = read_secret_file(key);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->view(), "{\"format\": \"baton-key-v1\"}");
  }
  // A file that is no secret (a TLS certificate) is read whatever its mode.
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  EXPECT_TRUE(read_secret_file(key, 64 * 1024, SecretFileAccess::any));
}

}  // namespace
}  // namespace baton::storage

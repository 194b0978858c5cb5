// storage::make_private_directory: the data directory and the agent's work
// directory are made for their owner only.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

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

}  // namespace
}  // namespace baton::storage

// storage::AtomicFile, the one writer of files that hold secrets (key files
// through tools' write_file_atomic, opened model blobs, the node's signer
// record): what other local users can and cannot do to it.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "storage/byte_stream.h"
#include "tests/support/test_support.h"

namespace baton::storage {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

Status write_whole(const fs::path& path, std::string_view text, bool overwrite, unsigned mode) {
  auto f = AtomicFile::create(path, overwrite, mode);
  if (!f) return f.error();
  if (auto s = (*f)->write(chain::as_bytes(text)); !s) return s;
  return (*f)->commit();
}

struct stat lstat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

TEST(AtomicFile, NewFileHasTheModeAskedForAndOnlyThatName) {
  TempDir dir;
  ASSERT_TRUE(write_whole(dir / "secret", "s3cret", false, 0600));
  const struct stat st = lstat_of(dir / "secret");
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(st.st_nlink, 1u) << "no second name (a temporary one) may point at the secret";
  EXPECT_EQ(read_text(dir / "secret"), "s3cret");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(AtomicFile, NeverWritesThroughASymlinkPlantedAtThePath) {
  TempDir dir;
  write_text(dir / "readable-by-others", "");
  fs::create_symlink(dir / "readable-by-others", dir / "secret");
  auto s = write_whole(dir / "secret", "s3cret", false, 0600);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("already exists"), std::string::npos) << s.error().message;
  EXPECT_EQ(read_text(dir / "readable-by-others"), "");
  // A dangling symlink is refused the same way (linkat does not follow it).
  fs::remove(dir / "readable-by-others");
  EXPECT_FALSE(write_whole(dir / "secret", "s3cret", false, 0600));
  EXPECT_FALSE(fs::exists(dir / "readable-by-others"));
}

TEST(AtomicFile, ReplacingASymlinkReplacesTheLinkNotItsTarget) {
  TempDir dir;
  write_text(dir / "target", "keep");
  fs::create_symlink(dir / "target", dir / "record");
  ASSERT_TRUE(write_whole(dir / "record", "new", true, 0600));
  EXPECT_EQ(read_text(dir / "target"), "keep");
  const struct stat st = lstat_of(dir / "record");
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(read_text(dir / "record"), "new");
}

}  // namespace
}  // namespace baton::storage

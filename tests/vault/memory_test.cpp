// The vault's memory stays bounded whatever the blob size: sealing and
// opening 512 MiB in a process that does only that peaks under 128 MiB
// resident (measured from outside with wait4). The `baton` CLI's own figure,
// which includes LibTorch's start-up, is checked in tests/cli/vault_cli_test.cpp.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/test_support.h"

extern char** environ;

namespace baton::testing {
namespace {

namespace fs = std::filesystem;

// Exit status and peak resident set (KiB) of one child, from wait4().
std::pair<int, long> run_measuring_rss(const std::vector<std::string>& args) {
  std::vector<std::string> s = args;
  std::vector<char*> argv;
  for (auto& a : s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return {-1, 0};
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) != pid) return {-1, 0};
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, usage.ru_maxrss};
}

TEST(VaultMemory, SealingAndOpening512MiBPeakUnder128MiB) {
  TempDir dir;
  const fs::path big = dir / "big.bin";
  {
    const int fd = ::open(big.c_str(), O_CREAT | O_WRONLY, 0644);  // sparse: zeros, instantly
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 512ll << 20), 0);
    ::close(fd);
  }
  const std::string probe = bin_path("baton_vault_probe").string();
  auto [seal_rc, seal_kib] =
      run_measuring_rss({probe, "seal", big.string(), (dir / "big.blob").string()});
  ASSERT_EQ(seal_rc, 0);
  fs::remove(big);
  EXPECT_EQ(fs::file_size(dir / "big.blob"), (512ull << 20) + 56 + 512 * 16);
  EXPECT_LT(seal_kib, 128 * 1024) << "sealing 512 MiB peaked at " << seal_kib / 1024 << " MiB";
  auto [open_rc, open_kib] =
      run_measuring_rss({probe, "open", (dir / "big.blob").string(), (dir / "big.out").string()});
  ASSERT_EQ(open_rc, 0);
  EXPECT_LT(open_kib, 128 * 1024) << "opening 512 MiB peaked at " << open_kib / 1024 << " MiB";
  EXPECT_EQ(fs::file_size(dir / "big.out"), 512ull << 20);
}

}  // namespace
}  // namespace baton::testing

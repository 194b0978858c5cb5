// A full disk under one real batond of four (issue 11, §2): the node halts
// with the reason in /status and /metrics, logs the failure rarely, resumes
// by itself once space returns, catches up by block sync, and every ledger
// ends identical and verified. The disk is a small tmpfs mounted under the
// node's data directory, so these tests need root (they skip otherwise).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "tests/integration/ledgers.h"
#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::wait_until;

// Mounts for one test; detached (lazily, so a process still inside does not
// block it) in reverse order when the test ends.
class Mounts {
 public:
  ~Mounts() {
    for (auto it = points_.rbegin(); it != points_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  }
  bool tmpfs(const fs::path& at, const std::string& size, std::string* why) {
    const std::string options = "size=" + size + ",mode=0700";
    return done(::mount("tmpfs", at.c_str(), "tmpfs", 0, options.c_str()), at, why);
  }
  bool bind(const fs::path& from, const fs::path& at, std::string* why) {
    return done(::mount(from.c_str(), at.c_str(), nullptr, MS_BIND, nullptr), at, why);
  }

 private:
  bool done(int rc, const fs::path& at, std::string* why) {
    if (rc != 0) {
      *why = "mount on " + at.string() + " failed: " + std::strerror(errno);
      return false;
    }
    points_.push_back(at);
    return true;
  }
  std::vector<fs::path> points_;
};

// Writes zeros to `path` until the file system is full (ENOSPC).
bool fill(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const std::string block(64 * 1024, '\0');
  int last_errno = 0;
  for (;;) {
    const ssize_t n = ::write(fd, block.data(), block.size());
    if (n <= 0) {
      last_errno = errno;
      break;
    }
  }
  ::fsync(fd);
  ::close(fd);
  return last_errno == ENOSPC;
}

std::size_t count_lines_with(const fs::path& file, const std::string& needle) {
  std::ifstream in(file);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
  return n;
}

std::uint64_t min_height(Testnet& net) {
  std::uint64_t m = UINT64_MAX;
  for (int i = 0; i < static_cast<int>(net.nodes().size()); ++i) m = std::min(m, net.height(i));
  return m;
}

enum class FullDisk { ledger, data_dir };

// Runs the whole story for node4 with the given disk laid out as `which`.
void fill_and_free(FullDisk which) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "mounting a small tmpfs under a node needs root; this test runs as uid "
                 << ::geteuid();
  }
  Testnet net(4);
  ASSERT_TRUE(net.ok()) << net.error();
  Mounts mounts;  // after net: detached before the network goes down
  const int victim = 3;
  const fs::path data = net.nodes()[victim].data_dir;
  const fs::path log = data.parent_path() / "batond.log";
  ASSERT_TRUE(wait_until([&] { return min_height(net) >= 3; }, 20s));

  // Move node4's storage onto a small disk of its own.
  ASSERT_TRUE(net.stop(victim));
  std::string why;
  fs::path full_dir;  // the file system that will fill up
  if (which == FullDisk::ledger) {
    fs::rename(data / "ledger", data / "ledger.disk");
    fs::create_directory(data / "ledger");
    ASSERT_TRUE(mounts.tmpfs(data / "ledger", "4m", &why)) << why;
    fs::copy(data / "ledger.disk", data / "ledger", fs::copy_options::recursive);
    full_dir = data / "ledger";
  } else {
    // The data directory (checkpoint, signer state) on the small disk; the
    // ledger stays on the big one, bind-mounted back into place.
    const fs::path disk = data.parent_path() / "data.disk";
    fs::rename(data, disk);
    fs::create_directory(data);
    ASSERT_TRUE(mounts.tmpfs(data, "1m", &why)) << why;
    for (const auto& entry : fs::directory_iterator(disk)) {
      if (entry.path().filename() != "ledger") {
        fs::copy(entry.path(), data / entry.path().filename(), fs::copy_options::recursive);
      }
    }
    fs::create_directory(data / "ledger");
    ASSERT_TRUE(mounts.bind(disk / "ledger", data / "ledger", &why)) << why;
    full_dir = data;
  }
  ASSERT_TRUE(net.start(victim));
  ASSERT_TRUE(wait_until([&] { return net.height(victim) >= net.height(0); }, 20s));
  const std::uint64_t before = net.height(victim);

  // Fill the disk: the node halts with the reason, and says so everywhere.
  const fs::path filler = full_dir / "filler";
  ASSERT_TRUE(fill(filler));
  std::optional<json> st;
  ASSERT_TRUE(wait_until(
      [&] {
        st = net.status(victim);
        return st && st->value("halted", false);
      },
      20s))
      << "node4 did not halt on a full disk; status " << (st ? st->dump() : "none");
  const std::string cause = st->value("halt_cause", "");
  if (which == FullDisk::ledger) {
    EXPECT_EQ(cause, "ledger") << st->dump();
  } else {
    EXPECT_TRUE(cause == "checkpoint" || cause == "signer_state") << st->dump();
  }
  EXPECT_NE(st->value("halt_reason", "").find("No space left on device"), std::string::npos)
      << st->dump();
  auto cli = testing::run_baton({"status", "--node", net.nodes()[victim].admin_url});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("HALTED"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("No space left on device"), std::string::npos) << cli.out;
  auto metrics = api::HttpClient::connect_to(net.nodes()[victim].admin_url);
  auto m = (*metrics)->get("/metrics");
  ASSERT_TRUE(m.ok());
  EXPECT_NE(m->body.find("baton_halted{node=\"node4\",cause=\"" + cause + "\"} 1"),
            std::string::npos)
      << m->body;

  // The network goes on without it, and its log stays readable: a few lines
  // about the full disk, not one per decided block or per retry.
  const std::uint64_t halted_at = net.height(victim);
  ASSERT_TRUE(wait_until([&] { return net.height(0) >= halted_at + 6; }, 30s))
      << "the other three stopped committing";
  if (which == FullDisk::ledger) {
    // Its retries keep failing while the disk is full: after the log
    // interval (10 s) one line counts those it held back.
    EXPECT_TRUE(
        wait_until([&] { return count_lines_with(log, "similar errors in the last") > 0; }, 30s))
        << "no line counting the failures held back";
  }
  EXPECT_EQ(net.height(victim), halted_at) << "a halted node committed";
  EXPECT_LE(count_lines_with(log, "No space left on device"), 3u) << "a halted node filled its log";

  // Free the space: it resumes by itself and catches up.
  fs::remove(filler);
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = net.status(victim);
        return s && !s->value("halted", true) && net.height(victim) >= net.height(0);
      },
      30s))
      << "node4 did not resume after the disk had space again; status "
      << (net.status(victim) ? net.status(victim)->dump() : "none");
  EXPECT_GE(net.height(victim), before);
  EXPECT_EQ(count_lines_with(log, "storage works again after"), 1u)
      << "the recovery is logged once, with how long it took and how many writes failed";
  auto recovered = (*metrics)->get("/metrics");
  ASSERT_TRUE(recovered.ok());
  EXPECT_NE(recovered->body.find("baton_storage_recoveries_total{node=\"node4\"} "),
            std::string::npos);
  EXPECT_EQ(recovered->body.find("baton_storage_recoveries_total{node=\"node4\"} 0"),
            std::string::npos)
      << recovered->body;
  EXPECT_NE(recovered->body.find("baton_halted{node=\"node4\",cause=\"\"} 0"), std::string::npos)
      << recovered->body;

  // It takes part again: a transaction sent through it commits everywhere.
  std::string sent_why;
  const std::string h = net.submit_note(victim, victim, "after the full disk", &sent_why);
  ASSERT_FALSE(h.empty()) << sent_why;
  ASSERT_TRUE(wait_until(
      [&] {
        for (int i = 0; i < 4; ++i)
          if (!net.committed(i, h)) return false;
        return true;
      },
      20s));

  ASSERT_TRUE(net.down());
  std::vector<fs::path> ledgers;
  for (const auto& n : net.nodes()) ledgers.push_back(n.data_dir / "ledger");
  EXPECT_GT(expect_identical_verified_ledgers(ledgers), before);
}

TEST(DiskFull, ALedgerDiskFullHaltsTheNodeWhichResumesByItselfWhenSpaceReturns) {
  fill_and_free(FullDisk::ledger);
}

TEST(DiskFull, ADataDirectoryFullHaltsTheNodeWhichResumesByItselfWhenSpaceReturns) {
  fill_and_free(FullDisk::data_dir);
}

}  // namespace
}  // namespace baton::integration

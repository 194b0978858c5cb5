// Test helpers: temporary directories that clean up, free loopback ports, and
// child processes that are killed when the test ends. For tests only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace baton::testing {

// A fresh directory under $TMPDIR (or /tmp), removed recursively on
// destruction unless BATON_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "baton-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it
// back, close). Races are possible but rare; callers that start servers should
// retry on "address in use".
int free_port();

// Path of a binary built by this project (build/bin/NAME).
std::filesystem::path bin_path(const std::string& name);

// Repository root (for data/ and deploy/ files).
std::filesystem::path source_dir();

// The first ```json block of docs/PROTOCOL.md after the first line that
// starts with `heading` (e.g. "#### 18.1.1"); empty when there is none. The
// doc's worked examples are tested as they are written.
std::string protocol_json_block(const std::string& heading);

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// Runs a program to completion with stdin closed, capturing stdout and
// stderr. `timeout` kills it (SIGKILL) and reports signal 9.
RunResult run_program(const std::filesystem::path& program, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(120),
                      const std::map<std::string, std::string>& extra_env = {});

// Runs build/bin/baton with the given arguments.
RunResult run_baton(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(120));

// A long-running child process (batond, s3rver). Output goes to `log_path`.
// The destructor sends SIGKILL and reaps it.
class ChildProcess {
 public:
  ChildProcess(const std::filesystem::path& program, const std::vector<std::string>& args,
               const std::filesystem::path& log_path,
               const std::map<std::string, std::string>& extra_env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void kill_hard();  // SIGKILL + reap
  // SIGTERM, then wait up to `grace`; returns the exit code (or -signal).
  int terminate(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// Polls `pred` every 50 ms until it returns true or `timeout` passes.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// True when something accepts TCP connections on 127.0.0.1:port.
bool port_open(int port);

// Whole-file text helpers for tests (binary mode; no error handling: a test
// checks what it reads).
void write_text(const std::filesystem::path& path, const std::string& text);
std::string read_text(const std::filesystem::path& path);

// The kernel's VmFlags for the mapping of this process that holds `address`
// (/proc/self/smaps, e.g. "rd wr mr mw me dd lo": "dd" = left out of core
// dumps, "lo" = locked in RAM), or "" when no mapping holds it.
std::string vm_flags_of(const void* address);

// True when `address` lies in memory the kernel leaves out of core dumps
// ("dd") and, where this process may lock memory (root, or RLIMIT_MEMLOCK of
// 1 MiB or more), keeps out of swap ("lo"): what chain::SecretBytes promises.
// On failure `why` says which flag is missing.
bool in_secret_memory(const void* address, std::string* why = nullptr);

}  // namespace baton::testing

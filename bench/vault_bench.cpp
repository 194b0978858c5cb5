// baton-bench-vault [--dir DIR] [--size-mib N] [--s3-size-mib N] [--no-s3]
//
// Prints, one figure per line:
//   - `openssl speed -evp aes-256-gcm` single core, 16 KiB and 1 MiB blocks
//     (the physical reference: the same AES-GCM code the vault calls);
//   - seal and open of N MiB (default 1024) in memory (generated input,
//     discarded output: AES-GCM + the blob's SHA-256) and file to file
//     (page-cached input, fsynced atomic output), in MB/s (10^6 bytes/s);
//   - peak resident memory of this process while doing so;
//   - S3 put_file/get_file of 256 MiB against s3rver on loopback, beside
//     `aws s3 cp` of the same file to the same server, in seconds.
// s3rver comes from BATON_S3RVER or .cache/npm/node_modules/.bin/s3rver.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_help.h"
#include "storage/byte_stream.h"
#include "storage/object_store.h"
#include "storage/vault.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace baton;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU time of this process (user + system), seconds. `openssl speed` divides
// by user CPU time unless given -elapsed, so on a shared machine the fair
// comparison for a single-threaded phase is bytes per CPU second.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Endless pseudo-random-looking bytes, cheap to make (so the figure is the
// vault's, not the generator's).
class GeneratedSource final : public storage::ByteSource {
 public:
  explicit GeneratedSource(std::uint64_t size) : left_(size) {
    block_.resize(1 << 20);
    chain::random_bytes(block_);
  }
  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, out.size()));
    std::size_t done = 0;
    while (done < n) {
      const std::size_t k = std::min(n - done, block_.size() - pos_);
      std::memcpy(out.data() + done, block_.data() + pos_, k);
      pos_ = (pos_ + k) % block_.size();
      done += k;
    }
    left_ -= n;
    return n;
  }

 private:
  std::vector<std::uint8_t> block_;
  std::size_t pos_ = 0;
  std::uint64_t left_;
};

class DiscardSink final : public storage::ByteSink {
 public:
  Status write(chain::ByteView data) override {
    bytes += data.size();
    return {};
  }
  std::uint64_t bytes = 0;
};

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  ::pclose(p);
  return out;
}

// MB/s from `openssl speed -evp aes-256-gcm -bytes B`: the last line reads
// "AES-256-GCM  12345.67k" in 1000s of bytes per second.
double openssl_speed(std::size_t block, const std::string& algorithm = "aes-256-gcm") {
  const std::string out = run_capture("openssl speed -evp " + algorithm + " -seconds 3 -bytes " +
                                      std::to_string(block) + " 2>/dev/null | tail -1");
  const auto k = out.rfind('k');
  const auto sp = out.rfind(' ', k);
  if (k == std::string::npos || sp == std::string::npos) return 0;
  return std::atof(out.substr(sp + 1, k - sp - 1).c_str()) / 1000.0;
}

long peak_rss_kib() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

void die(const std::string& what, const Error& e) {
  std::cerr << "baton-bench-vault: " << what << ": " << e.message << "\n";
  std::exit(1);
}

void make_file(const fs::path& p, std::uint64_t size) {
  GeneratedSource src(size);
  auto f = storage::AtomicFile::create(p, true);
  if (!f) die("create " + p.string(), f.error());
  std::vector<std::uint8_t> buf(1 << 20);
  for (;;) {
    auto n = src.read(buf);
    if (*n == 0) break;
    if (auto st = (*f)->write(chain::ByteView(buf.data(), *n)); !st) die("write", st.error());
  }
  if (auto st = (*f)->commit(); !st) die("commit", st.error());
}

pid_t spawn(const std::vector<std::string>& args,
            const std::map<std::string, std::string>& extra_env, const std::string& log) {
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
  for (const auto& [k, v] : extra_env) env_s.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_s) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args_c = args;
  for (auto& a : args_c) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

void bench_vault(const fs::path& dir, std::uint64_t size) {
  const double mb = static_cast<double>(size) / 1e6;
  std::cout << "machine load average now: " << run_capture("cut -d' ' -f1-3 /proc/loadavg");
  std::cout << "openssl speed -evp aes-256-gcm, 1 core, 16 KiB blocks (per user-CPU second): "
            << openssl_speed(16384) << " MB/s\n";
  std::cout << "openssl speed -evp aes-256-gcm, 1 core, 1 MiB blocks (per user-CPU second):  "
            << openssl_speed(1 << 20) << " MB/s\n";
  std::cout << "openssl speed -evp sha256, 1 core, 1 MiB blocks (the blob hash): "
            << openssl_speed(1 << 20, "sha256") << " MB/s\n";
  const auto key = storage::DataKey::generate();
  const auto ad = storage::model_associated_data("bench-chain", "model-1", "model-0");

  for (const bool hash : {false, true}) {
    GeneratedSource src(size);
    DiscardSink sink;
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    auto s =
        storage::seal(src, sink, key, ad, storage::SealOptions{storage::kDefaultChunkSize, hash});
    const double t = seconds_since(t0), c = cpu_seconds() - c0;
    if (!s) die("seal", s.error());
    std::cout << "vault seal, memory to memory, " << (hash ? "with" : "without")
              << " blob SHA-256, " << size / (1 << 20) << " MiB: " << mb / c
              << " MB per CPU second; " << mb / t << " MB/s wall (" << t << " s)\n";
  }
  const fs::path plain = dir / "plain.bin", blob = dir / "plain.blob", back = dir / "plain.back";
  make_file(plain, size);
  {
    const auto t0 = Clock::now();
    auto s = storage::seal_file(plain, blob, key, ad, {}, true);
    const double t = seconds_since(t0);
    if (!s) die("seal_file", s.error());
    std::cout << "vault seal_file, file to file (fsync), with blob SHA-256, " << size / (1 << 20)
              << " MiB: " << mb / t << " MB/s (" << t << " s)\n";
  }
  for (const bool hash : {false, true}) {
    auto src = storage::FileSource::open(blob);
    if (!src) die("open blob", src.error());
    DiscardSink sink;
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    auto s = storage::open(**src, sink, key, ad, hash);
    const double t = seconds_since(t0), c = cpu_seconds() - c0;
    if (!s) die("open", s.error());
    std::cout << "vault open, cached file to memory, " << (hash ? "with" : "without")
              << " blob SHA-256, " << size / (1 << 20) << " MiB: " << mb / c
              << " MB per CPU second; " << mb / t << " MB/s wall (" << t << " s)\n";
  }
  {
    const auto t0 = Clock::now();
    storage::OpenOptions options;  // no expected hash: the blob is not hashed
    options.overwrite = true;
    auto s = storage::open_file(blob, back, key, ad, options);
    const double t = seconds_since(t0);
    if (!s) die("open_file", s.error());
    std::cout << "vault open_file, file to file (fsync), without blob SHA-256, " << size / (1 << 20)
              << " MiB: " << mb / t << " MB/s (" << t << " s)\n";
  }
  std::cout << "peak RSS of this process after the vault runs: " << peak_rss_kib() / 1024.0
            << " MiB\n";
  fs::remove(plain);
  fs::remove(blob);
  fs::remove(back);
}

void bench_s3(const fs::path& dir, std::uint64_t size) {
  fs::path s3rver = std::getenv("BATON_S3RVER")
                        ? fs::path(std::getenv("BATON_S3RVER"))
                        : fs::path(BATON_SOURCE_DIR) / ".cache/npm/node_modules/.bin/s3rver";
  if (!fs::exists(s3rver)) {
    std::cout << "s3: skipped, no s3rver at " << s3rver
              << " (deploy/bootstrap.sh --with-test-tools)\n";
    return;
  }
  const int port = free_port();
  fs::create_directories(dir / "s3data");
  const pid_t server =
      spawn({s3rver.string(), "-d", (dir / "s3data").string(), "-a", "127.0.0.1", "-p",
             std::to_string(port), "--configure-bucket", "bench", "--silent"},
            {}, (dir / "s3rver.log").string());
  for (int i = 0; i < 300 && !port_open(port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(port);
  const fs::path file = dir / "s3.bin";
  make_file(file, size);
  const double mb = static_cast<double>(size) / 1e6;

  storage::S3Options o;
  o.endpoint = endpoint;
  o.access_key_id = o.secret_access_key = "S3RVER";
  auto store = storage::open_object_store("s3://bench", o);
  if (!store) die("open store", store.error());
  auto timed = [&](const char* what, auto fn) {
    const auto t0 = Clock::now();
    fn();
    const double t = seconds_since(t0);
    std::cout << what << ", " << size / (1 << 20) << " MiB: " << t << " s (" << mb / t
              << " MB/s)\n";
  };
  timed("s3 baton put_file (8 MiB parts, 4 in parallel)", [&] {
    if (auto st = (*store)->put_file("baton.bin", file); !st) die("put_file", st.error());
  });
  timed("s3 baton get_file (8 MiB ranges, 4 in parallel)", [&] {
    if (auto st = (*store)->get_file("baton.bin", dir / "got.bin", true); !st)
      die("get_file", st.error());
  });
  const std::map<std::string, std::string> env = {{"AWS_ACCESS_KEY_ID", "S3RVER"},
                                                  {"AWS_SECRET_ACCESS_KEY", "S3RVER"},
                                                  {"AWS_DEFAULT_REGION", "us-east-1"},
                                                  {"AWS_CONFIG_FILE", "/dev/null"},
                                                  {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}};
  const std::string aws = fs::exists("/usr/bin/aws") ? "/usr/bin/aws" : "aws";
  timed("s3 aws s3 cp upload (CLI defaults: 8 MiB parts, 10 threads)", [&] {
    wait_for(spawn({aws, "--endpoint-url", endpoint, "s3", "cp", "--only-show-errors",
                    file.string(), "s3://bench/aws.bin"},
                   env, (dir / "aws.log").string()));
  });
  timed("s3 aws s3 cp download", [&] {
    wait_for(spawn({aws, "--endpoint-url", endpoint, "s3", "cp", "--only-show-errors",
                    "s3://bench/aws.bin", (dir / "aws-got.bin").string()},
                   env, (dir / "aws.log").string()));
  });
  if (fs::file_size(dir / "aws-got.bin") != size || fs::file_size(dir / "got.bin") != size) {
    std::cout << "s3: WARNING: a download has the wrong size; see " << dir / "aws.log"
              << "\n";
  }
  ::kill(server, SIGKILL);
  wait_for(server);
}

}  // namespace

int main(int argc, char** argv) {
  baton::bench::answer_version(argc, argv, "baton-bench-vault");
  baton::bench::answer_help(argc, argv,
                            "usage: baton-bench-vault [--dir DIR] [--size-mib N] [--s3-size-mib N] "
                            "[--no-s3]\nAES-256-GCM sealing throughput, on disk and (unless "
                            "--no-s3) through s3rver; prints figures, asserts nothing.\n");
  fs::path dir;
  std::uint64_t size_mib = 1024, s3_mib = 256;
  bool s3 = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc)
      dir = argv[++i];
    else if (a == "--size-mib" && i + 1 < argc)
      size_mib = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--s3-size-mib" && i + 1 < argc)
      s3_mib = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--no-s3")
      s3 = false;
    else {
      std::cerr
          << "usage: baton-bench-vault [--dir DIR] [--size-mib N] [--s3-size-mib N] [--no-s3]\n";
      return 2;
    }
  }
  bool made = false;
  if (dir.empty()) {
    std::string t = (fs::temp_directory_path() / "baton-bench-vault-XXXXXX").string();
    if (!::mkdtemp(t.data())) return 1;
    dir = t;
    made = true;
  }
  bench_vault(dir, size_mib << 20);
  if (s3) bench_s3(dir, s3_mib << 20);
  if (made) fs::remove_all(dir);
  return 0;
}

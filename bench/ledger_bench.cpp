// baton-bench-ledger [--blocks N] [--txs-per-block K] [--members M]
//                    [--synced-blocks S] [--verify-rounds R] [--dir DIR]
//
// Prints, for this machine:
//   1. the raw Ed25519 verification rate (libsodium, one call per signature)
//      on 1 thread and on 2 threads: the physical reference;
//   2. how fast ChainMaker builds N blocks of K ~200-byte transactions;
//   3. the synced append rate (one fsync'd WriteBatch per block, as a node
//      writes) over the first S blocks, and the unsynced rate for the rest;
//   4. the whole-chain verification rate (verify_ledger) on 1 and 2 threads,
//      in blocks/s and signatures/s, side by side with as many libsodium
//      processes verifying just before and after, and the ratio of the two
//      (issue 18 asks for at least 0.9 on 2 threads); with --verify-rounds R,
//      R such rounds and their median ratio.
//
// baton-bench-ledger --restart N1,N2,... [--snapshot-interval I]
//                    [--full-replay-max M] [--txs-per-block K] [--members M] [--dir DIR]
// measures only the node's restart (bench/ledger_restart.h): one chain grown
// to each size, the start-up replay with and without state snapshots, and a
// new node's join by state sync against block sync from genesis
// (bench/ledger_join.cpp).
//
// baton-bench-ledger --reopen LEDGER1,LEDGER2,... [--repeat R]
// restarts existing ledgers (e.g. the one --restart --dir DIR leaves in
// DIR/ledger) in turn, R rounds (default 5), and prints each one's median
// against the first's: a 10^3 and a 10^6 block ledger in the same minute.
// Figures go to docs/BENCHMARKS.md with the machine and date.
#include <stdlib.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_help.h"
#include "bench/ledger_restart.h"
#include "chain/crypto.h"
#include "chain/genesis.h"
#include "chain/keys.h"
#include "storage/ledger_maker.h"
#include "storage/ledger_store.h"
#include "storage/ledger_verify.h"

namespace {

namespace fs = std::filesystem;
using namespace baton;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds used by the whole process (all threads). On a shared machine
// wall-clock rates fall with other people's load; rates per CPU-second do
// not, so both are printed.
double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five;
  in >> one >> five;
  return one + " (1 min), " + five + " (5 min)";
}

struct Rate {
  double per_wall_second = 0;
  double per_cpu_second = 0;
};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "baton-bench-ledger: %s\n", why.c_str());
  std::exit(1);
}

// Verifies `count` (key, message, signature) triples per thread.
Rate raw_verify_rate(unsigned threads, std::size_t count) {
  struct Item {
    chain::PublicKey key;
    chain::Bytes message;
    chain::Signature sig;
  };
  std::vector<Item> items;
  const auto key = chain::SigningKey::generate();
  for (std::size_t i = 0; i < 512; ++i) {
    chain::Bytes msg(200);
    chain::random_bytes(msg);
    items.push_back({key.public_key(), msg, key.sign(msg)});
  }
  std::vector<std::thread> pool;
  std::vector<std::size_t> good(threads, 0);
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (std::size_t i = 0; i < count; ++i) {
        const Item& it = items[(i + t * 7) % items.size()];
        good[t] += chain::verify_signature(it.key, it.message, it.sig) ? 1 : 0;
      }
    });
  }
  for (auto& th : pool) th.join();
  const double s = seconds_since(start);
  const double cpu = process_cpu_seconds() - cpu_start;
  for (auto g : good)
    if (g != count) die("a valid signature failed to verify");
  const double n = static_cast<double>(count) * threads;
  return {n / s, n / cpu};
}

// The same work in `processes` processes at once (fork), as the issue
// measured the limit: no shared allocator or cache lines between them. The
// wall-clock rate of all of them together.
double raw_verify_rate_processes(unsigned processes, std::size_t count) {
  struct Item {
    chain::PublicKey key;
    chain::Bytes message;
    chain::Signature sig;
  };
  std::vector<Item> items;
  const auto key = chain::SigningKey::generate();
  for (std::size_t i = 0; i < 512; ++i) {
    chain::Bytes msg(200);
    chain::random_bytes(msg);
    items.push_back({key.public_key(), msg, key.sign(msg)});
  }
  std::fflush(stdout);
  const auto start = Clock::now();
  std::vector<pid_t> children;
  for (unsigned p = 0; p < processes; ++p) {
    const pid_t pid = ::fork();
    if (pid < 0) die("cannot fork the reference processes");
    if (pid == 0) {
      std::size_t good = 0;
      for (std::size_t i = 0; i < count; ++i) {
        const Item& it = items[(i + p * 7) % items.size()];
        good += chain::verify_signature(it.key, it.message, it.sig) ? 1 : 0;
      }
      ::_exit(good == count ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      die("a reference process failed");
  }
  return static_cast<double>(count) * processes / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  baton::bench::answer_version(argc, argv, "baton-bench-ledger");
  baton::bench::answer_help(
      argc, argv,
      "usage: baton-bench-ledger [--blocks N] [--txs-per-block K] [--members M] [--synced-blocks "
      "S] [--verify-rounds R] [--dir DIR]\n       baton-bench-ledger --restart N1,N2,... "
      "[--snapshot-interval I] "
      "[--full-replay-max M] [--txs-per-block K] [--members M] [--dir DIR]\n       "
      "baton-bench-ledger --reopen LEDGER1,LEDGER2,... [--repeat R]\nSignature "
      "verification, block validation, replay and sync rates on this machine; with --restart, "
      "the node's restart time with and without state snapshots and its join time by state "
      "sync or by block sync at each chain size; with --reopen, the restart of existing ledgers "
      "side by side. Prints "
      "figures, asserts nothing.\n");
  std::uint64_t blocks = 10000, synced_blocks = 10000;
  std::size_t txs = 10, members = 4;
  std::string dir_arg;
  bench::RestartBenchOptions restart;
  bool restart_only = false;
  std::vector<fs::path> reopen;
  unsigned verify_rounds = 1;
  unsigned repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* v = argv[i + 1];
    if (flag == "--blocks")
      blocks = std::stoull(v);
    else if (flag == "--txs-per-block")
      txs = std::stoull(v);
    else if (flag == "--members")
      members = std::stoull(v);
    else if (flag == "--synced-blocks")
      synced_blocks = std::stoull(v);
    else if (flag == "--dir")
      dir_arg = v;
    else if (flag == "--restart") {
      restart_only = true;
      for (std::string list = v; !list.empty();) {
        const std::size_t comma = list.find(',');
        restart.sizes.push_back(std::stoull(list.substr(0, comma)));
        list = comma == std::string::npos ? "" : list.substr(comma + 1);
      }
    } else if (flag == "--snapshot-interval")
      restart.snapshot_interval = std::stoull(v);
    else if (flag == "--reopen") {
      for (std::string list = v; !list.empty();) {
        const std::size_t comma = list.find(',');
        reopen.emplace_back(list.substr(0, comma));
        list = comma == std::string::npos ? "" : list.substr(comma + 1);
      }
    } else if (flag == "--verify-rounds")
      verify_rounds = std::max(1u, static_cast<unsigned>(std::stoul(v)));
    else if (flag == "--repeat")
      repeat = static_cast<unsigned>(std::stoul(v));
    else if (flag == "--full-replay-max")
      restart.full_replay_max = std::stoull(v);
    else
      die("unknown flag " + flag);
  }
  synced_blocks = std::min(synced_blocks, blocks);
  if (!reopen.empty()) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const int code = bench::run_reopen_bench(reopen, repeat);
    std::printf("load average at the end: %s\n", load_average().c_str());
    return code;
  }
  if (restart_only) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::string base = dir_arg.empty()
                           ? (fs::temp_directory_path() / "baton-bench-restart-XXXXXX").string()
                           : dir_arg;
    if (dir_arg.empty() && ::mkdtemp(base.data()) == nullptr)
      die("cannot create a temporary directory");
    restart.txs_per_block = txs;
    restart.members = members;
    restart.dir = base;
    const int code = bench::run_restart_bench(restart);
    std::printf("load average at the end: %s\n", load_average().c_str());
    if (dir_arg.empty()) fs::remove_all(base);
    return code;
  }

  utsname u{};
  ::uname(&u);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("machine: %u hardware threads, %s %s; load average %s\n",
              std::thread::hardware_concurrency(), u.sysname, u.release, load_average().c_str());

  // 1. The physical reference.
  const Rate raw1 = raw_verify_rate(1, 20000);
  const Rate raw2 = raw_verify_rate(2, 20000);
  std::printf(
      "raw Ed25519 verify (libsodium, 200-byte messages): %.0f/s on 1 thread, %.0f/s on 2 threads "
      "(wall clock); %.0f per CPU-second\n",
      raw1.per_wall_second, raw2.per_wall_second, raw2.per_cpu_second);

  // A consortium of `members` hospitals.
  chain::Genesis genesis;
  genesis.chain_id = "bench-chain";
  genesis.genesis_time_unix_ms = 1795478400000;
  std::vector<chain::SigningKey> keys;
  for (std::size_t i = 0; i < members; ++i) {
    const auto k = chain::generate_member_keys("hospital-" + std::to_string(i));
    keys.push_back(k.signing);
    chain::GenesisMember m;
    m.name = k.name;
    m.ed25519 = k.signing.public_key();
    m.x25519 = k.x25519.public_key();
    m.p2p_address = "127.0.0.1:1";
    m.roles = {"validator", "partner"};
    genesis.members.push_back(m);
  }
  const std::string genesis_text = chain::encode_genesis(genesis);
  auto spec = chain::load_chain_spec(genesis_text);
  if (!spec) die(spec.error().message);

  // 2. Building the blocks (signing), kept apart from the store.
  auto maker = storage::ChainMaker::create(*spec, keys, chain::initial_state(spec->genesis_hash),
                                           {.txs_per_block = txs});
  if (!maker) die(maker.error().message);
  std::vector<std::string> made;
  made.reserve(blocks);
  auto t = Clock::now();
  std::size_t bytes = 0;
  for (std::uint64_t h = 0; h < blocks; ++h) {
    auto b = maker->next_block();
    if (!b) die(b.error().message);
    bytes += b->size();
    made.push_back(std::move(b).value());
  }
  const double make_s = seconds_since(t);
  std::printf(
      "chain: %llu blocks x %zu transactions, %zu members, %.0f bytes/block; made in %.2f s (%.0f "
      "blocks/s)\n",
      static_cast<unsigned long long>(blocks), txs, members, static_cast<double>(bytes) / blocks,
      make_s, blocks / make_s);

  // 3. Appending: synced, then unsynced.
  std::string base = dir_arg.empty()
                         ? (fs::temp_directory_path() / "baton-bench-ledger-XXXXXX").string()
                         : dir_arg;
  if (dir_arg.empty() && ::mkdtemp(base.data()) == nullptr)
    die("cannot create a temporary directory");
  const fs::path ledger = fs::path(base) / "ledger";
  {
    auto store = storage::LedgerStore::open_writer({.dir = ledger,
                                                    .genesis_hash = spec->genesis_hash,
                                                    .genesis_document = genesis_text,
                                                    .sync_each_append = true});
    if (!store) die(store.error().message);
    t = Clock::now();
    for (std::uint64_t h = 0; h < synced_blocks; ++h) {
      if (auto ok = (*store)->append(made[h]); !ok) die(ok.error().message);
    }
    const double synced_s = seconds_since(t);
    if (synced_blocks > 0) {
      std::printf(
          "append, synced (fsync per block): %llu blocks in %.2f s = %.0f blocks/s, %.0f tx/s, "
          "%.2f ms/block\n",
          static_cast<unsigned long long>(synced_blocks), synced_s, synced_blocks / synced_s,
          synced_blocks * txs / synced_s, 1000 * synced_s / synced_blocks);
    }
  }
  if (synced_blocks < blocks) {
    auto store = storage::LedgerStore::open_writer(
        {.dir = ledger, .genesis_hash = spec->genesis_hash, .sync_each_append = false});
    if (!store) die(store.error().message);
    t = Clock::now();
    for (std::uint64_t h = synced_blocks; h < blocks; ++h) {
      if (auto ok = (*store)->append(made[h]); !ok) die(ok.error().message);
    }
    if (auto ok = (*store)->sync(); !ok) die(ok.error().message);
    const double s = seconds_since(t);
    std::printf("append, unsynced (one fsync at the end): %llu blocks in %.2f s = %.0f blocks/s\n",
                static_cast<unsigned long long>(blocks - synced_blocks), s,
                (blocks - synced_blocks) / s);
  }

  // 4. Verification from genesis, through a read-only (secondary) instance as
  // `baton ledger verify` does; side by side with the same number of
  // libsodium processes verifying, measured just before and just after (the
  // issue's reference: its mean), so that both see the same machine load.
  // This VM's speed drifts within a minute, so with --verify-rounds R each
  // thread count is measured R times, each round side by side, and the
  // median ratio is printed.
  for (unsigned threads : {1u, 2u}) {
    std::vector<double> ratios;
    for (unsigned round = 1; round <= verify_rounds; ++round) {
      auto reader = storage::LedgerStore::open_reader(ledger);
      if (!reader) die(reader.error().message);
      const double before = raw_verify_rate_processes(threads, 20000);
      t = Clock::now();
      const double cpu_start = process_cpu_seconds();
      auto verdict = storage::verify_ledger(**reader, *spec, {.threads = threads});
      const double s = seconds_since(t);
      const double cpu = process_cpu_seconds() - cpu_start;
      const double after = raw_verify_rate_processes(threads, 20000);
      if (!verdict) die(verdict.error().message);
      if (!*verdict)
        die("height " + std::to_string(verdict->reason().height) + ": " + verdict->reason().what);
      const double sig_rate = verdict->value().signatures / s;
      const double sig_cpu_rate = verdict->value().signatures / cpu;
      const double reference = (before + after) / 2;
      std::printf(
          "verify, %u thread(s): %llu blocks, %llu signatures in %.2f s = %.0f blocks/s, %.0f "
          "signatures/s (wall clock); %.0f signatures per CPU-second = %.0f%% of raw\n",
          threads, static_cast<unsigned long long>(verdict->value().state.height),
          static_cast<unsigned long long>(verdict->value().signatures), s,
          verdict->value().state.height / s, sig_rate, sig_cpu_rate,
          100.0 * sig_cpu_rate / raw2.per_cpu_second);
      std::printf(
          "side by side, %u: verify %.0f signatures/s, libsodium in %u process(es) %.0f/s before "
          "and %.0f/s after; ratio %.2f (load average %s)\n",
          threads, sig_rate, threads, before, after, sig_rate / reference, load_average().c_str());
      ratios.push_back(sig_rate / reference);
    }
    if (ratios.size() > 1) {
      std::sort(ratios.begin(), ratios.end());
      const std::size_t n = ratios.size();
      const double median = n % 2 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
      std::printf(
          "side by side, %u thread(s), %zu rounds: median ratio %.2f (lowest %.2f, highest %.2f)\n",
          threads, n, median, ratios.front(), ratios.back());
    }
  }
  std::printf("load average at the end: %s\n", load_average().c_str());
  if (dir_arg.empty()) fs::remove_all(base);
  return 0;
}

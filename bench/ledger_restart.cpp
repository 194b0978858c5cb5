#include "bench/ledger_restart.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "chain/genesis.h"
#include "chain/keys.h"
#include "storage/ledger_replay.h"
#include "storage/ledger_maker.h"
#include "storage/ledger_store.h"
#include "storage/ledger_verify.h"
#include "storage/state_snapshot.h"

namespace baton::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  std::getline(in, line);
  return line;
}

std::uintmax_t directory_bytes(const fs::path& dir) {
  std::uintmax_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

struct Restart {
  double wall = 0;
  double cpu = 0;
  double open_wall = 0;  // of wall: opening RocksDB, before the replay
  std::uint64_t snapshot_height = 0;
  std::uint64_t blocks_replayed = 0;
  bool ok = false;
  std::string error;
};

// What batond's start-up does that grows with the chain: open the ledger as
// its writer and rebuild the state (node/node.cpp, Node::open).
Restart restart(const fs::path& ledger, const chain::ChainSpec& spec, bool use_snapshots) {
  Restart out;
  const auto t = Clock::now();
  const double cpu = cpu_seconds();
  auto store =
      storage::LedgerStore::open_writer({.dir = ledger, .genesis_hash = spec.genesis_hash});
  if (!store) {
    out.error = store.error().message;
    return out;
  }
  out.open_wall = seconds_since(t);
  auto replayed = storage::replay_ledger(spec, **store, use_snapshots);
  out.wall = seconds_since(t);
  out.cpu = cpu_seconds() - cpu;
  if (!replayed) {
    out.error = replayed.error().message;
    return out;
  }
  out.snapshot_height = replayed->snapshot_height;
  out.blocks_replayed = replayed->blocks_replayed;
  out.ok = true;
  return out;
}

}  // namespace

int run_restart_bench(const RestartBenchOptions& o) {
  std::vector<std::uint64_t> sizes = o.sizes;
  std::sort(sizes.begin(), sizes.end());
  if (sizes.empty() || sizes.front() < 2) {
    std::fprintf(stderr, "baton-bench-ledger: --restart needs chain sizes of 2 blocks or more\n");
    return 1;
  }
  chain::Genesis genesis;
  genesis.chain_id = "bench-chain";
  genesis.genesis_time_unix_ms = 1795478400000;
  std::vector<chain::SigningKey> keys;
  for (std::size_t i = 0; i < o.members; ++i) {
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
  if (!spec) {
    std::fprintf(stderr, "baton-bench-ledger: %s\n", spec.error().message.c_str());
    return 1;
  }
  auto maker = storage::ChainMaker::create(*spec, keys, chain::initial_state(spec->genesis_hash),
                                           {.txs_per_block = o.txs_per_block});
  if (!maker) {
    std::fprintf(stderr, "baton-bench-ledger: %s\n", maker.error().message.c_str());
    return 1;
  }
  const fs::path ledger = o.dir / "ledger";
  std::printf(
      "restart: %zu members, %zu transactions per block, a snapshot every %llu blocks (the newest "
      "2 kept); each size N restarts at height N-1; load average %s\n",
      o.members, o.txs_per_block, static_cast<unsigned long long>(o.snapshot_interval),
      load_average().c_str());

  double make_s = 0, append_s = 0, snapshot_s = 0;
  std::uint64_t snapshots = 0;
  std::size_t snapshot_bytes = 0;
  for (const std::uint64_t size : sizes) {
    const std::uint64_t target = size - 1;
    {
      // Unsynced appends and one sync (as `baton dev make-chain`); the
      // snapshots are written as batond writes them, synced.
      auto store = storage::LedgerStore::open_writer({.dir = ledger,
                                                      .genesis_hash = spec->genesis_hash,
                                                      .genesis_document = genesis_text,
                                                      .sync_each_append = false});
      if (!store) {
        std::fprintf(stderr, "baton-bench-ledger: %s\n", store.error().message.c_str());
        return 1;
      }
      while (maker->state().height < target) {
        auto t = Clock::now();
        auto block = maker->next_block();
        make_s += seconds_since(t);
        if (!block) {
          std::fprintf(stderr, "baton-bench-ledger: %s\n", block.error().message.c_str());
          return 1;
        }
        t = Clock::now();
        if (auto ok = (*store)->append(*block); !ok) {
          std::fprintf(stderr, "baton-bench-ledger: %s\n", ok.error().message.c_str());
          return 1;
        }
        append_s += seconds_since(t);
        const std::uint64_t h = maker->state().height;
        if (o.snapshot_interval > 0 && h % o.snapshot_interval == 0) {
          // The blocks' sync first, outside the snapshot's time: batond's
          // appends are synced one by one.
          if (auto ok = (*store)->sync(); !ok) return 1;
          t = Clock::now();
          const std::string record = storage::encode_snapshot(maker->state());
          if (auto ok = (*store)->put_snapshot(h, record, storage::kSnapshotsKept); !ok) {
            std::fprintf(stderr, "baton-bench-ledger: %s\n", ok.error().message.c_str());
            return 1;
          }
          if (auto ok = (*store)->sync(); !ok) return 1;
          snapshot_s += seconds_since(t);
          snapshot_bytes = record.size();
          ++snapshots;
        }
      }
      if (auto ok = (*store)->sync(); !ok) return 1;
      // A node that appended these blocks over months has no compaction
      // backlog when it restarts; a bulk load does (10^6 blocks: minutes).
      const auto settle = Clock::now();
      auto settled = (*store)->wait_for_compactions(std::chrono::seconds(900));
      if (!settled) {
        std::fprintf(stderr, "baton-bench-ledger: %s\n", settled.error().message.c_str());
        return 1;
      }
      std::printf("N=%llu: RocksDB's compactions after the load %s in %.1f s\n",
                  static_cast<unsigned long long>(size), *settled ? "settled" : "still ran",
                  seconds_since(settle));
    }
    const std::uintmax_t disk = directory_bytes(ledger);
    std::printf(
        "N=%llu: chain at height %llu made in %.1f s so far (signing %.1f s, appending %.1f s, "
        "%llu snapshots in %.2f s = %.2f ms each incl. a WAL sync); ledger directory %.1f MB = "
        "%.0f bytes/block; a snapshot record is %zu bytes (0: none yet)\n",
        static_cast<unsigned long long>(size), static_cast<unsigned long long>(target),
        make_s + append_s + snapshot_s, make_s, append_s,
        static_cast<unsigned long long>(snapshots), snapshot_s,
        snapshots ? 1000 * snapshot_s / snapshots : 0.0, disk / 1e6,
        static_cast<double>(disk) / target, snapshot_bytes);
    for (const bool use : {true, false}) {
      if (!use && target > o.full_replay_max) {
        std::printf("  restart from genesis: skipped above --full-replay-max %llu\n",
                    static_cast<unsigned long long>(o.full_replay_max));
        continue;
      }
      const Restart r = restart(ledger, *spec, use);
      if (!r.ok) {
        std::fprintf(stderr, "baton-bench-ledger: restart: %s\n", r.error.c_str());
        return 1;
      }
      std::printf(
          "  restart %s: %.3f s wall (%.3f s of it opening RocksDB), %.3f CPU-s (from height "
          "%llu, %llu blocks validated = %.0f blocks/s); load average %s\n",
          use ? "with snapshots" : "from genesis  ", r.wall, r.open_wall, r.cpu,
          static_cast<unsigned long long>(r.snapshot_height),
          static_cast<unsigned long long>(r.blocks_replayed),
          r.wall > 0 ? r.blocks_replayed / r.wall : 0.0, load_average().c_str());
    }
    if (!run_join_bench(ledger, genesis_text, target, o.dir, o.full_replay_max)) return 1;
  }
  return 0;
}

int run_reopen_bench(const std::vector<fs::path>& ledgers, unsigned repeats) {
  if (ledgers.empty() || repeats == 0) {
    std::fprintf(stderr, "baton-bench-ledger: --reopen needs ledgers and --repeat of 1 or more\n");
    return 1;
  }
  std::vector<chain::ChainSpec> specs;
  std::vector<std::uint64_t> tips;
  for (const fs::path& dir : ledgers) {
    auto store = storage::LedgerStore::open_reader(dir);
    if (!store) {
      std::fprintf(stderr, "baton-bench-ledger: %s\n", store.error().message.c_str());
      return 1;
    }
    auto spec = storage::stored_chain_spec(**store);
    if (!spec) {
      std::fprintf(stderr, "baton-bench-ledger: %s: %s\n", dir.c_str(), spec.reason().what.c_str());
      return 1;
    }
    specs.push_back(std::move(spec).value());
    tips.push_back((*store)->tip().height);
  }
  std::printf("reopen: %zu ledgers, %u rounds; load average %s\n", ledgers.size(), repeats,
              load_average().c_str());
  std::vector<std::vector<double>> walls(ledgers.size()), opens(ledgers.size());
  for (unsigned round = 1; round <= repeats; ++round) {
    for (std::size_t i = 0; i < ledgers.size(); ++i) {
      const Restart r = restart(ledgers[i], specs[i], true);
      if (!r.ok) {
        std::fprintf(stderr, "baton-bench-ledger: restart: %s\n", r.error.c_str());
        return 1;
      }
      walls[i].push_back(r.wall);
      opens[i].push_back(r.open_wall);
      std::printf(
          "  round %u, tip %llu: %.3f s wall (%.3f s opening RocksDB), %.3f CPU-s, from height "
          "%llu, %llu blocks replayed; load average %s\n",
          round, static_cast<unsigned long long>(tips[i]), r.wall, r.open_wall, r.cpu,
          static_cast<unsigned long long>(r.snapshot_height),
          static_cast<unsigned long long>(r.blocks_replayed), load_average().c_str());
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  const double base = median(walls[0]);
  for (std::size_t i = 0; i < ledgers.size(); ++i) {
    const double m = median(walls[i]);
    std::printf("tip %llu (%s): median restart %.3f s (median open %.3f s) = %.2fx the first\n",
                static_cast<unsigned long long>(tips[i]), ledgers[i].c_str(), m, median(opens[i]),
                base > 0 ? m / base : 0.0);
  }
  return 0;
}

}  // namespace baton::bench

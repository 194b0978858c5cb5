// The restart part of baton-bench-ledger (issue 18): how long a node's
// start-up takes to rebuild its ledger state, with and without state
// snapshots, as the chain grows. Separate from ledger_bench.cpp so that each
// file stays about one measurement.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace baton::bench {

struct RestartBenchOptions {
  // Chain lengths N to measure at; the node restarts at height N - 1, the
  // worst case for snapshots (the newest is snapshot_interval - 1 blocks back).
  std::vector<std::uint64_t> sizes;
  std::size_t txs_per_block = 10;
  std::size_t members = 4;
  std::uint64_t snapshot_interval = 1000;  // as [ledger] snapshot_interval_blocks
  // No full replay (from genesis) above this height: it would take minutes.
  std::uint64_t full_replay_max = 100000;
  std::filesystem::path dir;  // an empty or missing directory for the ledger
};

// Builds one chain, growing it to each size in turn (with a snapshot every
// snapshot_interval blocks, written as the node writes them), and at each
// size prints: generation time, disk bytes per block and per snapshot, and
// the restart (open the ledger + storage::replay_ledger) with and without
// snapshots in wall and CPU seconds. Returns a process exit code.
int run_restart_bench(const RestartBenchOptions& options);

// The restart (open + storage::replay_ledger with snapshots) of ledgers that
// already exist, e.g. the ones --restart --dir left: each ledger in turn,
// `repeats` rounds, so that all are measured in the same minute and under
// the same load. Prints every restart, then each ledger's median and its
// ratio to the first ledger's. The chain spec comes from each ledger's own
// genesis copy. Returns a process exit code.
int run_reopen_bench(const std::vector<std::filesystem::path>& ledgers, unsigned repeats);

// State sync against block sync from genesis (ledger_join.cpp): a new node
// joining the chain in `source` (tip `tip`) in `scratch` (an empty
// directory), measured without the network: by block sync, every block
// validated and appended with a synced write, as batond does (skipped above
// full_replay_max); by state sync, the newest snapshot served in chunks,
// checked (node/state_sync.h) and stored, then the blocks after it; and the
// background backfill of the history below it. Prints one line each.
// Returns false (with a message on stderr) on an error.
bool run_join_bench(const std::filesystem::path& source, const std::string& genesis_text,
                    std::uint64_t tip, const std::filesystem::path& scratch,
                    std::uint64_t full_replay_max);

}  // namespace baton::bench

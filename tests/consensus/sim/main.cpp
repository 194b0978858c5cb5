// baton-sim: runs the deterministic consensus simulation over many seeds.
//   baton-sim --seeds N --nodes K --byzantine B      seeds 1..N
//   baton-sim --nodes K --byzantine B --seed S       replays seed S exactly
// Ends with "seeds: N, violations: V"; exits 1 when V > 0, 2 on bad flags.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/consensus/sim/simulation.h"

namespace {

void usage() {
  std::fprintf(
      stderr,
      "usage: baton-sim [--seeds N] [--first-seed S] [--seed S] [--nodes K] [--byzantine B]\n"
      "                 [--fault-ms MS] [--drop-percent P] [--no-partitions] [--no-crashes] "
      "[--trace]\n"
      "                 [--unsafe-ignore-lock]   (test-only: breaks locking, must find "
      "violations)\n"
      "                 [--unsafe-send-before-write]   (test-only: sends votes before their "
      "signer record is written, must find violations)\n");
}

bool parse_u64(const char* text, std::uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-') return false;
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using baton::consensus::sim::SimOptions;
  SimOptions options;
  std::uint64_t seeds = 1;
  std::uint64_t first = 1;
  bool single = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&](std::uint64_t& out) {
      if (i + 1 >= argc || !parse_u64(argv[i + 1], out)) {
        std::fprintf(stderr, "baton-sim: %s needs a non-negative integer\n", flag.c_str());
        std::exit(2);
      }
      ++i;
    };
    std::uint64_t v = 0;
    if (flag == "--seeds") {
      value(seeds);
    } else if (flag == "--first-seed") {
      value(first);
    } else if (flag == "--seed") {
      value(first);
      single = true;
    } else if (flag == "--nodes") {
      value(v);
      options.nodes = static_cast<int>(v);
    } else if (flag == "--byzantine") {
      value(v);
      options.byzantine = static_cast<int>(v);
    } else if (flag == "--fault-ms") {
      value(v);
      options.fault_ms = static_cast<std::uint32_t>(v);
    } else if (flag == "--drop-percent") {
      value(v);
      options.drop = static_cast<double>(v) / 100.0;
    } else if (flag == "--no-partitions") {
      options.partitions = false;
    } else if (flag == "--no-crashes") {
      options.crashes = false;
    } else if (flag == "--trace") {
      options.trace = true;
    } else if (flag == "--unsafe-ignore-lock") {
      options.unsafe_ignore_lock = true;
    } else if (flag == "--unsafe-send-before-write") {
      options.unsafe_send_before_write = true;
    } else if (flag == "--help" || flag == "-h") {
      usage();
      return 0;
    } else {
      std::fprintf(stderr, "baton-sim: unknown flag %s\n", flag.c_str());
      usage();
      return 2;
    }
  }
  if (options.nodes < 1 || options.nodes > 100 || options.byzantine < 0 ||
      3 * options.byzantine >= options.nodes) {
    std::fprintf(
        stderr,
        "baton-sim: need 1 <= nodes <= 100 and byzantine < nodes/3 (got %d nodes, %d byzantine)\n",
        options.nodes, options.byzantine);
    return 2;
  }
  if (single) seeds = 1;
  std::uint64_t violations = 0;
  std::uint64_t heights = 0;
  std::uint64_t evidence = 0;
  std::uint64_t crashes = 0;
  std::uint64_t crashes_mid_output = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t k = 0; k < seeds; ++k) {
    options.seed = first + k;
    const auto r = baton::consensus::sim::run_simulation(options);
    heights += r.min_honest_height;
    evidence += r.evidence_committed;
    crashes += r.crashes;
    crashes_mid_output += r.crashes_mid_output;
    if (!r.violations.empty()) {
      ++violations;
      std::printf(
          "seed %llu FAILED: %s\n  replay: baton-sim --nodes %d --byzantine %d --seed %llu%s\n",
          static_cast<unsigned long long>(options.seed), r.violations.front().c_str(),
          options.nodes, options.byzantine, static_cast<unsigned long long>(options.seed),
          std::string(options.unsafe_ignore_lock ? " --unsafe-ignore-lock" : "")
              .append(options.unsafe_send_before_write ? " --unsafe-send-before-write" : "")
              .c_str());
    } else if (single || options.trace) {
      std::printf(
          "seed %llu ok: heights %llu..%llu, %llu events, %llu simulated ms, %llu crashes, %llu "
          "partitions, "
          "%llu equivocations seen, %llu evidence committed, %llu nil votes forged, %llu "
          "proposals with forged evidence\n",
          static_cast<unsigned long long>(options.seed),
          static_cast<unsigned long long>(r.min_honest_height),
          static_cast<unsigned long long>(r.max_honest_height),
          static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.sim_ms),
          static_cast<unsigned long long>(r.crashes), static_cast<unsigned long long>(r.partitions),
          static_cast<unsigned long long>(r.evidence_seen),
          static_cast<unsigned long long>(r.evidence_committed),
          static_cast<unsigned long long>(r.forged_votes_sent),
          static_cast<unsigned long long>(r.forged_evidence_proposed));
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "nodes: %d, byzantine: %d, blocks committed (min over honest, summed): %llu, evidence "
      "committed: %llu, "
      "wall: %.1f s\n",
      options.nodes, options.byzantine, static_cast<unsigned long long>(heights),
      static_cast<unsigned long long>(evidence), secs);
  std::printf("crashes: %llu, %llu of them inside an output\n",
              static_cast<unsigned long long>(crashes),
              static_cast<unsigned long long>(crashes_mid_output));
  std::printf("seeds: %llu, violations: %llu\n", static_cast<unsigned long long>(seeds),
              static_cast<unsigned long long>(violations));
  return violations > 0 ? 1 : 0;
}

// Deterministic simulation of K consensus engines over a simulated network
// (VOPR/FoundationDB style): a logical clock, one seeded random generator,
// message drops, duplicates, reordering and delays, partitions that heal,
// crash-restarts from persisted state (signer record, engine checkpoint and
// committed chain) between events or in the middle of carrying out an engine
// output (before its records are written, between the two records, after
// them, or after some of its messages were sent), and B Byzantine validators that equivocate
// (double proposals, double votes) and try to frame honest validators: they recast every honest nil
// vote they receive with a block id of 32 zero bytes (the same signature) and gossip it, and put
// such forged double-vote evidence into the blocks they propose. Safety (no fork, no honest double
// sign, no evidence against an honest validator) and liveness are checked after every event. The
// same options (seed included) replay the exact same run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace baton::consensus::sim {

struct SimOptions {
  std::uint64_t seed = 1;
  int nodes = 4;
  int byzantine = 1;
  // Faults (drops, duplicates, partitions, crashes) happen during the first
  // `fault_ms` of simulated time; then the network heals and every honest
  // node must commit `liveness_heights` more blocks within `liveness_bound_ms`.
  std::uint32_t fault_ms = 6000;
  std::uint32_t liveness_bound_ms = 60000;
  std::uint32_t liveness_heights = 2;
  double drop = 0.05;
  double duplicate = 0.03;
  bool partitions = true;
  bool crashes = true;
  // Test-only: honest engines ignore their locks (must produce violations).
  bool unsafe_ignore_lock = false;
  // Test-only: honest nodes send an output's messages before they write its
  // signer record and checkpoint, and crashes fall between the two (must
  // produce a double sign).
  bool unsafe_send_before_write = false;
  bool trace = false;  // print every event (for replaying one seed)
};

struct SimResult {
  std::vector<std::string> violations;  // empty when the run was correct
  std::uint64_t min_honest_height = 0;  // at the end
  std::uint64_t max_honest_height = 0;
  std::uint64_t events = 0;
  std::uint64_t sim_ms = 0;
  std::uint64_t evidence_seen = 0;             // equivocations detected by honest nodes
  std::uint64_t evidence_committed = 0;        // evidence entries in honest node 0's chain
  std::uint64_t forged_votes_sent = 0;         // honest nil votes recast by Byzantine nodes
  std::uint64_t forged_evidence_proposed = 0;  // Byzantine proposals carrying forged evidence
  std::uint64_t crashes = 0;
  std::uint64_t crashes_mid_output = 0;  // crashes that cut an output short
  std::uint64_t partitions = 0;
};

SimResult run_simulation(const SimOptions& options);

}  // namespace baton::consensus::sim

// Counters and gauges batond exposes at GET /metrics (Prometheus text format
// 0.0.4). Plain atomics: written by the node's threads, read by the admin
// API's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace baton::node {

// A Prometheus label value escaped for the text format 0.0.4 (\\, \", \n).
std::string escape_label_value(std::string_view value);

struct Metrics {
  std::atomic<std::uint64_t> height{0};
  std::atomic<std::uint64_t> blocks_committed{0};  // by consensus here
  std::atomic<std::uint64_t> blocks_synced{0};     // fetched from peers
  std::atomic<std::uint64_t> txs_committed{0};
  std::atomic<std::uint64_t> txs_accepted{0};  // into the mempool
  std::atomic<std::uint64_t> txs_rejected{0};
  std::atomic<std::uint64_t> mempool_txs{0};
  std::atomic<std::uint64_t> mempool_bytes{0};
  std::atomic<std::uint64_t> peers_connected{0};
  std::atomic<std::uint64_t> peer_messages_invalid{0};
  std::atomic<std::uint64_t> peer_messages_dropped{0};  // inbound queue full
  std::atomic<std::uint64_t> consensus_round{0};
  // 1 while the node takes no part in consensus (node.h, NodeSnapshot);
  // halt_cause says why (HaltCause).
  std::atomic<std::uint64_t> halted{0};
  std::atomic<int> halt_cause{0};
  std::atomic<std::uint64_t> storage_errors{0};      // failed ledger/checkpoint/signer writes
  std::atomic<std::uint64_t> storage_recoveries{0};  // storage halts left by themselves
  // State sync and repair (node_state_sync.cpp).
  std::atomic<std::uint64_t> state_sync_peer_refusals{0};  // wrong snapshots or history blocks
  std::atomic<std::uint64_t> blocks_backfilled{0};
  std::atomic<std::uint64_t> blocks_repaired{0};  // damaged stored blocks refetched

  // The `cause` label of baton_halted.
  enum HaltCause : int { none = 0, ledger, checkpoint, signer_state, consensus };
  static const char* cause_label(int cause);

  // Renders every metric with HELP and TYPE lines; `node` becomes a label.
  std::string prometheus_text(const std::string& node) const;
};

}  // namespace baton::node

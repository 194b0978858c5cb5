#include "node/metrics.h"

#include <sstream>

namespace baton::node {

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string Metrics::prometheus_text(const std::string& node) const {
  std::ostringstream out;
  const std::string label = "{node=\"" + node + "\"}";
  auto metric = [&](const char* name, const char* type, const char* help, std::uint64_t value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
        << name << label << ' ' << value << '\n';
  };
  metric("baton_height", "gauge", "Height of the last committed block.", height.load());
  metric("baton_blocks_committed_total", "counter", "Blocks decided by consensus and stored.",
         blocks_committed.load());
  metric("baton_blocks_synced_total", "counter", "Blocks fetched from peers by block sync.",
         blocks_synced.load());
  metric("baton_txs_committed_total", "counter", "Transactions in stored blocks.",
         txs_committed.load());
  metric("baton_txs_accepted_total", "counter", "Transactions the mempool accepted.",
         txs_accepted.load());
  metric("baton_txs_rejected_total", "counter", "Transactions the mempool refused.",
         txs_rejected.load());
  metric("baton_mempool_txs", "gauge", "Transactions waiting in the mempool.", mempool_txs.load());
  metric("baton_mempool_bytes", "gauge", "Bytes waiting in the mempool.", mempool_bytes.load());
  metric("baton_peers_connected", "gauge", "Peers with an authenticated session.",
         peers_connected.load());
  metric("baton_peer_messages_invalid_total", "counter", "Peer messages refused as invalid.",
         peer_messages_invalid.load());
  metric("baton_peer_messages_dropped_total", "counter",
         "Peer messages dropped because the node was busy.", peer_messages_dropped.load());
  metric("baton_consensus_round", "gauge", "Consensus round at the current height.",
         consensus_round.load());
  out << "# HELP baton_halted 1 while the node takes no part in consensus; cause: ledger, "
         "checkpoint or signer_state (a failed write: it resumes by itself once the disk takes "
         "writes) or consensus (it waits for an operator).\n# TYPE baton_halted gauge\n"
      << "baton_halted{node=\"" << node << "\",cause=\"" << cause_label(halt_cause.load()) << "\"} "
      << halted.load() << '\n';
  metric("baton_storage_errors_total", "counter",
         "Writes to the ledger, checkpoint or signer state that failed.", storage_errors.load());
  metric("baton_storage_recoveries_total", "counter",
         "Storage halts the node left by itself once the disk took writes again.",
         storage_recoveries.load());
  metric("baton_state_sync_peer_refusals_total", "counter",
         "Snapshots, snapshot chunks or history blocks from peers refused as wrong.",
         state_sync_peer_refusals.load());
  metric("baton_blocks_backfilled_total", "counter",
         "Blocks below a state-sync snapshot fetched from peers.", blocks_backfilled.load());
  metric("baton_blocks_repaired_total", "counter",
         "Damaged stored blocks replaced by a peer's copy.", blocks_repaired.load());
  return out.str();
}

const char* Metrics::cause_label(int cause) {
  switch (cause) {
    case ledger:
      return "ledger";
    case checkpoint:
      return "checkpoint";
    case signer_state:
      return "signer_state";
    case consensus:
      return "consensus";
    default:
      return "";
  }
}

}  // namespace baton::node

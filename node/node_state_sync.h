// What the node remembers while it syncs its state from peers, backfills
// history below a synced snapshot, or repairs a damaged stored block
// (node_state_sync.cpp carries these out; node/state_sync.h decides what a
// peer's answer is worth). Loop thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "node/admin_node.h"
#include "node/state_sync.h"

namespace baton::node {

struct StateSyncRun {
  // --- the snapshot, while the ledger is still empty ([statesync]) ---
  std::optional<StateSyncTrust> trust;  // set until the snapshot is stored
  std::optional<SnapshotDownload> download;
  PeerRotation snapshot_peers{5000};
  // Peers whose block at the trusted height has another id: with every peer
  // in here, the operator's trust is what is wrong.
  std::set<chain::PublicKey> other_id;
  std::uint64_t last_advice_ms = 0;

  // --- history below the snapshot (backfill), while history_from > 1 ---
  PeerRotation history_peers{5000};
  std::optional<pb::BlockRequest> history_request;  // in flight

  // --- a damaged stored block found at start-up ---
  std::optional<std::uint64_t> repair_height;  // consensus waits until it is repaired
  std::string repair_why;                      // what was wrong with it
  PeerRotation repair_peers{5000};
  std::uint64_t repair_since_ms = 0;

  // --- for GET /status ---
  std::vector<NodeSnapshot::StoredSnapshot> stored;
  std::string phase;  // NodeSnapshot::state_sync

  // While this is true the node neither runs consensus nor block sync.
  bool consensus_waits() const { return trust.has_value() || repair_height.has_value(); }
};

}  // namespace baton::node

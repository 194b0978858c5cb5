// CommittedViews: what readers off the node's event loop see of the committed
// ledger: the state at the tip (GET /training) and the view the partner agent
// follows (GET /agent/state, node/admin_node.h AgentView).
//
// The rule it holds: the agent sees a commit only while block sync is within
// kAgentSyncSlack blocks of the best peer. Older states are history: acting
// on them would only send transactions the ledger refuses.
//
// States are immutable and shared, never copied. Thread: publish_* on the
// node's event loop; the readers from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "chain/ledger_state.h"
#include "node/admin_node.h"

namespace baton::node {

class CommittedViews {
 public:
  static constexpr std::uint64_t kAgentSyncSlack = 2;

  // Start-up: the replayed tip is what everyone sees. Precondition: non-null.
  void publish_replayed(std::shared_ptr<const chain::LedgerState> state);
  // After the commit of `state` (at state->height): true when the agent's
  // view moved to it (the node then wakes the agent's long-polls).
  bool publish_commit(std::shared_ptr<const chain::LedgerState> state,
                      std::uint64_t best_peer_height);

  std::shared_ptr<const chain::LedgerState> committed_state() const;
  AgentView agent_view() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const chain::LedgerState> committed_;
  AgentView agent_;
};

}  // namespace baton::node

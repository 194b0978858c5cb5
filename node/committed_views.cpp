#include "node/committed_views.h"

namespace baton::node {

void CommittedViews::publish_replayed(std::shared_ptr<const chain::LedgerState> state) {
  std::lock_guard lock(mutex_);
  agent_ = AgentView{state->height, state};
  committed_ = std::move(state);
}

bool CommittedViews::publish_commit(std::shared_ptr<const chain::LedgerState> state,
                                    std::uint64_t best_peer_height) {
  const std::uint64_t height = state->height;
  std::lock_guard lock(mutex_);
  committed_ = state;
  if (best_peer_height > height + kAgentSyncSlack) return false;
  agent_ = AgentView{height, std::move(state)};
  return true;
}

std::shared_ptr<const chain::LedgerState> CommittedViews::committed_state() const {
  std::lock_guard lock(mutex_);
  return committed_;
}

AgentView CommittedViews::agent_view() const {
  std::lock_guard lock(mutex_);
  return agent_;
}

}  // namespace baton::node

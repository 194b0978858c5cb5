// What baton-agent (and `baton models replay|check-vote`, issue 16) needs
// from agent.toml before it does anything: the genesis, this member's key
// (checked against the ledger's members once the agent follows its node), its
// data files and its object store.
#pragma once

#include "chain/result.h"
#include "agent/agent_follow.h"
#include "api/config.h"

namespace baton::agent {

// Everything the agent needs before it starts, checked with a sentence each.
Result<FollowerSetup> prepare_agent(const api::AgentConfig& config);

}  // namespace baton::agent

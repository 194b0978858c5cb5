// What the node derives from the ledger's members (chain/membership.h) after
// each commit, block sync and the replay at start-up: the consensus set of
// the next height, the transport's member list, and whether either changed
// since the last look. A change committed in block H holds from H + 1
// (docs/PROTOCOL.md §25), so the state after H answers for height H + 1.
//
// Pure: no I/O, no clock. The node owns one and touches it only from its
// event loop.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/config.h"
#include "chain/chain_spec.h"
#include "chain/genesis.h"
#include "chain/ledger_state.h"
#include "consensus/validators.h"
#include "p2p/transport.h"

namespace baton::node {

class MembershipFollower {
 public:
  struct Changes {
    bool members = false;     // anyone added, removed, re-keyed, re-addressed, re-powered
    bool validators = false;  // the consensus set (keys with power > 0, powers) changed
  };

  // Looks at the members after `state`'s block. The first look reports
  // everything as changed.
  Changes observe(const chain::ChainSpec& spec, const chain::LedgerState& state);

  // The members seen by the last observe() (empty before the first).
  const std::vector<chain::GenesisMember>& members() const { return members_; }
  // The consensus set of height state.height + 1 (nullopt before the first
  // observe(), or when no member holds power: the chain refuses such a
  // change, so that would be a bug in chain/, and the engine keeps its set).
  const std::optional<consensus::ValidatorSet>& validators() const { return validators_; }

 private:
  std::vector<chain::GenesisMember> members_;
  std::optional<consensus::ValidatorSet> validators_;
  bool seen_ = false;
};

// The transport's member list for `members`: each one's p2p_address, or the
// [p2p.dial] override node.toml gives for its name; a member whose address
// cannot be dialled is listed without one (it may still dial us), with a
// warning in `warnings` (never for `me`).
std::vector<p2p::MemberAddress> p2p_members(const std::vector<chain::GenesisMember>& members,
                                            const api::NodeConfig& config,
                                            const chain::PublicKey& me,
                                            std::vector<std::string>& warnings);

}  // namespace baton::node

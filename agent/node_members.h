// The ledger's current members as the agent's node reports them (GET
// /members, issue 18; docs/OPERATIONS.md "The partner agent"): the
// recipients of the data keys the agent seals and whether it votes follow
// the ledger's membership, not the genesis.
//
// parse_node_members reads the node's answer into members, with every bound
// checked first: at most kMaxNodeMembers members, names and keys as a
// genesis requires them (chain/genesis.h), no name or key twice. An answer
// that breaks one is an error, never an empty or partial list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "chain/genesis.h"
#include "chain/result.h"

namespace baton::agent {

inline constexpr std::size_t kMaxNodeMembers = 256;
// The largest /members answer read: 256 members and their pending changes.
inline constexpr std::size_t kMaxNodeMembersBytes = 1u << 20;

struct NodeMembers {
  std::uint64_t height = 0;                   // the block the list holds after
  std::vector<chain::GenesisMember> members;  // in the node's order; balance 0
};

// {"height": H, "members": [{"name", "ed25519", "x25519", "p2p_address",
// "power", "roles": [...]}, ...], "pending": [...]} ("pending" is not read).
Result<NodeMembers> parse_node_members(std::string_view body);

// Where the agent gets the current members from: its NodeLink (tests: a
// fake). Called from the agent's worker thread only. An error when the node
// does not answer or answers something malformed: the caller waits and asks
// again, it never falls back to another list.
class MemberSource {
 public:
  virtual ~MemberSource() = default;
  virtual Result<NodeMembers> current_members() = 0;
};

}  // namespace baton::agent

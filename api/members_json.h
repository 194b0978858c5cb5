// The ledger's current members as a node's GET /members answers them (issue
// 18): read by the partner agent (agent/node_members.h: the recipients of the
// data keys it seals and whether it votes follow the ledger) and by the CLI
// (`baton run start` checks a plan against the members of now, not the
// genesis).
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

namespace baton::api {

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

}  // namespace baton::api

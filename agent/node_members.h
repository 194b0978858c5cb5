// Where the partner agent gets the ledger's current members (issue 18;
// docs/OPERATIONS.md "The partner agent"): the recipients of the data keys
// the agent seals and whether it votes follow the ledger's membership, not
// the genesis. The answer's format and bounds: api/members_json.h.
#pragma once

#include "api/members_json.h"
#include "chain/result.h"

namespace baton::agent {

using api::kMaxNodeMembers;
using api::kMaxNodeMembersBytes;
using api::NodeMembers;
using api::parse_node_members;

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

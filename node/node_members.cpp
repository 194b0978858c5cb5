// Node, membership side: the ledger's members (issue 18, docs/PROTOCOL.md
// §25) as the node follows them after each commit, and GET /members. Split
// from node.cpp; the thread rules of node.h apply.
#include <spdlog/spdlog.h>

#include "chain/membership.h"
#include "node/node.h"
#include "node/node_options.h"

namespace baton::node {

void Node::follow_membership() {
  const MembershipFollower::Changes changes = membership_.observe(*spec_, *state_);
  if (!changes.members) return;
  const auto& members = membership_.members();
  {
    std::lock_guard lock(names_mutex_);
    for (const auto& m : members) names_.insert_or_assign(m.ed25519, m.name);
  }
  mempool_.remove_senders_not_in(chain::current_validators(*spec_, *state_));
  if (transport_) {
    std::vector<std::string> warnings;
    transport_->set_members(p2p_members(members, config_, keys_.signing.public_key(), warnings));
    for (const std::string& w : warnings) log_->warn("{}", w);
  }
  if (state_->height > 0 || started_) {
    std::uint64_t power = 0;
    if (const auto& v = membership_.validators()) power = v->total_power();
    log_->info("members after height {}: {} member(s), {} validator(s) with total power {}{}",
               state_->height, members.size(),
               membership_.validators() ? membership_.validators()->size() : 0, power,
               changes.validators ? " (the validator set changed)" : "");
  }
}

Status Node::check_own_membership() {
  const chain::PublicKey me = keys_.signing.public_key();
  for (const auto& m : membership_.members()) {
    if (m.ed25519 != me) continue;
    if (m.name == config_.name) return {};
    return make_error("the config names this node '" + config_.name +
                      "' but its key belongs to member '" + m.name +
                      "'; make `name` in the config match");
  }
  log_->warn(
      "the key in {} ({}) belongs to no member at height {}: this node follows the chain and "
      "takes part once the members admit it by vote (`baton member add`, docs/OPERATIONS.md); "
      "if it should be a member already, check key_file",
      config_.key_file.string(), me.hex(), state_->height);
  return {};
}

MembersView Node::members_view() const {
  // Any thread: the committed state is shared and immutable, the spec const.
  const auto state = views_.committed_state();
  MembersView out;
  if (!state) return out;
  out.height = state->height;
  out.members = chain::current_members(*spec_, *state);
  for (chain::PendingChangeView& c : chain::pending_changes(*spec_, *state)) {
    out.pending.push_back(PendingMemberChange{c.id.hex(), std::move(c.kind), std::move(c.name),
                                              std::move(c.approvers), c.approved_power,
                                              c.quorum_power, c.expires_at_height});
  }
  return out;
}

}  // namespace baton::node

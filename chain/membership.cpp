#include "chain/membership.h"

namespace baton::chain {

// Until the ledger holds a membership change (issue 18, §25) the members are
// the genesis members; after it, the state's immutable MemberSet.
const std::vector<GenesisMember>& current_members(const ChainSpec& spec, const LedgerState& state) {
  const auto& set = state.membership.current;
  return set ? set->members() : spec.genesis.members;
}

const ValidatorSet& current_validators(const ChainSpec& spec, const LedgerState& state) {
  const auto& set = state.membership.current;
  return set ? set->validators() : spec.validators;
}

const ValidatorSet& signers_of_state_block(const ChainSpec& spec, const LedgerState& state) {
  const MembershipState& m = state.membership;
  // A change applied in the state's own block holds from the next block: that
  // block was signed by the set before it.
  if (m.last_change_height != 0 && m.last_change_height == state.height)
    return m.previous ? m.previous->validators() : spec.validators;
  return current_validators(spec, state);
}

const ChainSpec& member_spec(const ChainSpec& spec, const LedgerState& state) {
  const auto& set = state.membership.current;
  return set ? set->view : spec;
}

namespace {

std::string_view kind_name(pb::MemberChange::Kind kind) {
  switch (kind) {
    case pb::MemberChange::ADD:
      return "add";
    case pb::MemberChange::REMOVE:
      return "remove";
    case pb::MemberChange::UPDATE:
      return "update";
    case pb::MemberChange::REPLACE_KEYS:
      return "replace_keys";
    default:
      return "unknown";
  }
}

}  // namespace

std::vector<PendingChangeView> pending_changes(const ChainSpec& spec, const LedgerState& state) {
  const ValidatorSet& validators = current_validators(spec, state);
  const auto& members = validators.members();
  // The least p with 3p > 2 * total (ValidatorSet::has_quorum).
  const std::uint64_t quorum = validators.total_power() * 2 / 3 + 1;
  std::vector<PendingChangeView> out;
  out.reserve(state.membership.pending.size());
  for (const auto& [id, p] : state.membership.pending) {
    PendingChangeView v;
    v.id = id;
    v.kind = std::string(kind_name(p.change.kind()));
    v.name = p.change.name();
    v.approvers.assign(p.approvers.begin(), p.approvers.end());
    for (const auto& m : members)
      if (p.approvers.contains(m.name)) v.approved_power += m.power;
    v.quorum_power = quorum;
    v.expires_at_height = p.change.expires_at_height();
    out.push_back(std::move(v));
  }
  return out;
}

Genesis decoding_genesis(const Genesis& genesis, const MembershipState& membership) {
  Genesis g = genesis;
  if (membership.current) g.members = membership.current->members();
  g.members.insert(g.members.end(), membership.removed.begin(), membership.removed.end());
  for (auto& m : g.members) {
    m.power = 0;
    m.roles = {std::string(kRoleAdmin), std::string(kRoleValidator), std::string(kRolePartner),
               std::string(kRoleSponsor)};
  }
  GenesisMember voter;  // '#' is no member name character (validate_member_name)
  voter.name = "#voter";
  voter.power = 1;
  g.members.push_back(std::move(voter));
  return g;
}

}  // namespace baton::chain

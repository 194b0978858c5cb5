#include "chain/membership_steps.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "chain/encoding.h"
#include "chain/genesis.h"
#include "chain/keys.h"
#include "chain/membership.h"
#include "chain/transaction.h"

namespace baton::chain {
namespace {

constexpr std::string_view kKeyRotationDomain = "baton/key-rotation/v1";
constexpr std::uint64_t kMaxTotalPower = std::numeric_limits<std::uint64_t>::max() / 8;

const GenesisMember* find_by_name(const std::vector<GenesisMember>& members,
                                  std::string_view name) {
  for (const auto& m : members)
    if (m.name == name) return &m;
  return nullptr;
}

std::uint64_t total_power(const std::vector<GenesisMember>& members) {
  std::uint64_t total = 0;
  for (const auto& m : members) total += m.power;
  return total;
}

// The roles and power rules of the genesis (validate_genesis): known roles,
// none twice, power > 0 exactly with "validator", a sponsor neither votes nor
// trains. And a p2p address of printable ASCII within its bound.
bool valid_fields(std::string_view p2p_address, std::uint64_t power,
                  const google::protobuf::RepeatedPtrField<std::string>& roles) {
  if (p2p_address.size() > kMaxP2pAddressBytes || !validate_p2p_address(p2p_address)) return false;
  if (!std::all_of(p2p_address.begin(), p2p_address.end(),
                   [](char c) { return c > 0x20 && c <= 0x7e; }))
    return false;
  if (power > kMaxTotalPower) return false;
  if (static_cast<std::size_t>(roles.size()) > kMaxRolesPerMember) return false;
  bool validator = false, partner = false, sponsor = false;
  for (int i = 0; i < roles.size(); ++i) {
    const std::string& r = roles[i];
    if (r != kRoleAdmin && r != kRoleValidator && r != kRolePartner && r != kRoleSponsor)
      return false;
    for (int j = 0; j < i; ++j)
      if (roles[j] == r) return false;
    validator |= r == kRoleValidator;
    partner |= r == kRolePartner;
    sponsor |= r == kRoleSponsor;
  }
  if ((power > 0) != validator) return false;
  if (sponsor && (validator || partner)) return false;
  return true;
}

bool valid_keys(const std::string& ed25519, const std::string& x25519) {
  return ed25519.size() == 32 && x25519.size() == 32 && PublicKey::from_bytes(as_bytes(ed25519));
}

bool no_keys(const pb::MemberChange& c) { return c.ed25519().empty() && c.x25519().empty(); }
bool no_fields(const pb::MemberChange& c) {
  return c.p2p_address().empty() && c.power() == 0 && c.roles_size() == 0;
}

// The checks a MemberChange's payload passes without the state (§25.2).
bool well_formed(const pb::MemberChange& c) {
  if (!validate_member_name(c.name())) return false;
  switch (c.kind()) {
    case pb::MemberChange::ADD:
      return valid_keys(c.ed25519(), c.x25519()) &&
             valid_fields(c.p2p_address(), c.power(), c.roles());
    case pb::MemberChange::REMOVE:
      return no_keys(c) && no_fields(c);
    case pb::MemberChange::UPDATE:
      return no_keys(c) && valid_fields(c.p2p_address(), c.power(), c.roles());
    case pb::MemberChange::REPLACE_KEYS:
      return valid_keys(c.ed25519(), c.x25519()) && no_fields(c);
    default:
      return false;
  }
}

PublicKey ed_of(const std::string& bytes) { return PublicKey::from_bytes(as_bytes(bytes)).value(); }
X25519PublicKey x_of(const std::string& bytes) {
  X25519PublicKey k;
  std::copy(bytes.begin(), bytes.end(), k.bytes.begin());
  return k;
}

// Is either key held by a member of `members`, retired, or staged by a
// rotation in this block?
bool keys_taken(const std::vector<GenesisMember>& members, const MembershipState& m,
                const PublicKey& ed, const X25519PublicKey& x) {
  for (const auto& member : members)
    if (member.ed25519 == ed || member.x25519 == x) return true;
  if (m.retired_ed25519.contains(ed) || m.retired_x25519.contains(x)) return true;
  for (const auto& s : m.staged)
    if (s.ed25519 == ed || s.x25519 == x) return true;
  return false;
}

bool name_retired(const MembershipState& m, std::string_view name) {
  return std::any_of(m.removed.begin(), m.removed.end(),
                     [&](const GenesisMember& r) { return r.name == name; });
}

// Could `c` (well formed) apply to `members` now?
std::optional<ProtocolRejected> check_against(const std::vector<GenesisMember>& members,
                                              const MembershipState& m, const pb::MemberChange& c) {
  const GenesisMember* target = find_by_name(members, c.name());
  const std::uint64_t total = total_power(members);
  switch (c.kind()) {
    case pb::MemberChange::ADD:
      if (target != nullptr || name_retired(m, c.name())) return ProtocolRejected::name_taken;
      if (members.size() >= kMaxMembers) return ProtocolRejected::too_many_members;
      if (keys_taken(members, m, ed_of(c.ed25519()), x_of(c.x25519())))
        return ProtocolRejected::key_taken;
      if (c.power() > kMaxTotalPower - total) return ProtocolRejected::bad_member_fields;
      return std::nullopt;
    case pb::MemberChange::REMOVE:
      if (target == nullptr) return ProtocolRejected::unknown_member;
      if (members.size() == 1 || total - target->power == 0)
        return ProtocolRejected::last_validator;
      return std::nullopt;
    case pb::MemberChange::UPDATE:
      if (target == nullptr) return ProtocolRejected::unknown_member;
      if (total - target->power + c.power() == 0) return ProtocolRejected::last_validator;
      if (c.power() > kMaxTotalPower - (total - target->power))
        return ProtocolRejected::bad_member_fields;
      return std::nullopt;
    case pb::MemberChange::REPLACE_KEYS:
      if (target == nullptr) return ProtocolRejected::unknown_member;
      if (keys_taken(members, m, ed_of(c.ed25519()), x_of(c.x25519())))
        return ProtocolRejected::key_taken;
      return std::nullopt;
    default:
      return ProtocolRejected::bad_member_fields;
  }
}

void retire_keys(MembershipState& m, const GenesisMember& member) {
  m.retired_ed25519.emplace(member.ed25519, member.name);
  m.retired_x25519.insert(member.x25519);
}

// Applies `c` (check_against passed) to `members`.
void apply_change(std::vector<GenesisMember>& members, MembershipState& m,
                  const pb::MemberChange& c) {
  auto it = std::find_if(members.begin(), members.end(),
                         [&](const GenesisMember& x) { return x.name == c.name(); });
  switch (c.kind()) {
    case pb::MemberChange::ADD: {
      GenesisMember added;
      added.name = c.name();
      added.ed25519 = ed_of(c.ed25519());
      added.x25519 = x_of(c.x25519());
      added.p2p_address = c.p2p_address();
      added.power = c.power();
      added.roles.assign(c.roles().begin(), c.roles().end());
      added.balance = 0;
      members.push_back(std::move(added));
      return;
    }
    case pb::MemberChange::REMOVE:
      retire_keys(m, *it);
      m.removed.push_back(*it);
      m.removed.back().balance = 0;
      members.erase(it);
      return;
    case pb::MemberChange::UPDATE:
      it->p2p_address = c.p2p_address();
      it->power = c.power();
      it->roles.assign(c.roles().begin(), c.roles().end());
      return;
    case pb::MemberChange::REPLACE_KEYS:
      retire_keys(m, *it);
      it->ed25519 = ed_of(c.ed25519());
      it->x25519 = x_of(c.x25519());
      return;
    default:
      std::abort();  // check_against refused it
  }
}

bool has_quorum(const std::vector<GenesisMember>& members, const std::set<std::string>& approvers) {
  std::uint64_t total = 0, approved = 0;
  for (const auto& m : members) {
    total += m.power;
    if (approvers.contains(m.name)) approved += m.power;
  }
  return 3 * static_cast<unsigned __int128>(approved) > 2 * static_cast<unsigned __int128>(total);
}

std::optional<ProtocolRejected> check_change(const LedgerState& state, const Validator& sender,
                                             const pb::Transaction& tx, std::uint64_t height,
                                             const std::vector<GenesisMember>& members) {
  if (sender.power == 0) return ProtocolRejected::not_validator;
  pb::MemberChange c;
  if (!parse_canonical(tx.payload(), c)) return ProtocolRejected::bad_member_fields;
  const MembershipState& m = state.membership;
  if (auto it = m.pending.find(sha256(tx.payload())); it != m.pending.end()) {
    if (c.expires_at_height() < height) return ProtocolRejected::change_expired;
    if (it->second.approvers.contains(sender.name)) return ProtocolRejected::already_approved;
    return std::nullopt;
  }
  if (!well_formed(c)) return ProtocolRejected::bad_member_fields;
  if (c.expires_at_height() <= height || c.expires_at_height() - height > kMaxChangeLifetime)
    return ProtocolRejected::change_expired;
  if (m.pending.size() >= kMaxPendingChanges) return ProtocolRejected::too_many_pending;
  const auto own = std::count_if(m.pending.begin(), m.pending.end(),
                                 [&](const auto& p) { return p.second.proposer == sender.name; });
  if (static_cast<std::size_t>(own) >= kMaxPendingPerProposer)
    return ProtocolRejected::too_many_pending;
  return check_against(members, m, c);
}

std::optional<ProtocolRejected> check_rotation(const ChainSpec& spec, const LedgerState& state,
                                               const Validator& sender, const pb::Transaction& tx,
                                               const std::vector<GenesisMember>& members) {
  pb::KeyRotation r;
  if (!parse_canonical(tx.payload(), r) || !valid_keys(r.new_ed25519(), r.new_x25519()) ||
      r.new_key_signature().size() != 64)
    return ProtocolRejected::bad_member_fields;
  const MembershipState& m = state.membership;
  for (const auto& s : m.staged)
    if (s.name == sender.name) return ProtocolRejected::already_rotating;
  const auto rotations =
      std::count_if(m.retired_ed25519.begin(), m.retired_ed25519.end(),
                    [&](const auto& entry) { return entry.second == sender.name; });
  if (static_cast<std::size_t>(rotations) >= kMaxRotationsPerMember)
    return ProtocolRejected::too_many_rotations;
  const PublicKey new_ed = ed_of(r.new_ed25519());
  const X25519PublicKey new_x = x_of(r.new_x25519());
  if (keys_taken(members, m, new_ed, new_x)) return ProtocolRejected::key_taken;
  const Bytes signed_bytes = key_rotation_sign_bytes(spec.network(), sender.key, new_ed, new_x);
  auto sig = Signature::from_bytes(as_bytes(r.new_key_signature()));
  if (!sig || !verify_signature(new_ed, signed_bytes, *sig))
    return ProtocolRejected::bad_rotation_signature;
  return std::nullopt;
}

const Validator* sender_of(const ChainSpec& spec, const LedgerState& state,
                           const pb::Transaction& tx) {
  auto key = PublicKey::from_bytes(as_bytes(tx.sender()));
  return key ? current_validators(spec, state).find(*key) : nullptr;
}

std::optional<ProtocolRejected> check_tx(const ChainSpec& spec, const LedgerState& state,
                                         const Validator& sender, const pb::Transaction& tx,
                                         std::uint64_t height) {
  const auto& members = current_members(spec, state);
  if (tx.type() == pb::TX_MEMBER_CHANGE) return check_change(state, sender, tx, height, members);
  return check_rotation(spec, state, sender, tx, members);
}

}  // namespace

bool is_membership_tx(pb::TxType type) {
  return type == pb::TX_MEMBER_CHANGE || type == pb::TX_KEY_ROTATION;
}

Bytes key_rotation_sign_bytes(const NetworkId& network, const PublicKey& old_ed25519,
                              const PublicKey& new_ed25519, const X25519PublicKey& new_x25519) {
  Bytes body;
  body.reserve(96);
  append_bytes(body, ByteView(old_ed25519.bytes));
  append_bytes(body, ByteView(new_ed25519.bytes));
  append_bytes(body, ByteView(new_x25519.bytes));
  return network_separated(kKeyRotationDomain, network, body);
}

pb::KeyRotation make_key_rotation(const NetworkId& network, const PublicKey& old_ed25519,
                                  const SigningKey& new_key, const X25519PublicKey& new_x25519) {
  pb::KeyRotation r;
  const PublicKey& new_ed = new_key.public_key();
  r.set_new_ed25519(std::string(new_ed.bytes.begin(), new_ed.bytes.end()));
  r.set_new_x25519(std::string(new_x25519.bytes.begin(), new_x25519.bytes.end()));
  const Signature sig =
      new_key.sign(key_rotation_sign_bytes(network, old_ed25519, new_ed, new_x25519));
  r.set_new_key_signature(std::string(sig.bytes.begin(), sig.bytes.end()));
  return r;
}

std::optional<ProtocolRejected> check_membership_tx(const ChainSpec& spec, const LedgerState& state,
                                                    const pb::Transaction& tx,
                                                    std::uint64_t height) {
  const Validator* sender = sender_of(spec, state, tx);
  if (sender == nullptr) return ProtocolRejected::unknown_member;
  return check_tx(spec, state, *sender, tx, height);
}

std::optional<ProtocolRejected> apply_membership_tx(const ChainSpec& spec, LedgerState& state,
                                                    const pb::Transaction& tx,
                                                    std::uint64_t height) {
  const Validator* sender = sender_of(spec, state, tx);
  const auto refused = sender == nullptr ? std::optional(ProtocolRejected::unknown_member)
                                         : check_tx(spec, state, *sender, tx, height);
  if (refused) {
    Refusal r;
    r.height = height;
    r.tx_hash = tx_hash(encode_transaction(tx));
    r.sender = sender == nullptr ? std::string() : sender->name;
    r.type = tx.type();
    r.reason = *refused;
    state.training.refusals.record(std::move(r));
    return refused;
  }
  MembershipState& m = state.membership;
  if (tx.type() == pb::TX_MEMBER_CHANGE) {
    const Hash id = sha256(tx.payload());
    auto it = m.pending.find(id);
    if (it == m.pending.end()) {
      PendingChange p;
      p.payload = tx.payload();
      if (!parse_canonical(p.payload, p.change)) std::abort();  // check_change decoded it
      p.proposer = sender->name;
      it = m.pending.emplace(id, std::move(p)).first;
    }
    it->second.approvers.insert(sender->name);
    return std::nullopt;
  }
  pb::KeyRotation r;
  if (!parse_canonical(tx.payload(), r)) std::abort();  // check_rotation decoded it
  m.staged.push_back(StagedRotation{sender->name, ed_of(r.new_ed25519()), x_of(r.new_x25519())});
  return std::nullopt;
}

bool end_membership_block(const ChainSpec& spec, LedgerState& state, std::uint64_t height) {
  MembershipState& m = state.membership;
  if (m.pending.empty() && m.staged.empty()) return false;
  std::vector<GenesisMember> members = current_members(spec, state);
  bool changed = false;
  for (const StagedRotation& s : m.staged) {
    auto it = std::find_if(members.begin(), members.end(),
                           [&](const GenesisMember& x) { return x.name == s.name; });
    if (it == members.end()) std::abort();  // sets change only here, after the rotations
    retire_keys(m, *it);
    it->ed25519 = s.ed25519;
    it->x25519 = s.x25519;
    changed = true;
  }
  m.staged.clear();
  for (auto it = m.pending.begin(); it != m.pending.end();) {
    if (!has_quorum(members, it->second.approvers)) {
      ++it;
      continue;
    }
    if (!check_against(members, m, it->second.change)) {
      apply_change(members, m, it->second.change);
      changed = true;
    }
    it = m.pending.erase(it);  // applied, or no longer valid: either way done
  }
  std::erase_if(m.pending,
                [&](const auto& p) { return p.second.change.expires_at_height() <= height; });
  if (changed) {
    m.previous = m.current;  // the set that signs this block
    m.last_change_height = height;
    m.current = make_member_set(spec.genesis, spec.genesis_hash, std::move(members));
  }
  return changed;
}

namespace {

struct GrantTarget {
  pb::KeyGrant grant;
  const Run* run = nullptr;
  const SaveRecord* save = nullptr;
  const GenesisMember* recipient = nullptr;
};

std::optional<GrantTarget> member_grant_target(const ChainSpec& spec, const LedgerState& state,
                                               const pb::Transaction& tx) {
  if (tx.type() != pb::TX_KEY_GRANT) return std::nullopt;
  GrantTarget g;
  if (!parse_canonical(tx.payload(), g.grant) || g.grant.model_id().size() != 32)
    return std::nullopt;
  g.run = state.training.find_run(g.grant.run_id());
  if (g.run == nullptr) return std::nullopt;
  if (!g.run->plan.sponsor.empty() && g.grant.recipient() == g.run->plan.sponsor)
    return std::nullopt;
  g.recipient = find_by_name(current_members(spec, state), g.grant.recipient());
  if (g.recipient == nullptr) return std::nullopt;
  const Hash model = Hash::from_bytes(as_bytes(g.grant.model_id())).value();
  if (g.run->find_model(model) == nullptr) return std::nullopt;
  g.save = find_save(*g.run, model);
  if (g.save == nullptr || g.save->wrapped_keys.contains(g.grant.recipient())) return std::nullopt;
  return g;
}

std::optional<ProtocolRejected> check_grant(const GrantTarget& g, const LedgerState& state,
                                            const std::string& sender) {
  const pb::KeyGrant& k = g.grant;
  if (k.key_commitment().size() != 32 || k.wrapped_key().size() != kWrappedKeyBytes)
    return ProtocolRejected::malformed_request;
  if (g.recipient->has_role(kRoleSponsor)) return ProtocolRejected::grant_to_non_sponsor;
  if (!g.save->wrapped_keys.contains(sender)) return ProtocolRejected::not_key_holder;
  if (Hash::from_bytes(as_bytes(k.key_commitment())).value() != g.save->key_commitment)
    return ProtocolRejected::key_commitment_mismatch;
  const MemberGrantKey key{k.run_id(), Hash::from_bytes(as_bytes(k.model_id())).value(),
                           k.recipient()};
  if (state.membership.grants.size() >= kMaxMemberGrants && !state.membership.grants.contains(key))
    return ProtocolRejected::too_many_grants;
  return std::nullopt;
}

std::string sender_name(const ChainSpec& spec, const LedgerState& state,
                        const pb::Transaction& tx) {
  const Validator* v = sender_of(spec, state, tx);
  return v == nullptr ? std::string() : v->name;
}

}  // namespace

bool is_member_grant(const ChainSpec& spec, const LedgerState& state, const pb::Transaction& tx) {
  return member_grant_target(spec, state, tx).has_value();
}

std::optional<ProtocolRejected> check_member_grant(const ChainSpec& spec, const LedgerState& state,
                                                   const pb::Transaction& tx) {
  auto g = member_grant_target(spec, state, tx);
  if (!g) std::abort();  // callers ask is_member_grant first
  return check_grant(*g, state, sender_name(spec, state, tx));
}

std::optional<ProtocolRejected> apply_member_grant(const ChainSpec& spec, LedgerState& state,
                                                   const pb::Transaction& tx,
                                                   std::uint64_t height) {
  auto g = member_grant_target(spec, state, tx);
  if (!g) std::abort();  // callers ask is_member_grant first
  const std::string sender = sender_name(spec, state, tx);
  if (auto refused = check_grant(*g, state, sender)) {
    Refusal r;
    r.height = height;
    r.tx_hash = tx_hash(encode_transaction(tx));
    r.sender = sender;
    r.type = tx.type();
    r.reason = *refused;
    r.run_id = g->grant.run_id();
    state.training.runs.at(g->grant.run_id()).refusals.record(std::move(r));
    return refused;
  }
  const pb::KeyGrant& k = g->grant;
  MemberGrantKey key{k.run_id(), Hash::from_bytes(as_bytes(k.model_id())).value(), k.recipient()};
  state.membership.grants[std::move(key)][sender] = k.wrapped_key();
  return std::nullopt;
}

}  // namespace baton::chain

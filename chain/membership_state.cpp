#include "chain/membership_state.h"

#include <algorithm>
#include <array>
#include <limits>

#include "chain/encoding.h"

namespace baton::chain {
namespace {

void put_str(Bytes& out, std::string_view s) {
  append_u32be(out, static_cast<std::uint32_t>(s.size()));
  append_bytes(out, s);
}

void put_member(Bytes& out, const GenesisMember& m) {
  put_str(out, m.name);
  append_bytes(out, ByteView(m.ed25519.bytes));
  append_bytes(out, ByteView(m.x25519.bytes));
  put_str(out, m.p2p_address);
  append_u64be(out, m.power);
  append_u32be(out, static_cast<std::uint32_t>(m.roles.size()));
  for (const auto& r : m.roles) put_str(out, r);
}

void put_members(Bytes& out, const std::vector<GenesisMember>& members) {
  append_u32be(out, static_cast<std::uint32_t>(members.size()));
  for (const auto& m : members) put_member(out, m);
}

void put_set(Bytes& out, const std::shared_ptr<const MemberSet>& set) {
  append_u8(out, set ? 1 : 0);
  if (set) put_members(out, set->members());
}

bool same_set(const std::shared_ptr<const MemberSet>& a,
              const std::shared_ptr<const MemberSet>& b) {
  if (!a || !b) return !a && !b;
  const auto& x = a->members();
  const auto& y = b->members();
  return std::equal(x.begin(), x.end(), y.begin(), y.end(), same_member);
}

// The smallest bytes of one encoded member: name and p2p lengths, two keys,
// power, role count.
constexpr std::size_t kMinMemberBytes = 4 + 32 + 32 + 4 + 8 + 4;

class Reader {
 public:
  Reader(ByteView bytes, std::size_t pos) : bytes_(bytes), pos_(pos) {}
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t pos() const { return pos_; }
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why) + " at byte " + std::to_string(pos_);
  }
  std::uint8_t u8() { return need(1) ? bytes_[pos_++] : 0; }
  std::uint32_t u32() { return static_cast<std::uint32_t>(be(4)); }
  std::uint64_t u64() { return be(8); }
  bool flag() {
    const std::uint8_t b = u8();
    if (b > 1) fail("a presence byte is neither 0 nor 1");
    return b == 1;
  }
  std::string str(std::size_t max) {
    const std::uint32_t n = u32();
    if (ok() && n > max) fail("a string is longer than its bound");
    if (!need(n)) return {};
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  std::array<std::uint8_t, 32> key() {
    std::array<std::uint8_t, 32> k{};
    if (!need(32)) return k;
    std::copy(bytes_.begin() + pos_, bytes_.begin() + pos_ + 32, k.begin());
    pos_ += 32;
    return k;
  }
  std::uint32_t count(std::size_t min_entry_bytes, std::size_t max) {
    const std::uint32_t n = u32();
    if (!ok()) return 0;
    if (n > max) {
      fail("a count of " + std::to_string(n) + " is above its bound");
      return 0;
    }
    if (static_cast<std::uint64_t>(n) * min_entry_bytes > bytes_.size() - pos_) {
      fail("a count of " + std::to_string(n) + " entries is more than the bytes left hold");
      return 0;
    }
    return n;
  }

 private:
  std::uint64_t be(int width) {
    if (!need(static_cast<std::size_t>(width))) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < width; ++i) v = (v << 8) | bytes_[pos_++];
    return v;
  }
  bool need(std::size_t n) {
    if (!ok()) return false;
    if (bytes_.size() - pos_ < n) {
      fail("the bytes end early");
      return false;
    }
    return true;
  }
  ByteView bytes_;
  std::size_t pos_;
  std::string error_;
};

GenesisMember read_member(Reader& r) {
  GenesisMember m;
  m.name = r.str(64);
  m.ed25519.bytes = r.key();
  m.x25519.bytes = r.key();
  m.p2p_address = r.str(kMaxP2pAddressBytes);
  m.power = r.u64();
  for (std::uint32_t i = 0, n = r.count(4, kMaxRolesPerMember); i < n && r.ok(); ++i)
    m.roles.push_back(r.str(kMaxRoleBytes));
  m.balance = 0;
  return m;
}

std::vector<GenesisMember> read_members(Reader& r, std::size_t max) {
  std::vector<GenesisMember> out;
  for (std::uint32_t i = 0, n = r.count(kMinMemberBytes, max); i < n && r.ok(); ++i)
    out.push_back(read_member(r));
  return out;
}

// A decoded list must be one the ledger could hold: unique names and keys,
// total power in (0, 2^64 / 8).
bool valid_list(const std::vector<GenesisMember>& members) {
  if (members.empty()) return false;
  std::set<std::string_view> names;
  std::set<PublicKey> eds;
  std::set<X25519PublicKey> xs;
  std::uint64_t total = 0;
  for (const auto& m : members) {
    if (!names.insert(m.name).second || !eds.insert(m.ed25519).second ||
        !xs.insert(m.x25519).second)
      return false;
    if (m.power > std::numeric_limits<std::uint64_t>::max() / 8 - total) return false;
    total += m.power;
  }
  return total > 0;
}

}  // namespace

std::shared_ptr<const MemberSet> make_member_set(const Genesis& genesis, const Hash& genesis_hash,
                                                 std::vector<GenesisMember> members) {
  Genesis g = genesis;
  for (auto& m : members) m.balance = 0;
  g.members = std::move(members);
  ValidatorSet validators(g);
  return std::make_shared<const MemberSet>(
      MemberSet{ChainSpec{std::move(g), genesis_hash, std::move(validators)}});
}

bool same_member(const GenesisMember& a, const GenesisMember& b) {
  return a.name == b.name && a.ed25519 == b.ed25519 && a.x25519 == b.x25519 &&
         a.p2p_address == b.p2p_address && a.power == b.power && a.roles == b.roles;
}

bool MembershipState::empty() const {
  return !current && !previous && last_change_height == 0 && removed.empty() &&
         retired_ed25519.empty() && retired_x25519.empty() && pending.empty() && staged.empty() &&
         grants.empty();
}

bool MembershipState::operator==(const MembershipState& o) const {
  return same_set(current, o.current) && same_set(previous, o.previous) &&
         last_change_height == o.last_change_height &&
         std::equal(removed.begin(), removed.end(), o.removed.begin(), o.removed.end(),
                    same_member) &&
         retired_ed25519 == o.retired_ed25519 && retired_x25519 == o.retired_x25519 &&
         pending == o.pending && staged == o.staged && grants == o.grants;
}

Bytes membership_encoding(const MembershipState& m) {
  Bytes out;
  append_u64be(out, m.last_change_height);
  put_set(out, m.current);
  put_set(out, m.previous);
  put_members(out, m.removed);
  append_u32be(out, static_cast<std::uint32_t>(m.retired_ed25519.size()));
  for (const auto& [key, name] : m.retired_ed25519) {  // ascending key bytes
    append_bytes(out, ByteView(key.bytes));
    put_str(out, name);
  }
  append_u32be(out, static_cast<std::uint32_t>(m.retired_x25519.size()));
  for (const auto& key : m.retired_x25519) append_bytes(out, ByteView(key.bytes));
  append_u32be(out, static_cast<std::uint32_t>(m.pending.size()));
  for (const auto& [id, p] : m.pending) {  // ascending id bytes
    put_str(out, p.payload);
    put_str(out, p.proposer);
    append_u32be(out, static_cast<std::uint32_t>(p.approvers.size()));
    for (const auto& name : p.approvers) put_str(out, name);  // ascending
  }
  append_u32be(out, static_cast<std::uint32_t>(m.grants.size()));
  for (const auto& [key, sealed_by] : m.grants) {  // ascending (run id, model id, recipient)
    put_str(out, key.run_id);
    append_bytes(out, ByteView(key.model_id.bytes));
    put_str(out, key.recipient);
    append_u32be(out, static_cast<std::uint32_t>(sealed_by.size()));
    for (const auto& [granter, sealed] : sealed_by) {  // ascending granter
      put_str(out, granter);
      put_str(out, sealed);
    }
  }
  return out;
}

Result<MembershipState> decode_membership(ByteView bytes, std::size_t& pos,
                                          const Genesis& genesis) {
  Reader r(bytes, pos);
  MembershipState m;
  m.last_change_height = r.u64();
  std::vector<GenesisMember> lists[2];
  bool present[2] = {false, false};
  for (int i = 0; i < 2 && r.ok(); ++i) {
    present[i] = r.flag();
    if (present[i]) {
      lists[i] = read_members(r, kMaxMembers);
      if (r.ok() && !valid_list(lists[i])) r.fail("a member list repeats a name or key");
    }
  }
  m.removed = read_members(r, 1u << 16);
  constexpr std::size_t kMaxRetired = 1u << 20;
  for (std::uint32_t i = 0, n = r.count(32 + 4, kMaxRetired); i < n && r.ok(); ++i) {
    PublicKey key;
    key.bytes = r.key();
    std::string name = r.str(64);
    if (!m.retired_ed25519.empty() && !(m.retired_ed25519.rbegin()->first < key))
      r.fail("the retired Ed25519 keys are not in ascending order");
    m.retired_ed25519.emplace_hint(m.retired_ed25519.end(), key, std::move(name));
  }
  for (std::uint32_t i = 0, n = r.count(32, kMaxRetired); i < n && r.ok(); ++i) {
    X25519PublicKey key;
    key.bytes = r.key();
    if (!m.retired_x25519.empty() && !(*m.retired_x25519.rbegin() < key))
      r.fail("the retired X25519 keys are not in ascending order");
    m.retired_x25519.emplace_hint(m.retired_x25519.end(), key);
  }
  for (std::uint32_t i = 0, n = r.count(4 + 4 + 4, kMaxPendingChanges); i < n && r.ok(); ++i) {
    PendingChange p;
    p.payload = r.str(4096);
    p.proposer = r.str(64);
    for (std::uint32_t j = 0, k = r.count(4, kMaxMembers * 4); j < k && r.ok(); ++j) {
      std::string name = r.str(64);
      if (!p.approvers.empty() && !(*p.approvers.rbegin() < name))
        r.fail("a pending change's approvers are not in ascending order");
      p.approvers.insert(p.approvers.end(), std::move(name));
    }
    if (!r.ok()) break;
    if (!parse_canonical(p.payload, p.change)) {
      r.fail("a pending change is not a canonical MemberChange");
      break;
    }
    const Hash id = sha256(p.payload);
    if (!m.pending.empty() && !(m.pending.rbegin()->first < id))
      r.fail("the pending changes are not in ascending id order");
    m.pending.emplace_hint(m.pending.end(), id, std::move(p));
  }
  for (std::uint32_t i = 0, n = r.count(4 + 32 + 4 + 4, kMaxMemberGrants); i < n && r.ok(); ++i) {
    MemberGrantKey key;
    key.run_id = r.str(64);
    key.model_id.bytes = r.key();
    key.recipient = r.str(64);
    std::map<std::string, std::string> sealed_by;
    for (std::uint32_t j = 0, k = r.count(4 + 4, 1u << 16); j < k && r.ok(); ++j) {
      std::string granter = r.str(64);
      std::string sealed = r.str(kWrappedKeyBytes);
      if (r.ok() && sealed.size() != kWrappedKeyBytes) r.fail("a granted key is not sealed");
      if (!sealed_by.empty() && !(sealed_by.rbegin()->first < granter))
        r.fail("a grant's granters are not in ascending order");
      sealed_by.emplace_hint(sealed_by.end(), std::move(granter), std::move(sealed));
    }
    if (r.ok() && sealed_by.empty()) r.fail("a grant has no granter");
    if (!m.grants.empty() && !(m.grants.rbegin()->first < key))
      r.fail("the grants are not in ascending order");
    m.grants.emplace_hint(m.grants.end(), std::move(key), std::move(sealed_by));
  }
  if (!r.ok()) return make_error("the membership part does not decode: " + r.error());
  if (m.pending.size() > kMaxPendingChanges)
    return make_error("the membership part holds too many pending changes");
  const Hash zero{};
  if (present[0]) m.current = make_member_set(genesis, zero, std::move(lists[0]));
  if (present[1]) m.previous = make_member_set(genesis, zero, std::move(lists[1]));
  if (m.empty()) return make_error("the membership part is encoded but empty");
  pos = r.pos();
  return m;
}

}  // namespace baton::chain

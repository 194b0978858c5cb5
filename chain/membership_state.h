// The membership part of the ledger state (issue 18, docs/PROTOCOL.md §25):
// the members after the state's block, the set that signed that block when
// it changed the set, the names and keys retired for ever, and the
// MemberChanges waiting for their quorum.
//
// Member lists are immutable shared objects (MemberSet), built once per
// change: copying a LedgerState copies pointers, and current_members /
// current_validators (chain/membership.h) return references into them.
// Equality and the encoding compare and write contents, never pointers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/crypto.h"
#include "chain/genesis.h"
#include "chain/proto/ledger.pb.h"
#include "chain/result.h"

namespace baton::chain {

// Bounds (docs/PROTOCOL.md §25.4). Every one keeps a hostile member (or a
// hostile quorum's typo) from growing the state without limit.
inline constexpr std::size_t kMaxMembers = 256;              // members at any height
inline constexpr std::size_t kMaxPendingChanges = 64;        // pending, all senders
inline constexpr std::size_t kMaxPendingPerProposer = 4;     // pending first sent by one member
inline constexpr std::uint64_t kMaxChangeLifetime = 100000;  // expires_at_height <= H + this
inline constexpr std::size_t kMaxP2pAddressBytes = 255;
inline constexpr std::size_t kMaxRolesPerMember = 4;
inline constexpr std::size_t kMaxRoleBytes = 16;
// KeyRotations one member may make (retired Ed25519 keys of its name); a
// REPLACE_KEYS by quorum is not bounded by it.
inline constexpr std::size_t kMaxRotationsPerMember = 16;
// Models' keys granted to members that held none of them (§25.7): at most
// this many (model, recipient) pairs.
inline constexpr std::size_t kMaxMemberGrants = 4096;
// Written after the evidence records, before the training part, when the
// membership part is present: no training encoding begins with this run
// count (each run takes more than 50 bytes).
inline constexpr std::uint32_t kMembershipMarker = 0xFFFFFFFFu;

// A member list with the views readers need. Immutable once built.
struct MemberSet {
  // The genesis with `members` in place of the genesis members (balances 0)
  // and the ValidatorSet built from them: what the training protocol's steps
  // read as their ChainSpec. genesis_hash is the spec's when the set was
  // built by a block and all zero when decoded from bytes (no step reads it;
  // signatures are checked against the real ChainSpec).
  ChainSpec view;
  const std::vector<GenesisMember>& members() const { return view.genesis.members; }
  const ValidatorSet& validators() const { return view.validators; }
};

// Precondition: names and keys unique, total power in (0, 2^64 / 8).
std::shared_ptr<const MemberSet> make_member_set(const Genesis& genesis, const Hash& genesis_hash,
                                                 std::vector<GenesisMember> members);

// Every field but the balance.
bool same_member(const GenesisMember& a, const GenesisMember& b);

struct PendingChange {
  std::string payload;              // the MemberChange's canonical bytes; id = SHA-256 of them
  pb::MemberChange change;          // the payload decoded
  std::string proposer;             // the member that sent it first (the per-proposer bound)
  std::set<std::string> approvers;  // names of the validators that sent it
  bool operator==(const PendingChange& o) const {
    return payload == o.payload && proposer == o.proposer && approvers == o.approvers;
  }
};

// A KeyRotation accepted in the block being applied; applied at its end.
// Never present between blocks (so never encoded).
struct StagedRotation {
  std::string name;
  PublicKey ed25519;
  X25519PublicKey x25519;
  bool operator==(const StagedRotation&) const = default;
};

// A model of a run whose key was granted to a member that received no
// wrapped key of it when it was sealed (a newcomer; §25.7).
struct MemberGrantKey {
  std::string run_id;
  Hash model_id;
  std::string recipient;
  auto operator<=>(const MemberGrantKey&) const = default;
};

struct MembershipState {
  std::shared_ptr<const MemberSet> current;   // null: the genesis members
  std::shared_ptr<const MemberSet> previous;  // the set before the last change; null: genesis
  std::uint64_t last_change_height = 0;       // the block of the last change; 0: none yet
  std::vector<GenesisMember> removed;         // removed members (balance 0), in removal order
  std::map<PublicKey, std::string> retired_ed25519;  // every retired key -> its member's name
  std::set<X25519PublicKey> retired_x25519;
  std::map<Hash, PendingChange> pending;  // by id
  std::vector<StagedRotation> staged;     // this block's rotations (empty between blocks)
  // §25.7: per granted (run, model, recipient), each granter's sealed key.
  std::map<MemberGrantKey, std::map<std::string, std::string>> grants;

  // No change ever applied, nothing retired, nothing pending: the state
  // encodes as before issue 18.
  bool empty() const;
  bool operator==(const MembershipState& o) const;
};

// The membership part's bytes (docs/PROTOCOL.md §25.5), without the marker.
Bytes membership_encoding(const MembershipState& m);

// Decodes a membership part from bytes[pos..], advancing pos. Counts are
// checked against the bytes left before anything is allocated; lists must be
// in their canonical order and within the bounds above. The sets are built
// on `genesis` with an all-zero genesis hash.
Result<MembershipState> decode_membership(ByteView bytes, std::size_t& pos, const Genesis& genesis);

}  // namespace baton::chain

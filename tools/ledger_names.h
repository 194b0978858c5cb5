// Names for the keys a stored ledger shows (`baton ledger` views and
// export): every member the ledger ever had, by every Ed25519 key it used.
// The genesis members first; once the ledger changed its members by vote
// (issue 18, docs/PROTOCOL.md §25), also the members, removed members and
// retired keys of the state at the tip: the newest stored snapshot that
// checks out, with the blocks after it validated and applied.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/crypto.h"
#include "storage/ledger_store.h"

namespace baton::tools {

using KeyNames = std::map<chain::PublicKey, std::string>;

// At most this many blocks are applied after the snapshot (a snapshot is
// written every 1,000 blocks by default); past it, or on any block that does
// not validate, the names stop at the state reached (the genesis names at
// worst): a view never fails for want of a name, it shows the key instead.
inline constexpr std::uint64_t kMaxNameReplay = 5000;

struct LedgerMembers {
  KeyNames names;                             // every key ever -> its member's name
  std::vector<chain::GenesisMember> current;  // the members after block `height`
  std::uint64_t height = 0;                   // the tip, unless capped (above)
};

LedgerMembers ledger_members(const chain::ChainSpec& spec, const storage::LedgerStore& store);

}  // namespace baton::tools

#include "tools/ledger_names.h"

#include "chain/membership.h"
#include "storage/ledger_replay.h"

namespace baton::tools {

LedgerMembers ledger_members(const chain::ChainSpec& spec, const storage::LedgerStore& store) {
  LedgerMembers out;
  for (const auto& m : spec.genesis.members) out.names.emplace(m.ed25519, m.name);
  // The newest snapshot that checks out and the blocks after it, up to the
  // first that does not validate; the genesis state if even that fails (a
  // ledger made by state sync whose snapshot is gone).
  std::optional<storage::DamagedBlock> damaged;
  auto replayed = storage::replay_ledger(spec, store, true, &damaged, kMaxNameReplay);
  const chain::LedgerState state =
      replayed ? std::move(replayed->state) : chain::initial_state(spec.genesis_hash);
  out.height = state.height;
  out.current = chain::current_members(spec, state);
  // Current names win over older uses of a key (a removed member's key is
  // never admitted again: docs/PROTOCOL.md §25.2).
  for (const auto& m : state.membership.removed) out.names.insert_or_assign(m.ed25519, m.name);
  for (const auto& [key, name] : state.membership.retired_ed25519) out.names.emplace(key, name);
  for (const auto& m : out.current) out.names.insert_or_assign(m.ed25519, m.name);
  return out;
}

}  // namespace baton::tools

#include "tools/ledger_names.h"

#include "chain/block.h"
#include "chain/membership.h"
#include "chain/validation.h"
#include "storage/state_snapshot.h"

namespace baton::tools {

namespace {

// The newest snapshot's state that restore_snapshot accepts, else genesis.
chain::LedgerState start_state(const chain::ChainSpec& spec, const storage::LedgerStore& store,
                               std::uint64_t tip) {
  if (auto heights = store.snapshot_heights(); heights) {
    for (auto it = heights->rbegin(); it != heights->rend(); ++it) {
      if (*it > tip) continue;
      auto restored = storage::restore_snapshot(spec, store, *it);
      if (restored && *restored) return std::move(*restored).value();
    }
  }
  return chain::initial_state(spec.genesis_hash);
}

// Validates and applies the stored blocks after `state` up to `tip` (at
// most kMaxNameReplay), stopping at the first one that cannot be.
void apply_stored(const chain::ChainSpec& spec, const storage::LedgerStore& store,
                  std::uint64_t tip, chain::LedgerState& state) {
  const std::uint64_t last = std::min(tip, state.height + kMaxNameReplay);
  while (state.height < last) {
    auto bytes = store.block_at(state.height + 1);
    if (!bytes || !bytes->has_value()) return;
    auto committed = chain::decode_committed_block(**bytes);
    if (!committed) return;
    auto checked =
        chain::check_block_stateless(spec, chain::current_validators(spec, state), *committed);
    if (!checked) return;
    auto after = chain::apply_block(spec, state, *checked);
    if (!after) return;
    state = std::move(after).value();
  }
}

}  // namespace

LedgerMembers ledger_members(const chain::ChainSpec& spec, const storage::LedgerStore& store) {
  LedgerMembers out;
  for (const auto& m : spec.genesis.members) out.names.emplace(m.ed25519, m.name);
  const std::uint64_t tip = store.tip().height;
  chain::LedgerState state = start_state(spec, store, tip);
  apply_stored(spec, store, tip, state);
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

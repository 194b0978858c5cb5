// The consortium's members as the ledger has them after a state's block:
// the genesis members until the first membership change, then the members the
// ledger admitted, changed or removed by vote (issue 18, docs/PROTOCOL.md §25).
//
// Every reader that asks "is this key a member, with what power and roles?"
// asks these functions with the state it is checking against, never the
// genesis: a block at height H + 1 is checked against the state after H.
// Baton's rule for when a change takes effect: a change committed in block H
// holds from block H + 1 (docs/PROTOCOL.md §25 says why not H + 2).
//
// The references stay valid while `spec` and `state` (or a copy of `state`)
// live; they are cheap to call (no allocation).
#pragma once

#include <vector>

#include "chain/chain_spec.h"
#include "chain/genesis.h"
#include "chain/ledger_state.h"
#include "chain/validator_set.h"

namespace baton::chain {

// The members after the state's block, in order: genesis order, then the
// order in which the ledger admitted them. `balance` is unused here.
const std::vector<GenesisMember>& current_members(const ChainSpec& spec, const LedgerState& state);

// The members as a ValidatorSet: what checks the senders of the transactions
// of block state.height + 1, and the commit of that block.
const ValidatorSet& current_validators(const ChainSpec& spec, const LedgerState& state);

// The set that signed the state's own block (height state.height): the set
// before the last change when that change was committed in this very block.
// What a snapshot at height H checks block H's commit against.
const ValidatorSet& signers_of_state_block(const ChainSpec& spec, const LedgerState& state);

}  // namespace baton::chain

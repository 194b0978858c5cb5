// Rebuilding the ledger state from the committed blocks a store holds, at
// start-up. The store holds only blocks this node validated before
// appending, but every block is checked in full again: a damaged store shows
// here, as a sentence for the operator, not as a fork later.
#pragma once

#include "chain/chain_spec.h"
#include "chain/ledger_state.h"
#include "chain/result.h"
#include "storage/block_store.h"

namespace baton::node {

// The state after every block of `store`, from the genesis state. An error
// names the first height that cannot be read, decoded or validated and tells
// the operator what to do.
Result<chain::LedgerState> replay_ledger(const chain::ChainSpec& spec,
                                         const storage::BlockStore& store);

}  // namespace baton::node

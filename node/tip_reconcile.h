// After a storage failure, the ledger store is reopened and its tip compared
// with the state this node last committed (node_storage.cpp, recover_storage).
// The pure half: what the comparison means, step by step.
//
//   - The store's tip below the committed height: blocks this node committed
//     are gone; refuse (the operator restores DATA/ledger).
//   - Above it: a write reported as failed can still have landed. The stored
//     block at committed height + 1 is adopted only after the full check a
//     synced block gets (block_exchange.h, check_committed_bytes); one block
//     at a time until the heights agree.
//   - At the same height: the tip's block id must be the committed one, and
//     the tip's stored bytes must still read back as that block.
//
// Each refusal is a sentence for the operator (the node halts with it and
// waits). Pure: no I/O, no clock; the caller reads the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "chain/result.h"
#include "chain/chain_spec.h"
#include "chain/ledger_state.h"
#include "storage/block_store.h"

namespace baton::node {

enum class TipStep {
  in_step,     // heights and block ids agree: check the tip reads back (tip_reads_back)
  adopt_next,  // the store holds blocks beyond the state: check and adopt the next one
  refuse,      // they cannot be reconciled: TipDecision::why says why
};

struct TipDecision {
  TipStep step = TipStep::in_step;
  std::uint64_t height = 0;  // adopt_next: the height to read and check
  std::string why;           // refuse: the sentence
};

// The next step given the store's tip and the committed state.
TipDecision next_tip_step(const storage::Tip& tip, const chain::LedgerState& state);

// The state after the block stored at `height` (= state.height + 1, below
// or at the store's tip `tip_height`), or why it cannot be adopted: missing,
// not decodable, or not valid on `state`. `stored`: what the store returned
// for that height.
Result<chain::LedgerState> adopt_stored_block(const chain::ChainSpec& spec,
                                              const chain::LedgerState& state, std::uint64_t height,
                                              std::uint64_t tip_height,
                                              const std::optional<std::string>& stored);

// Whether the store's bytes at the committed height (`stored`, nullopt when
// missing) still hash to the committed block id. Nothing to check at
// height 0.
Status tip_reads_back(const chain::LedgerState& state, const std::optional<std::string>& stored);

}  // namespace baton::node

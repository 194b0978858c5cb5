// Account history: every credit and debit of the ledger's balances, read
// from its blocks (issue 13, `baton account history`). The history is not
// kept in the state (it grows with the chain); a reader replays the blocks
// with apply_block and records, after each step, each balance that changed.
// So the history is exactly what the state machine did, including effects
// that no transaction names (the genesis allocations at block 1, payouts at
// a deadline in end_block).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/crypto.h"
#include "chain/ledger_state.h"
#include "chain/validation.h"

namespace baton::chain {

struct AccountEntry {
  std::uint64_t height = 0;  // the block whose step moved the credits
  std::string member;        // whose balance changed
  bool credit = false;       // true: credits came in; false: credits went out
  std::uint64_t amount = 0;  // > 0
  std::uint64_t balance_after = 0;
  // What moved them: "genesis" (the allocation at block 1), the transaction
  // type in lower case without "tx_" ("transfer", ...), or "end_block" (an
  // effect of a deadline); for a turn's stake (docs/PROTOCOL.md §19.9)
  // "deposit_locked" (its LoadRequest), "deposit_refund" (to the partner
  // when the turn ended) or "deposit_forfeit" (a voter's share).
  std::string kind;
  // The other side: a member name (a transfer's sender or recipient, the
  // partner whose forfeit a voter received), "run:ID" (a transaction naming
  // a run, a deposit locked or refunded), "genesis", or "" when unknown.
  std::string counterparty;
  std::optional<Hash> tx_hash;  // the transaction's, when a transaction moved them
  bool operator==(const AccountEntry&) const = default;
};

// Replays blocks and collects the entries of one member (or of all).
class AccountHistory {
 public:
  // `member` empty: every member's entries. `spec` must outlive this.
  AccountHistory(const ChainSpec& spec, std::string member);

  // apply_block(spec, before, block) recording the entries of its steps.
  // When the block is refused nothing of it is recorded.
  Verdict<LedgerState, BlockFault> apply(const LedgerState& before, const DecodedBlock& block);

  const std::vector<AccountEntry>& entries() const { return entries_; }

 private:
  const ChainSpec& spec_;
  std::string member_;
  std::vector<AccountEntry> entries_;
};

}  // namespace baton::chain

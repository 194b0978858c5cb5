// Accounts: integer credit balances keyed by member name, part of the hashed
// ledger state (issue 13). docs/PROTOCOL.md, "Accounts and escrow".
//
// Credits are u64 integers; no floating point, no negative balance. Money is
// conserved: the genesis allocations (at most UINT64_MAX in all,
// validate_genesis) are credited at block 1 and every later effect moves
// credits between balances (and, later, escrows) without creating any. So
// no balance can overflow; credit() aborts if that invariant ever breaks
// (a bug: halt rather than commit a wrong state).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "chain/crypto.h"

namespace baton::chain {

struct Genesis;

struct Accounts {
  // Member name -> credits. Only non-zero balances are kept (absent = 0), so
  // one set of balances has exactly one encoding.
  std::map<std::string, std::uint64_t> balances;

  bool empty() const { return balances.empty(); }
  std::uint64_t balance(std::string_view member) const;
  bool operator==(const Accounts&) const = default;
};

// Adds `amount` to `member`'s balance. Aborts on overflow (see above).
void credit(Accounts& accounts, const std::string& member, std::uint64_t amount);
// Takes `amount` from `member`'s balance. Precondition: the balance holds it
// (the caller checked); aborts otherwise.
void debit(Accounts& accounts, const std::string& member, std::uint64_t amount);

// The genesis allocations (GenesisMember::balance), credited at the start of
// block 1 like the genesis training plan's run.
void credit_genesis_allocations(Accounts& accounts, const Genesis& genesis);

// Canonical bytes, appended to the training state's encoding when the
// accounts are not empty (docs/PROTOCOL.md, "Accounts and escrow"):
//   u32be number of balances, then per member in ascending name bytes:
//         u32be len(name) || name || u64be balance
void append_accounts_encoding(Bytes& out, const Accounts& accounts);

}  // namespace baton::chain

#include "chain/accounts.h"

#include <cstdlib>
#include <limits>

#include "chain/encoding.h"
#include "chain/genesis.h"

namespace baton::chain {

std::uint64_t Accounts::balance(std::string_view member) const {
  auto it = balances.find(std::string(member));
  return it == balances.end() ? 0 : it->second;
}

void credit(Accounts& accounts, const std::string& member, std::uint64_t amount) {
  if (amount == 0) return;
  std::uint64_t& b = accounts.balances[member];
  // Conservation (chain/accounts.h) keeps every balance <= the genesis total.
  if (b > std::numeric_limits<std::uint64_t>::max() - amount) std::abort();
  b += amount;
}

void debit(Accounts& accounts, const std::string& member, std::uint64_t amount) {
  if (amount == 0) return;
  auto it = accounts.balances.find(member);
  if (it == accounts.balances.end() || it->second < amount) std::abort();  // callers check
  it->second -= amount;
  if (it->second == 0) accounts.balances.erase(it);  // only non-zero balances are kept
}

void credit_genesis_allocations(Accounts& accounts, const Genesis& genesis) {
  for (const auto& m : genesis.members) credit(accounts, m.name, m.balance);
}

void append_accounts_encoding(Bytes& out, const Accounts& accounts) {
  append_u32be(out, static_cast<std::uint32_t>(accounts.balances.size()));
  for (const auto& [name, balance] : accounts.balances) {
    append_u32be(out, static_cast<std::uint32_t>(name.size()));
    append_bytes(out, name);
    append_u64be(out, balance);
  }
}

}  // namespace baton::chain

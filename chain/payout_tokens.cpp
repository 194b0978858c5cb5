#include "chain/payout_tokens.h"

namespace baton::chain {

std::map<std::string, std::uint64_t> payout_tokens(const Run& run) {
  std::map<std::string, std::uint64_t> tokens;
  for (const auto& partner : run.plan.partners) {
    auto it = run.contributivity_ppm.find(partner);
    const std::int64_t c = it == run.contributivity_ppm.end() ? 0 : it->second;
    tokens[partner] = c > 0 ? static_cast<std::uint64_t>(c) : 0;
  }
  return tokens;
}

std::map<std::string, std::uint64_t> escrow_payouts(
    std::uint64_t escrow, const std::map<std::string, std::uint64_t>& tokens,
    const std::string& sponsor) {
  using u128 = unsigned __int128;
  std::map<std::string, std::uint64_t> out;
  u128 total = 0;  // at most (number of partners) * 2^64: fits
  for (const auto& [name, t] : tokens) total += t;
  std::uint64_t paid = 0;
  if (total > 0) {
    for (const auto& [name, t] : tokens) {
      // escrow * t < 2^128, and the quotient is at most escrow.
      const auto share = static_cast<std::uint64_t>(static_cast<u128>(escrow) * t / total);
      if (share == 0) continue;
      out[name] += share;
      paid += share;
    }
  }
  if (escrow > paid) out[sponsor] += escrow - paid;
  return out;
}

}  // namespace baton::chain

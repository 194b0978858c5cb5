#include "chain/validator_set.h"

#include <cstdlib>

namespace baton::chain {

ValidatorSet::ValidatorSet(const Genesis& genesis) {
  members_.reserve(genesis.members.size());
  for (const auto& m : genesis.members) {
    // Unique keys are validate_genesis's promise; a duplicate here is a bug.
    if (!index_.emplace(m.ed25519, members_.size()).second) std::abort();
    members_.push_back(Validator{m.name, m.ed25519, m.power});
    total_power_ += m.power;
  }
  if (total_power_ == 0) std::abort();
}

const Validator* ValidatorSet::find(const PublicKey& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &members_[it->second];
}

std::optional<std::size_t> ValidatorSet::index_of(const PublicKey& key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

bool ValidatorSet::is_validator(const PublicKey& key) const {
  const Validator* v = find(key);
  return v != nullptr && v->power > 0;
}

// validate_genesis keeps the total below 2^64 / 8, so 3 * total cannot
// overflow; callers may pass any power up to the total.
bool ValidatorSet::has_quorum(std::uint64_t power) const {
  if (power > total_power_) power = total_power_;
  return 3 * power > 2 * total_power_;
}

bool ValidatorSet::exceeds_one_third(std::uint64_t power) const {
  if (power > total_power_) power = total_power_;
  return 3 * power > total_power_;
}

}  // namespace baton::chain

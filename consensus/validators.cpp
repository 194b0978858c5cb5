#include "consensus/validators.h"

#include <cstdlib>
#include <numeric>
#include <set>

namespace baton::consensus {
namespace {

// Rotation periods up to this many slots are laid out smoothly; larger total
// powers (after dividing by the gcd) fall back to contiguous ranges, which
// are still exactly proportional to power.
constexpr std::uint64_t kMaxSchedule = 1 << 16;

}  // namespace

ValidatorSet::ValidatorSet(std::vector<Validator> validators) : validators_(std::move(validators)) {
  if (validators_.empty()) std::abort();
  std::set<chain::PublicKey> seen;
  std::uint64_t g = 0;
  for (const auto& v : validators_) {
    if (v.power == 0 || v.power >= (std::uint64_t{1} << 62)) std::abort();
    if (!seen.insert(v.key).second) std::abort();
    total_power_ += v.power;
    if (total_power_ >= (std::uint64_t{1} << 62)) std::abort();
    g = std::gcd(g, v.power);
  }
  const std::uint64_t period = total_power_ / g;
  if (period > kMaxSchedule) return;
  // Smooth weighted round-robin (as in nginx and Tendermint's proposer
  // priorities): every slot each member gains its weight, the richest
  // proposes and pays the total. Ties go to the lower genesis index.
  std::vector<std::int64_t> current(validators_.size(), 0);
  schedule_.reserve(period);
  for (std::uint64_t slot = 0; slot < period; ++slot) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < validators_.size(); ++i) {
      current[i] += static_cast<std::int64_t>(validators_[i].power / g);
      if (current[i] > current[best]) best = i;
    }
    current[best] -= static_cast<std::int64_t>(period);
    schedule_.push_back(static_cast<std::uint32_t>(best));
  }
}

ValidatorSet ValidatorSet::from_chain(const chain::ValidatorSet& set) {
  std::vector<Validator> voting;
  for (const auto& m : set.members()) {
    if (m.power > 0) voting.push_back(Validator{m.key, m.power});
  }
  return ValidatorSet(std::move(voting));
}

std::optional<std::size_t> ValidatorSet::index_of(const chain::PublicKey& key) const {
  for (std::size_t i = 0; i < validators_.size(); ++i) {
    if (validators_[i].key == key) return i;
  }
  return std::nullopt;
}

std::size_t ValidatorSet::proposer(std::uint64_t height, std::uint32_t round) const {
  const std::uint64_t slot = height + round;
  if (!schedule_.empty()) return schedule_[slot % schedule_.size()];
  std::uint64_t point = slot % total_power_;
  for (std::size_t i = 0; i < validators_.size(); ++i) {
    if (point < validators_[i].power) return i;
    point -= validators_[i].power;
  }
  std::abort();  // unreachable: point < total_power_
}

}  // namespace baton::consensus

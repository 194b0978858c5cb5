// The validator set the consensus engine works with: genesis members with
// voting power, quorum arithmetic, and deterministic weighted proposer
// rotation. Pure; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "chain/crypto.h"
#include "chain/validator_set.h"

namespace baton::consensus {

struct Validator {
  chain::PublicKey key;
  std::uint64_t power = 0;
  bool operator==(const Validator&) const = default;
};

class ValidatorSet {
 public:
  // Precondition (checked, abort on violation: it comes from a genesis that
  // node/ has already validated): at least one validator, every power > 0,
  // no duplicate key, total power < 2^62.
  explicit ValidatorSet(std::vector<Validator> validators);

  // The members of a genesis validator set that hold voting power (power-0
  // members do not vote in consensus), in genesis order.
  static ValidatorSet from_chain(const chain::ValidatorSet& set);

  std::size_t size() const { return validators_.size(); }
  const Validator& at(std::size_t index) const { return validators_.at(index); }
  const std::vector<Validator>& members() const { return validators_; }
  std::uint64_t total_power() const { return total_power_; }
  // Same members, in the same order, with the same powers.
  bool operator==(const ValidatorSet& other) const { return validators_ == other.validators_; }

  // Index of `key` in genesis order, or nullopt for a non-member.
  std::optional<std::size_t> index_of(const chain::PublicKey& key) const;

  // power * 3 > total * 2: Tendermint's "2f+1".
  bool is_quorum(std::uint64_t power) const { return power * 3 > total_power_ * 2; }
  // power * 3 > total: Tendermint's "f+1" (at least one honest member).
  bool is_one_third(std::uint64_t power) const { return power * 3 > total_power_; }

  // The proposer of (height, round): a smooth weighted round-robin over the
  // members (each proposes in proportion to its power, interleaved), indexed
  // by height + round. Same answer on every node.
  std::size_t proposer(std::uint64_t height, std::uint32_t round) const;

 private:
  std::vector<Validator> validators_;
  std::uint64_t total_power_ = 0;
  std::vector<std::uint32_t> schedule_;  // one period of the rotation
};

}  // namespace baton::consensus

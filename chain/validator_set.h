// The consortium's members and their voting power, in genesis order. Used by
// transaction checks (is the sender a member?), commit checks (is the signer a
// validator, is there a quorum?) and by consensus (proposer rotation).
// Immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "chain/crypto.h"
#include "chain/genesis.h"

namespace baton::chain {

struct Validator {
  std::string name;
  PublicKey key;
  std::uint64_t power = 0;  // 0: a member that does not vote in consensus
};

class ValidatorSet {
 public:
  // Precondition: validate_genesis(genesis) passes (names and keys unique,
  // total power > 0); parse_genesis guarantees it.
  explicit ValidatorSet(const Genesis& genesis);

  // Every member, in genesis order, including those with power 0.
  const std::vector<Validator>& members() const { return members_; }
  std::size_t size() const { return members_.size(); }

  // The member with this key, or nullptr. O(log n).
  const Validator* find(const PublicKey& key) const;
  // Its position in members(), if any.
  std::optional<std::size_t> index_of(const PublicKey& key) const;
  bool is_member(const PublicKey& key) const { return find(key) != nullptr; }
  bool is_validator(const PublicKey& key) const;  // a member with power > 0

  std::uint64_t total_power() const { return total_power_; }

  // True when `power` is strictly more than two thirds of the total:
  //   3 * power > 2 * total_power()
  // (computed without overflow). With 4 equal validators that is 3 of 4; with
  // 3 it is 3 of 3. Tendermint's safety needs exactly this bound.
  bool has_quorum(std::uint64_t power) const;

  // True when `power` is strictly more than one third of the total
  // (3 * power > total): any such set holds at least one honest validator
  // (Tendermint's f+1 rule for skipping to a higher round).
  bool exceeds_one_third(std::uint64_t power) const;

 private:
  std::vector<Validator> members_;
  std::map<PublicKey, std::size_t> index_;
  std::uint64_t total_power_ = 0;
};

}  // namespace baton::chain

// Votes of one type at one (height, round), weighted by voting power. Each
// validator counts once towards the total ("2f+1 of any kind"); towards one
// value it counts if it signed a vote for that value. An equivocating
// validator may thus count for two values: that is safe, because two
// quorums intersect in more than 1/3 of the power, so in at least one
// correct validator, who never signs two values. Keeping the second vote
// lets correct nodes assemble a quorum that others saw even when the
// equivocator sent them the other vote first. Pure; no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "chain/crypto.h"
#include "chain/proto/ledger.pb.h"

namespace baton::consensus {

// nullopt is a vote for nil.
using BlockIdOrNil = std::optional<chain::Hash>;

class VoteSet {
 public:
  // At most this many different votes are kept per validator; more are
  // reported as conflicting but not stored (bounded memory under attack).
  static constexpr std::size_t kMaxValuesPerValidator = 3;

  explicit VoteSet(std::size_t validator_count) : votes_(validator_count) {}

  enum class AddResult { added, duplicate, conflicting };
  // Precondition: `validator` < validator_count, `vote` already verified.
  // `conflicting`: the validator had voted for another value; this vote is
  // kept and counted for its value (within the bound), not in the total.
  AddResult add(std::size_t validator, std::uint64_t power, const chain::pb::Vote& vote);

  // The first vote of `validator`, if any.
  const chain::pb::Vote* first(std::size_t validator) const;
  // True if exactly this vote (same value and signature) is already held.
  bool contains(std::size_t validator, const chain::pb::Vote& vote) const;
  std::uint64_t total_power() const { return total_; }
  std::uint64_t power_for(const BlockIdOrNil& id) const;
  // Votes for `id`, in validator order (for a Commit or a proof-of-lock).
  std::vector<chain::pb::Vote> votes_for(const BlockIdOrNil& id) const;

 private:
  std::vector<std::vector<chain::pb::Vote>> votes_;
  std::map<BlockIdOrNil, std::uint64_t> power_;
  std::uint64_t total_ = 0;
};

BlockIdOrNil block_id_of_vote(const chain::pb::Vote& vote);

}  // namespace baton::consensus

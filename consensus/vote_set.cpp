#include "consensus/vote_set.h"

#include <algorithm>

namespace baton::consensus {

BlockIdOrNil block_id_of_vote(const chain::pb::Vote& vote) {
  if (vote.block_id().size() != 32) return std::nullopt;
  chain::Hash h;
  std::copy(vote.block_id().begin(), vote.block_id().end(), h.bytes.begin());
  return h;
}

VoteSet::AddResult VoteSet::add(std::size_t validator, std::uint64_t power,
                                const chain::pb::Vote& vote) {
  auto& held = votes_.at(validator);
  for (const auto& v : held) {
    if (v.block_id() == vote.block_id()) return AddResult::duplicate;
  }
  const bool first_vote = held.empty();
  if (held.size() < kMaxValuesPerValidator) {
    held.push_back(vote);
    power_[block_id_of_vote(vote)] += power;
  }
  if (!first_vote) return AddResult::conflicting;
  total_ += power;
  return AddResult::added;
}

const chain::pb::Vote* VoteSet::first(std::size_t validator) const {
  const auto& held = votes_.at(validator);
  return held.empty() ? nullptr : &held.front();
}

bool VoteSet::contains(std::size_t validator, const chain::pb::Vote& vote) const {
  const auto& held = votes_.at(validator);
  return std::any_of(held.begin(), held.end(), [&](const chain::pb::Vote& v) {
    return v.block_id() == vote.block_id() && v.signature() == vote.signature();
  });
}

std::uint64_t VoteSet::power_for(const BlockIdOrNil& id) const {
  const auto it = power_.find(id);
  return it == power_.end() ? 0 : it->second;
}

std::vector<chain::pb::Vote> VoteSet::votes_for(const BlockIdOrNil& id) const {
  std::vector<chain::pb::Vote> out;
  for (const auto& held : votes_) {
    for (const auto& v : held) {
      if (block_id_of_vote(v) == id) out.push_back(v);
    }
  }
  return out;
}

}  // namespace baton::consensus

// The engine's record of one round of one height: the proposals it holds
// and the votes counted. Internal to consensus/engine.cpp.
#pragma once

#include <optional>
#include <vector>

#include "chain/crypto.h"
#include "consensus/proto/consensus.pb.h"
#include "consensus/vote_set.h"

namespace baton::consensus {

// The proposal received (or made) for one round, with its block id and the
// application's verdict, asked at most once.
struct ProposalRecord {
  pb::Proposal message;
  chain::Hash id;
  std::optional<bool> valid;
};

struct RoundState {
  explicit RoundState(std::size_t n) : prevotes(n), precommits(n), seen(n, false) {}
  std::vector<ProposalRecord> proposals;  // the first one received is used for L22/L28 first
  VoteSet prevotes;
  VoteSet precommits;
  std::vector<bool> seen;                    // validators that sent anything for this round (L55)
  bool prevote_timeout_scheduled = false;    // L34
  bool precommit_timeout_scheduled = false;  // L47
  bool valid_value_updated = false;          // L36 "for the first time"

  ProposalRecord* find(const chain::Hash& id) {
    for (auto& p : proposals) {
      if (p.id == id) return &p;
    }
    return nullptr;
  }
  const ProposalRecord* find(const chain::Hash& id) const {
    for (const auto& p : proposals) {
      if (p.id == id) return &p;
    }
    return nullptr;
  }
  bool holds_identical(const pb::Proposal& m) const {
    for (const auto& p : proposals) {
      if (p.message.signature() == m.signature() && p.message.pol_round() == m.pol_round() &&
          p.message.block() == m.block()) {
        return true;
      }
    }
    return false;
  }
};

}  // namespace baton::consensus

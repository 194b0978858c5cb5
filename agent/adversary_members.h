// Internals of the adversarial simulation shared by its two sources: the
// simulated members (keys, data, behaviour) and what each behaviour trains.
// adversary_members.cpp defines them; adversary_sim.cpp runs the ledger.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/adversary_sim.h"
#include "chain/crypto.h"
#include "learning/model.h"

namespace baton::agent::sim_detail {

struct Member {
  std::string name;
  chain::SigningKey key;
  chain::X25519SecretKey x25519;
  Behaviour behaviour = Behaviour::honest;
  learning::Dataset train;       // what it trains on (flipped or poisoned for those kinds)
  learning::Dataset validation;  // what it votes on (its own, never altered)
  std::uint64_t nonce = 1;
};

// Members hospital-1..N with fixed keys, equal stratified shares of the
// training rows, each split into its own training and validation rows;
// members 2, 4, ... behave as c.adversary (c.adversaries of them). Error: a
// member whose validation rows hold fewer than two rows of a class.
Result<std::vector<Member>> make_members(const learning::PreparedData& data, const SimConfig& c);

// The MLP of the run.
learning::ModelSpec sim_spec(const learning::PreparedData& data, const SimConfig& c);

// Trains (or makes) the candidate member `m` offers after `head` in turn
// `turn`. Free-riders and re-sealers return the head (the caller picks what
// they claim).
Result<learning::Model> train_candidate(const Member& m, const learning::Model& head,
                                        const learning::ModelSpec& spec, const SimConfig& c,
                                        std::uint64_t turn);

}  // namespace baton::agent::sim_detail

// ChainSpec: everything the validation rules need from genesis, computed once
// (the validator set, the genesis hash, the genesis training plan decoded and
// validated). Built from the exact genesis file bytes so that genesis_hash is
// the hash of what is on disk. Immutable; share one instance (const&) between
// threads.
#pragma once

#include <optional>
#include <string_view>

#include "chain/crypto.h"
#include "chain/genesis.h"
#include "chain/result.h"
#include "chain/validator_set.h"

namespace baton::chain {

struct ChainSpec {
  Genesis genesis;
  Hash genesis_hash;  // SHA-256 of the exact genesis file bytes
  ValidatorSet validators;

  const std::string& chain_id() const { return genesis.chain_id; }
  // What every signature on this chain is bound to (chain id and genesis hash).
  NetworkId network() const { return {genesis.chain_id, genesis_hash}; }
  const ConsensusParams& params() const { return genesis.consensus; }
  // The run that starts at block 1, if the genesis names one: a typed,
  // validated value; the state machine never sees its JSON.
  const std::optional<TrainingPlan>& genesis_plan() const { return genesis.training_plan; }
};

// parse_genesis + genesis_hash + ValidatorSet.
Result<ChainSpec> load_chain_spec(std::string_view exact_genesis_file_bytes);

}  // namespace baton::chain

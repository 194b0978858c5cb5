#include "chain/membership.h"

namespace baton::chain {

// Until the ledger holds membership changes (issue 18, §25) the members are
// the genesis members at every height.
const std::vector<GenesisMember>& current_members(const ChainSpec& spec, const LedgerState&) {
  return spec.genesis.members;
}

const ValidatorSet& current_validators(const ChainSpec& spec, const LedgerState&) {
  return spec.validators;
}

const ValidatorSet& signers_of_state_block(const ChainSpec& spec, const LedgerState&) {
  return spec.validators;
}

}  // namespace baton::chain

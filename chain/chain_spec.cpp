#include "chain/chain_spec.h"

namespace baton::chain {

Result<ChainSpec> load_chain_spec(std::string_view exact_genesis_file_bytes) {
  auto genesis = parse_genesis(exact_genesis_file_bytes);
  if (!genesis) return genesis.error();
  ValidatorSet validators(*genesis);
  return ChainSpec{std::move(*genesis), genesis_hash(exact_genesis_file_bytes),
                   std::move(validators)};
}

}  // namespace baton::chain

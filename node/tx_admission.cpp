#include "node/tx_admission.h"

#include <algorithm>
#include <utility>

namespace baton::node {

AddResult OfferedTx::refusal() const {
  AddResult out;
  out.hash = chain::tx_hash(bytes);
  out.rejected = TxRejection::invalid;
  out.invalid = checked.reason();
  return out;
}

OfferedTx offer_transaction(const chain::ChainSpec& spec, const chain::ValidatorSet& members,
                            std::string bytes) {
  auto checked =
      chain::check_transaction(bytes, spec.network(), members, spec.params().max_tx_bytes);
  return OfferedTx{std::move(bytes), std::move(checked)};
}

AddResult admit_transaction(Mempool& mempool, OfferedTx offer, const NextNonce& next_nonce) {
  if (!offer.valid()) return offer.refusal();
  return mempool.add_checked(std::move(offer.bytes), offer.checked.value(), next_nonce);
}

std::uint64_t next_nonce_to_sign(std::uint64_t committed_next, std::uint64_t highest_pending) {
  return std::max(committed_next, highest_pending + 1);
}

}  // namespace baton::node

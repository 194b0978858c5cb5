#include "node/verified_tx_hashes.h"

#include <cstdlib>

namespace baton::node {

VerifiedTxHashes::VerifiedTxHashes(std::size_t capacity) : capacity_(capacity) {
  if (capacity_ == 0) std::abort();  // a bug in the caller: nothing could be remembered
  hashes_.reserve(capacity_ + 1);
}

void VerifiedTxHashes::add(const chain::Hash& hash) {
  if (!hashes_.insert(hash).second) return;
  order_.push_back(hash);
  if (order_.size() > capacity_) {
    hashes_.erase(order_.front());
    order_.pop_front();
  }
}

}  // namespace baton::node

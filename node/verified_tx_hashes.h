// VerifiedTxHashes: the hashes of transaction bytes whose signature this node
// has already verified (at the admin API or when a peer gossiped them), so that
// checking a proposed block does not verify the same Ed25519 signature again
// (chain::VerifiedTxs in chain/validation.h).
//
// A hash is remembered only after chain::check_transaction accepted exactly
// the bytes it is the SHA-256 of; the block check recomputes each
// transaction's hash from the block's bytes, so a transaction with other
// bytes (another signature, another payload) is verified as usual. Bounded:
// the oldest hashes are forgotten first; a forgotten hash only costs one
// verification more.
//
// Pure, no locking: the node touches it only from its event-loop thread.
#pragma once

#include <cstddef>
#include <cstring>
#include <deque>
#include <unordered_set>

#include "chain/crypto.h"

namespace baton::node {

class VerifiedTxHashes {
 public:
  // Precondition: capacity > 0.
  explicit VerifiedTxHashes(std::size_t capacity);

  // Records that check_transaction accepted the bytes whose tx_hash is `hash`.
  void add(const chain::Hash& hash);
  bool contains(const chain::Hash& hash) const { return hashes_.contains(hash); }
  std::size_t size() const { return hashes_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  // SHA-256 output is uniform: its first 8 bytes are a good bucket hash.
  struct Bucket {
    std::size_t operator()(const chain::Hash& h) const {
      std::size_t out;
      std::memcpy(&out, h.bytes.data(), sizeof out);
      return out;
    }
  };
  std::size_t capacity_;
  std::unordered_set<chain::Hash, Bucket> hashes_;
  std::deque<chain::Hash> order_;  // oldest first; same elements as hashes_
};

}  // namespace baton::node

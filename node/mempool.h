// The mempool: signed transactions waiting for a block.
//
// Every transaction is checked before it is accepted (and so before it is
// gossiped): it must decode, name this chain, come from a current member,
// carry a valid signature, fit the size limit, and have a nonce at or above
// the sender's next committed nonce but not too far above it. The pool is
// bounded by count and bytes; when full, new transactions are refused (the
// submitter retries) rather than evicting others.
//
// The node offers transactions through node/tx_admission.h (the one rule for
// POST /tx and gossip), which ends in add_checked.
//
// Pure logic, no I/O and no locking: the node owns one Mempool and touches it
// only from its event-loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/crypto.h"
#include "chain/transaction.h"
#include "chain/proto/ledger.pb.h"
#include "api/config.h"

namespace baton::node {

enum class TxRejection {
  invalid,        // chain::check_transaction refused it (see AddResult::invalid)
  nonce_too_low,  // already committed (a replay)
  nonce_too_far,  // more than max_nonce_gap ahead of the next committed nonce
  duplicate,      // this sender already has a transaction with this nonce waiting
  pool_full,      // count or byte limit reached; retry later
};

// A short sentence for API replies and logs.
std::string_view to_string(TxRejection reason);

struct AddResult {
  std::optional<TxRejection> rejected;      // empty: accepted and new
  std::optional<chain::TxInvalid> invalid;  // set when rejected == invalid
  chain::Hash hash;                         // SHA-256 of the exact bytes
  std::uint64_t nonce = 0;                  // when the transaction decoded
  bool accepted() const { return !rejected.has_value(); }
  // One sentence: why it was refused ("" when accepted).
  std::string reason() const;
};

// Returns the sender's next nonce according to the committed ledger state
// (1 for a sender that never sent anything).
using NextNonce = std::function<std::uint64_t(const chain::PublicKey&)>;

class Mempool {
 public:
  // `spec` (chain id, members, max_tx_bytes) must outlive the mempool.
  Mempool(const chain::ChainSpec& spec, api::MempoolLimits limits);

  // Checks and adds serialized Transaction bytes. Verifies the signature, so
  // it costs one Ed25519 verification. `members`: the current members
  // (chain::current_validators of the committed state).
  AddResult add(chain::ByteView tx_bytes, const chain::ValidatorSet& members,
                const NextNonce& next_nonce);

  // The same for a transaction that chain::check_transaction already
  // accepted (the node verifies signatures on its I/O threads so that the
  // event loop does not). Precondition: `tx` is what check_transaction
  // returned for exactly `tx_bytes`; passing anything else is a bug.
  AddResult add_checked(std::string tx_bytes, const chain::pb::Transaction& tx,
                        const NextNonce& next_nonce);

  // Transactions for the next block: per sender only consecutive nonces
  // starting at its next committed nonce; senders interleaved round-robin in
  // member order; at most `max_txs` and `max_bytes` in total. Does not remove.
  std::vector<std::string> reap(std::size_t max_txs, std::size_t max_bytes,
                                const NextNonce& next_nonce) const;

  // After a block is committed: drops the block's transactions and every
  // transaction whose nonce is now below its sender's next nonce.
  void remove_committed(const NextNonce& next_nonce);

  // Drops one waiting transaction (no-op when it is not there).
  void remove(const chain::Hash& hash);
  // After a membership change: drops every transaction whose sender is no
  // longer a member (the chain would refuse it in a block).
  void remove_senders_not_in(const chain::ValidatorSet& members);

  std::size_t size() const { return count_; }
  std::size_t bytes() const { return bytes_; }
  bool contains(const chain::Hash& hash) const { return by_hash_.contains(hash); }
  // The serialized transaction with this hash, if waiting.
  std::optional<std::string> get(const chain::Hash& hash) const;
  // Highest nonce waiting for `sender` (0 when none).
  std::uint64_t highest_pending_nonce(const chain::PublicKey& sender) const;

 private:
  struct Entry {
    std::string bytes;
    chain::Hash hash;
  };
  const chain::ChainSpec& spec_;
  api::MempoolLimits limits_;
  std::map<chain::PublicKey, std::map<std::uint64_t, Entry>> by_sender_;
  std::map<chain::Hash, std::pair<chain::PublicKey, std::uint64_t>> by_hash_;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;

  void erase(std::map<std::uint64_t, Entry>& txs, std::map<std::uint64_t, Entry>::iterator it);
};

}  // namespace baton::node

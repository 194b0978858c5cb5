// ChainMaker: builds valid, fully signed blocks for development, tests,
// benchmarks and the demo (`baton dev make-chain`). It plays every member of
// a consortium at once, so it needs every member's signing key; a real node
// never does this.
//
// Each block carries `txs_per_block` TX_NOTE transactions of about 200 bytes,
// sent by the members in rotation with the correct nonces, is proposed by the
// validators in rotation, and is committed in round 0 by PRECOMMIT signatures
// of every validator. Deterministic: the same spec, keys, start state and
// options give the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/crypto.h"
#include "chain/ledger_state.h"
#include "chain/result.h"

namespace baton::storage {

struct ChainMakerOptions {
  std::size_t txs_per_block = 10;
  // Header time of block h: first_block_time_unix_ms + (h - 1) * block_interval_ms.
  std::int64_t first_block_time_unix_ms = 0;
  std::int64_t block_interval_ms = 1000;
};

class ChainMaker {
 public:
  // Fails when a genesis member has no key in `member_keys` (matched by
  // public key), or txs_per_block exceeds the genesis max_block_txs.
  // `start` is the state at the tip the new blocks extend (initial_state for
  // an empty ledger, or what verify_ledger returned). `spec` must outlive the
  // maker (it keeps a reference).
  static Result<ChainMaker> create(const chain::ChainSpec& spec,
                                   const std::vector<chain::SigningKey>& member_keys,
                                   chain::LedgerState start, const ChainMakerOptions& options);

  // The serialized CommittedBlock at state().height + 1, and advances state().
  // An error only if chain/ refuses what was built (a bug in the maker or in
  // the rules, reported with chain's reason).
  Result<std::string> next_block();

  const chain::LedgerState& state() const { return state_; }

 private:
  ChainMaker(const chain::ChainSpec& spec, std::vector<chain::SigningKey> keys,
             chain::LedgerState start, const ChainMakerOptions& options);
  std::string note_text(std::uint64_t height, std::size_t index,
                        const std::string& sender_name) const;

  const chain::ChainSpec* spec_;
  std::vector<chain::SigningKey> keys_;       // genesis member order
  std::vector<std::size_t> validator_order_;  // indexes into keys_ of members with power > 0
  chain::LedgerState state_;
  ChainMakerOptions options_;
};

}  // namespace baton::storage

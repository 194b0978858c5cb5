// Block validation, split so that a long chain can be verified on all cores:
//
//   check_block_stateless  needs only the ChainSpec: decoding, chain id,
//                          Merkle roots, every transaction signature and
//                          sender membership, the commit, evidence validity.
//                          Blocks can be checked in parallel.
//   apply_block            needs the state before the block: height, previous
//                          hash, nonces, evidence not yet recorded, and the
//                          header's app_state_hash. Sequential; it does NOT
//                          redo signature checks, so it takes the
//                          DecodedBlock that only check_block_stateless makes.
//
// validate_block does both. propose_block is the proposer's side: it builds a
// block whose header carries the right roots and state hash.
//
// Everything here is pure: no I/O, clocks or randomness; safe to call from
// several threads with a shared const ChainSpec.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/crypto.h"
#include "chain/ledger_state.h"
#include "chain/proto/ledger.pb.h"
#include "chain/transaction.h"
#include "chain/verdict.h"
#include "chain/vote.h"

namespace baton::chain {

enum class BlockInvalid {
  malformed_block,              // stored bytes, header or block not decodable / not canonical
  wrong_chain_id,               // header chain id is not the genesis chain id
  wrong_height,                 // not the height after the current tip
  wrong_previous_hash,          // previous_block_hash is not the tip's block id (genesis hash at 1)
  unknown_proposer,             // proposer is not a validator
  too_many_transactions,        // more than max_block_txs
  block_too_large,              // serialized block over max_block_bytes, or too much evidence
  wrong_tx_merkle_root,         // tx_merkle_root does not match the transactions
  wrong_evidence_merkle_root,   // evidence_merkle_root does not match the evidence
  malformed_transaction,        // a transaction is not canonical, has a bad sender/payload/nonce 0
  transaction_too_large,        // a transaction over max_tx_bytes
  transaction_wrong_chain_id,   // a transaction signed for another chain
  transaction_from_non_member,  // a transaction whose sender is not a genesis member
  unknown_transaction_type,     // a TxType this version does not know
  bad_transaction_signature,    // a transaction signature does not verify
  replayed_nonce,               // a transaction nonce already used by its sender
  skipped_nonce,                // a transaction nonce beyond the sender's next one
  malformed_evidence,           // evidence bytes or votes not well formed
  invalid_evidence,             // evidence with a bad signature, a non-validator or no conflict
  evidence_from_future,         // evidence about a height not below this block's
  duplicate_evidence,           // evidence already recorded (or twice in this block)
  commit_wrong_height,          // the commit is for another height
  commit_wrong_block,           // the commit is for another block id
  commit_malformed,             // a commit signature entry with bad lengths
  commit_non_member_signature,  // a commit signature from a key that is not a validator
  commit_duplicate_signer,      // a validator appears twice in the commit
  commit_bad_signature,         // a commit signature does not verify
  commit_insufficient_power,    // the commit carries 2/3 of the voting power or less
  wrong_app_state_hash,         // app_state_hash is not the state hash after the block
  // A training protocol transaction the state refuses does not make its block
  // invalid: it is included and recorded as a Refusal (chain/protocol.h).
};

// A short sentence, e.g. "a transaction signature does not verify".
std::string_view to_string(BlockInvalid reason);

struct BlockFault {
  BlockInvalid reason;
  std::string detail;  // where, e.g. "transaction 3 of 10"; may be empty

  // to_string(reason), then " (" detail ")" when there is a detail.
  std::string message() const;
};

// A block whose stateless checks passed. Only check_block_stateless makes
// one, so holding a DecodedBlock means its signatures were verified.
struct DecodedBlock {
  pb::BlockHeader header;
  Hash id;                                    // block_id(block)
  std::vector<pb::Transaction> transactions;  // in block order
  std::vector<Equivocation> evidence;         // in block order
};

// Answers whether this process already had check_transaction accept the
// exact stored bytes whose tx_hash (SHA-256) is `hash`, under the same
// ChainSpec: e.g. when they entered its mempool. A block check may then skip
// that transaction's Ed25519 verification (every other check still runs).
// Sound only for the hash of verified bytes: never answer true for a hash
// learned from a peer without verifying its bytes. Empty: verify everything.
using VerifiedTxs = std::function<bool(const Hash& tx_hash)>;

// Stateless checks of a block without its commit (a consensus proposal).
// `verified` lets a node skip signatures it checked before (see VerifiedTxs).
Verdict<DecodedBlock, BlockFault> check_block_stateless(const ChainSpec& spec,
                                                        const pb::Block& block,
                                                        const VerifiedTxs& verified = {});

// The same plus the commit: > 2/3 power of valid precommit signatures from
// validators, for this block's height and id.
Verdict<DecodedBlock, BlockFault> check_block_stateless(const ChainSpec& spec,
                                                        const pb::CommittedBlock& committed);

// The same two checks against `members` instead of the genesis set: the
// senders, proposer, evidence and commit of block H + 1 are checked against
// current_validators(spec, state after H) (chain/membership.h, §25). The
// overloads above use spec.validators: right for a chain whose membership
// never changed, and for callers without a state.
Verdict<DecodedBlock, BlockFault> check_block_stateless(const ChainSpec& spec,
                                                        const ValidatorSet& members,
                                                        const pb::Block& block,
                                                        const VerifiedTxs& verified = {});
Verdict<DecodedBlock, BlockFault> check_block_stateless(const ChainSpec& spec,
                                                        const ValidatorSet& members,
                                                        const pb::CommittedBlock& committed);

// Only the checks that need no member set: size, header, chain id, counts,
// and the Merkle roots that bind the body to the header. For a history block
// whose header is proved by the hash chain from a trusted block above it
// (state sync's backfill and repair, §24.4), where the members that signed it
// are not known; a full replay (`baton ledger verify`) checks the rest.
Result<pb::BlockHeader> check_block_body(const ChainSpec& spec, const pb::Block& block);

// The state after `block`, or why it cannot follow `before`.
Verdict<LedgerState, BlockFault> apply_block(const ChainSpec& spec, const LedgerState& before,
                                             const DecodedBlock& block);

// One step of apply_block, for a reader that wants to see what each step did
// (the account history, chain/account_history.h): begin_block, each
// transaction in block order, end_block.
struct BlockStep {
  enum class Kind : std::uint8_t { begin_block = 1, transaction = 2, end_block = 3 };
  Kind kind = Kind::begin_block;
  std::uint64_t height = 0;
  const pb::Transaction* tx = nullptr;  // kind == transaction; valid during the call
};
// Called after each step with the state so far (its height field still the
// block before's). Never called for a block that turns out invalid past the
// failing step; the caller must discard what it saw when apply_block refuses.
using BlockStepObserver = std::function<void(const BlockStep& step, const LedgerState& state)>;

// apply_block, calling `observer` after each step.
Verdict<LedgerState, BlockFault> apply_block(const ChainSpec& spec, const LedgerState& before,
                                             const DecodedBlock& block,
                                             const BlockStepObserver& observer);

// check_block_stateless (against current_validators(spec, before)) +
// apply_block.
Verdict<LedgerState, BlockFault> validate_block(const ChainSpec& spec, const LedgerState& before,
                                                const pb::CommittedBlock& committed);

struct Proposal {
  pb::Block block;
  Hash id;
  LedgerState after;
};

// Builds the block that follows `before`: checks each transaction and piece
// of evidence statelessly, applies them, and fills in the header (height,
// previous hash, roots, app_state_hash). Refuses with the first fault, so a
// proposer can drop that entry and try again. The result passes
// check_block_stateless (once committed) and apply_block. `verified` as for
// check_block_stateless (a proposer's mempool holds only verified bytes).
Verdict<Proposal, BlockFault> propose_block(const ChainSpec& spec, const LedgerState& before,
                                            std::int64_t time_unix_ms, const PublicKey& proposer,
                                            std::vector<std::string> transactions,
                                            std::vector<std::string> evidence = {},
                                            const VerifiedTxs& verified = {});

}  // namespace baton::chain

#include "chain/validation.h"

#include <set>

#include "chain/block.h"
#include "chain/membership.h"
#include "chain/merkle.h"
#include "chain/protocol.h"

namespace baton::chain {
namespace {

BlockInvalid from_tx(TxInvalid r) {
  switch (r) {
    case TxInvalid::malformed:
    case TxInvalid::malformed_sender:
    case TxInvalid::zero_nonce:
    case TxInvalid::malformed_payload:
      return BlockInvalid::malformed_transaction;
    case TxInvalid::oversized:
      return BlockInvalid::transaction_too_large;
    case TxInvalid::wrong_chain_id:
      return BlockInvalid::transaction_wrong_chain_id;
    case TxInvalid::unknown_sender:
      return BlockInvalid::transaction_from_non_member;
    case TxInvalid::unknown_type:
      return BlockInvalid::unknown_transaction_type;
    case TxInvalid::bad_signature:
      return BlockInvalid::bad_transaction_signature;
  }
  return BlockInvalid::malformed_transaction;
}

BlockInvalid from_commit(CommitInvalid r) {
  switch (r) {
    case CommitInvalid::wrong_height:
      return BlockInvalid::commit_wrong_height;
    case CommitInvalid::wrong_block:
      return BlockInvalid::commit_wrong_block;
    case CommitInvalid::malformed_signature:
      return BlockInvalid::commit_malformed;
    case CommitInvalid::unknown_signer:
      return BlockInvalid::commit_non_member_signature;
    case CommitInvalid::duplicate_signer:
      return BlockInvalid::commit_duplicate_signer;
    case CommitInvalid::bad_signature:
      return BlockInvalid::commit_bad_signature;
    case CommitInvalid::insufficient_power:
      return BlockInvalid::commit_insufficient_power;
  }
  return BlockInvalid::commit_malformed;
}

BlockInvalid from_evidence(EvidenceInvalid r) {
  return r == EvidenceInvalid::malformed ? BlockInvalid::malformed_evidence
                                         : BlockInvalid::invalid_evidence;
}

BlockInvalid from_rejected(TxRejected r) {
  return r == TxRejected::replayed_nonce ? BlockInvalid::replayed_nonce
                                         : BlockInvalid::skipped_nonce;
}

std::string nth(const char* what, std::size_t i, std::size_t n) {
  return std::string(what) + " " + std::to_string(i) + " of " + std::to_string(n);
}

std::string tx_detail(std::size_t i, std::size_t n, std::string_view reason) {
  return nth("transaction", i, n) + ": " + std::string(reason);
}

std::string nonce_detail(std::size_t i, std::size_t n, const pb::Transaction& tx,
                         std::uint64_t expected) {
  return nth("transaction", i, n) + " has nonce " + std::to_string(tx.nonce()) + ", expected " +
         std::to_string(expected);
}

// Nonce, then (for protocol types) the training protocol's effects or refusal.
std::optional<BlockFault> apply_one(const ChainSpec& spec, LedgerState& after,
                                    const pb::Transaction& tx, std::size_t i, std::size_t n,
                                    std::uint64_t height) {
  const std::uint64_t expected =
      after.next_nonce(PublicKey::from_bytes(as_bytes(tx.sender())).value());
  if (auto rejected = apply_transaction(after, tx)) {
    return BlockFault{from_rejected(*rejected), nonce_detail(i, n, tx, expected)};
  }
  // A refused protocol transaction stays in the block: its nonce is spent and
  // apply_protocol_tx records the refusal in the training state.
  if (is_protocol_tx(tx.type())) (void)apply_protocol_tx(spec, after, tx, height);
  return std::nullopt;
}

// check_transaction, skipping the signature when `verified` vouches for
// these exact bytes.
Verdict<pb::Transaction, TxInvalid> check_one_transaction(const ChainSpec& spec,
                                                          const ValidatorSet& members,
                                                          std::string_view bytes,
                                                          const VerifiedTxs& verified) {
  const std::uint64_t max = spec.params().max_tx_bytes;
  if (verified && verified(tx_hash(bytes))) {
    return check_transaction_signature_verified(bytes, spec.network(), members, max);
  }
  return check_transaction(bytes, spec.network(), members, max);
}

Hash hash_field(const std::string& bytes) {
  // decode_header guarantees 32 bytes for every hash field.
  return Hash::from_bytes(as_bytes(bytes)).value();
}

}  // namespace

std::string_view to_string(BlockInvalid reason) {
  switch (reason) {
    case BlockInvalid::malformed_block:
      return "the block is malformed";
    case BlockInvalid::wrong_chain_id:
      return "the block header names another chain id";
    case BlockInvalid::wrong_height:
      return "the block has the wrong height";
    case BlockInvalid::wrong_previous_hash:
      return "the previous block hash does not match the block before";
    case BlockInvalid::unknown_proposer:
      return "the proposer is not a validator";
    case BlockInvalid::too_many_transactions:
      return "the block holds more transactions than the genesis allows";
    case BlockInvalid::block_too_large:
      return "the block is larger than the genesis allows";
    case BlockInvalid::wrong_tx_merkle_root:
      return "the transaction Merkle root does not match the transactions";
    case BlockInvalid::wrong_evidence_merkle_root:
      return "the evidence Merkle root does not match the evidence";
    case BlockInvalid::malformed_transaction:
      return "a transaction is malformed";
    case BlockInvalid::transaction_too_large:
      return "a transaction is larger than the genesis allows";
    case BlockInvalid::transaction_wrong_chain_id:
      return "a transaction was signed for another chain id";
    case BlockInvalid::transaction_from_non_member:
      return "a transaction comes from a sender that is not a member";
    case BlockInvalid::unknown_transaction_type:
      return "a transaction has an unknown type";
    case BlockInvalid::bad_transaction_signature:
      return "a transaction signature does not verify";
    case BlockInvalid::replayed_nonce:
      return "a transaction replays a nonce its sender already used";
    case BlockInvalid::skipped_nonce:
      return "a transaction skips its sender's next nonce";
    case BlockInvalid::malformed_evidence:
      return "a piece of evidence is malformed";
    case BlockInvalid::invalid_evidence:
      return "a piece of evidence does not prove a double vote";
    case BlockInvalid::evidence_from_future:
      return "a piece of evidence is about a height not below the block's";
    case BlockInvalid::duplicate_evidence:
      return "a piece of evidence was already recorded";
    case BlockInvalid::commit_wrong_height:
      return "the commit is for another height";
    case BlockInvalid::commit_wrong_block:
      return "the commit is for another block";
    case BlockInvalid::commit_malformed:
      return "the commit is malformed";
    case BlockInvalid::commit_non_member_signature:
      return "the commit has a signature from a non-member";
    case BlockInvalid::commit_duplicate_signer:
      return "the commit has two signatures from one validator";
    case BlockInvalid::commit_bad_signature:
      return "a commit signature does not verify";
    case BlockInvalid::commit_insufficient_power:
      return "the commit has two thirds of the voting power or less";
    case BlockInvalid::wrong_app_state_hash:
      return "the app state hash does not match the state after the block";
  }
  return "the block is invalid";
}

std::string BlockFault::message() const {
  std::string out(to_string(reason));
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

Verdict<DecodedBlock, BlockFault> check_block_stateless(const ChainSpec& spec,
                                                        const pb::Block& block,
                                                        const VerifiedTxs& verified) {
  return check_block_stateless(spec, spec.validators, block, verified);
}

Verdict<DecodedBlock, BlockFault> check_block_stateless(const ChainSpec& spec,
                                                        const pb::CommittedBlock& committed) {
  return check_block_stateless(spec, spec.validators, committed);
}

namespace {

// check_block_stateless's checks that need no member set (check_block_body).
Verdict<pb::BlockHeader, BlockFault> check_shape(const ChainSpec& spec, const pb::Block& block) {
  const ConsensusParams& params = spec.params();
  if (block.ByteSizeLong() > params.max_block_bytes) {
    return BlockFault{BlockInvalid::block_too_large,
                      std::to_string(block.ByteSizeLong()) + " bytes"};
  }
  auto header = decode_header(block.header());
  if (!header) return BlockFault{BlockInvalid::malformed_block, header.error().message};
  if (header->chain_id() != spec.chain_id()) {
    return BlockFault{BlockInvalid::wrong_chain_id, "\"" + header->chain_id() + "\""};
  }
  const std::size_t n_tx = static_cast<std::size_t>(block.transactions_size());
  if (n_tx > params.max_block_txs) {
    return BlockFault{BlockInvalid::too_many_transactions, std::to_string(n_tx) + " transactions"};
  }
  const std::size_t n_ev = static_cast<std::size_t>(block.evidence_size());
  if (n_ev > params.max_block_evidence) {
    return BlockFault{BlockInvalid::block_too_large, std::to_string(n_ev) + " pieces of evidence"};
  }
  std::vector<Hash> leaves;
  leaves.reserve(n_tx);
  for (const auto& tx : block.transactions()) leaves.push_back(merkle_leaf_hash(as_bytes(tx)));
  if (merkle_root_from_leaf_hashes(leaves) != hash_field(header->tx_merkle_root())) {
    return BlockFault{BlockInvalid::wrong_tx_merkle_root, {}};
  }
  leaves.clear();
  for (const auto& ev : block.evidence()) leaves.push_back(merkle_leaf_hash(as_bytes(ev)));
  if (merkle_root_from_leaf_hashes(leaves) != hash_field(header->evidence_merkle_root())) {
    return BlockFault{BlockInvalid::wrong_evidence_merkle_root, {}};
  }
  return std::move(*header);
}

}  // namespace

Result<pb::BlockHeader> check_block_body(const ChainSpec& spec, const pb::Block& block) {
  auto header = check_shape(spec, block);
  if (!header) return make_error(header.reason().message());
  return std::move(header).value();
}

Verdict<DecodedBlock, BlockFault> check_block_stateless(const ChainSpec& spec,
                                                        const ValidatorSet& members,
                                                        const pb::Block& block,
                                                        const VerifiedTxs& verified) {
  auto header = check_shape(spec, block);
  if (!header) return header.reason();
  if (!members.is_validator(PublicKey::from_bytes(as_bytes(header->proposer())).value())) {
    return BlockFault{BlockInvalid::unknown_proposer, {}};
  }
  const std::size_t n_tx = static_cast<std::size_t>(block.transactions_size());
  const std::size_t n_ev = static_cast<std::size_t>(block.evidence_size());

  DecodedBlock out;
  out.id = block_id(block);
  out.transactions.reserve(n_tx);
  for (std::size_t i = 0; i < n_tx; ++i) {
    auto tx =
        check_one_transaction(spec, members, block.transactions(static_cast<int>(i)), verified);
    if (!tx) return BlockFault{from_tx(tx.reason()), tx_detail(i, n_tx, to_string(tx.reason()))};
    out.transactions.push_back(std::move(tx).value());
  }
  std::set<Equivocation> seen;
  for (std::size_t i = 0; i < n_ev; ++i) {
    auto ev = check_evidence(spec.network(), members, block.evidence(static_cast<int>(i)));
    if (!ev)
      return BlockFault{from_evidence(ev.reason()),
                        nth("evidence", i, n_ev) + ": " + std::string(to_string(ev.reason()))};
    if (ev->height >= header->height())
      return BlockFault{BlockInvalid::evidence_from_future, nth("evidence", i, n_ev)};
    if (!seen.insert(*ev).second)
      return BlockFault{BlockInvalid::duplicate_evidence,
                        nth("evidence", i, n_ev) + " repeats an earlier one"};
    out.evidence.push_back(*ev);
  }
  out.header = std::move(*header);
  return out;
}

Verdict<DecodedBlock, BlockFault> check_block_stateless(const ChainSpec& spec,
                                                        const ValidatorSet& members,
                                                        const pb::CommittedBlock& committed) {
  auto decoded = check_block_stateless(spec, members, committed.block());
  if (!decoded) return decoded;
  if (auto bad = verify_commit(spec.network(), members, committed.commit(),
                               decoded->header.height(), decoded->id)) {
    return BlockFault{from_commit(*bad), std::string(to_string(*bad))};
  }
  return decoded;
}

Verdict<LedgerState, BlockFault> apply_block(const ChainSpec& spec, const LedgerState& before,
                                             const DecodedBlock& block) {
  return apply_block(spec, before, block, BlockStepObserver{});
}

Verdict<LedgerState, BlockFault> apply_block(const ChainSpec& spec, const LedgerState& before,
                                             const DecodedBlock& block,
                                             const BlockStepObserver& observer) {
  auto observe = [&](BlockStep::Kind kind, std::uint64_t height, const pb::Transaction* tx,
                     const LedgerState& state) {
    if (observer) observer(BlockStep{kind, height, tx}, state);
  };
  const pb::BlockHeader& h = block.header;
  if (h.height() != before.height + 1) {
    return BlockFault{
        BlockInvalid::wrong_height,
        "got " + std::to_string(h.height()) + ", expected " + std::to_string(before.height + 1)};
  }
  if (hash_field(h.previous_block_hash()) != before.last_block_id) {
    return BlockFault{BlockInvalid::wrong_previous_hash, {}};
  }
  LedgerState after = before;
  begin_block(spec, after, h.height());
  observe(BlockStep::Kind::begin_block, h.height(), nullptr, after);
  const std::size_t n = block.transactions.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (auto fault = apply_one(spec, after, block.transactions[i], i, n, h.height())) return *fault;
    observe(BlockStep::Kind::transaction, h.height(), &block.transactions[i], after);
  }
  for (std::size_t i = 0; i < block.evidence.size(); ++i) {
    if (!after.evidence.insert(block.evidence[i]).second) {
      return BlockFault{BlockInvalid::duplicate_evidence,
                        nth("evidence", i, block.evidence.size())};
    }
  }
  end_block(spec, after, h.height());
  observe(BlockStep::Kind::end_block, h.height(), nullptr, after);
  after.height = h.height();
  after.last_block_id = block.id;
  if (state_hash(spec.chain_id(), after) != hash_field(h.app_state_hash())) {
    return BlockFault{BlockInvalid::wrong_app_state_hash, {}};
  }
  return after;
}

Verdict<LedgerState, BlockFault> validate_block(const ChainSpec& spec, const LedgerState& before,
                                                const pb::CommittedBlock& committed) {
  auto decoded = check_block_stateless(spec, current_validators(spec, before), committed);
  if (!decoded) return decoded.reason();
  return apply_block(spec, before, *decoded);
}

Verdict<Proposal, BlockFault> propose_block(const ChainSpec& spec, const LedgerState& before,
                                            std::int64_t time_unix_ms, const PublicKey& proposer,
                                            std::vector<std::string> transactions,
                                            std::vector<std::string> evidence,
                                            const VerifiedTxs& verified) {
  const ConsensusParams& params = spec.params();
  const ValidatorSet& members = current_validators(spec, before);
  if (!members.is_validator(proposer)) return BlockFault{BlockInvalid::unknown_proposer, {}};
  if (transactions.size() > params.max_block_txs) {
    return BlockFault{BlockInvalid::too_many_transactions,
                      std::to_string(transactions.size()) + " transactions"};
  }
  if (evidence.size() > params.max_block_evidence) {
    return BlockFault{BlockInvalid::block_too_large,
                      std::to_string(evidence.size()) + " pieces of evidence"};
  }
  const std::uint64_t height = before.height + 1;
  LedgerState after = before;
  begin_block(spec, after, height);
  const std::size_t n = transactions.size();
  for (std::size_t i = 0; i < n; ++i) {
    auto tx = check_one_transaction(spec, members, transactions[i], verified);
    if (!tx) return BlockFault{from_tx(tx.reason()), tx_detail(i, n, to_string(tx.reason()))};
    if (auto fault = apply_one(spec, after, *tx, i, n, height)) return *fault;
  }
  for (std::size_t i = 0; i < evidence.size(); ++i) {
    auto ev = check_evidence(spec.network(), members, evidence[i]);
    if (!ev) return BlockFault{from_evidence(ev.reason()), nth("evidence", i, evidence.size())};
    if (ev->height >= height)
      return BlockFault{BlockInvalid::evidence_from_future, nth("evidence", i, evidence.size())};
    if (!after.evidence.insert(*ev).second)
      return BlockFault{BlockInvalid::duplicate_evidence, nth("evidence", i, evidence.size())};
  }
  end_block(spec, after, height);
  after.height = height;
  HeaderFields fields{spec.chain_id(),
                      height,
                      time_unix_ms,
                      before.last_block_id,
                      state_hash(spec.chain_id(), after),
                      proposer};
  Proposal p{assemble_block(fields, std::move(transactions), std::move(evidence)), {}, {}};
  if (p.block.ByteSizeLong() > params.max_block_bytes) {
    return BlockFault{BlockInvalid::block_too_large,
                      std::to_string(p.block.ByteSizeLong()) + " bytes"};
  }
  p.id = block_id(p.block);
  after.last_block_id = p.id;
  p.after = std::move(after);
  return p;
}

}  // namespace baton::chain

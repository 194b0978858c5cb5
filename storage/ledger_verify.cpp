#include "storage/ledger_verify.h"

#include <algorithm>
#include <optional>

#include "chain/block.h"
#include "chain/membership.h"
#include "chain/transaction.h"
#include "chain/validation.h"
#include "storage/checked_blocks.h"
#include "storage/state_snapshot.h"

namespace baton::storage {

namespace {

// The snapshot stored at `height` against `state`, the state verification
// reached there: a fault sentence, nullopt when it is true, an error when it
// cannot be read.
Result<std::optional<std::string>> check_snapshot(const BlockStore& store,
                                                  const chain::ChainSpec& spec,
                                                  const chain::LedgerState& state) {
  using Fault = std::optional<std::string>;
  auto restored = restore_snapshot(spec, store, state.height);
  if (!restored) return restored.error();
  if (!*restored)
    return Fault("the state snapshot stored at this height is refused: " + restored->reason().why);
  auto record = store.snapshot_at(state.height);
  if (!record) return record.error();
  if (!record->has_value() || **record != encode_snapshot(state))
    return Fault("the state snapshot stored at this height is not the state the chain reaches");
  return Fault();
}

// check_block_stateless of the stored block at `height` against `members`.
Result<chain::Verdict<chain::DecodedBlock, chain::BlockFault>> recheck(
    const BlockStore& store, const chain::ChainSpec& spec, const chain::ValidatorSet& members,
    std::uint64_t height) {
  using Checked = chain::Verdict<chain::DecodedBlock, chain::BlockFault>;
  auto stored = store.block_at(height);
  if (!stored) return stored.error();
  if (!stored->has_value())
    return Checked(chain::BlockFault{chain::BlockInvalid::malformed_block, "missing"});
  auto committed = chain::decode_committed_block(**stored);
  if (!committed)
    return Checked(
        chain::BlockFault{chain::BlockInvalid::malformed_block, committed.error().message});
  return chain::check_block_stateless(spec, members, *committed);
}

// The first height in first..last whose stored block the store's indexes do
// not lead back to (blocks are only decoded: the chain checks passed there).
// For verify_ledger once the digests differ, or below a chain fault.
Result<std::optional<LedgerFault>> first_index_fault(const BlockStore& store, std::uint64_t first,
                                                     std::uint64_t last) {
  constexpr std::uint64_t kBatch = 64;
  for (std::uint64_t h = first; h <= last;) {
    auto bytes = store.blocks_from(h, static_cast<std::size_t>(std::min(kBatch, last - h + 1)));
    if (!bytes) return bytes.error();
    if (bytes->empty()) break;
    for (const std::string& stored : *bytes) {
      auto committed = chain::decode_committed_block(stored);
      if (!committed) return std::optional<LedgerFault>();
      auto fault = index_fault(store, chain::block_id(committed->block()),
                               stored_tx_hashes(committed->block()), h);
      if (!fault) return fault.error();
      if (*fault) return std::optional<LedgerFault>(LedgerFault{h, std::move(**fault)});
      ++h;
    }
  }
  return std::optional<LedgerFault>();
}

// The index entries the verified chain implies, with one random salt.
struct ChainDigests {
  IndexDigest::Salt salt;
  IndexDigest block_ids;
  IndexDigest txs;

  ChainDigests() {
    chain::random_bytes(salt);
    block_ids = IndexDigest(salt);
    txs = IndexDigest(salt);
  }
};

// verify_ledger's pass over the blocks. With `digests`, the indexes are not
// looked up: the entries each block implies are added to *digests instead.
Result<LedgerVerdict> verify_chain(const BlockStore& store, const chain::ChainSpec& spec,
                                   const VerifyOptions& options, ChainDigests* digests) {
  if (store.genesis_hash() != spec.genesis_hash) {
    return LedgerVerdict(
        LedgerFault{0, "the ledger was created for genesis " + store.genesis_hash().hex() +
                           " but the genesis given hashes to " + spec.genesis_hash.hex()});
  }
  // --- state sync (docs/PROTOCOL.md §24.4): a ledger whose history below
  // the trusted height is not backfilled yet cannot be verified from genesis.
  if (const std::uint64_t from = store.history_from(); from > 1) {
    return LedgerVerdict(LedgerFault{
        from - 1, "the ledger holds blocks only from height " + std::to_string(from) +
                      " (state sync is still backfilling heights 1.." + std::to_string(from - 1) +
                      "); verify again once backfill completes (GET /status: history_from)"});
  }
  // --- end state sync
  const unsigned threads = std::max(1u, options.threads);
  const std::size_t window = std::max<std::size_t>(1, options.window_blocks);
  const Tip tip = store.tip();

  auto snapshots = store.snapshot_heights();
  if (!snapshots) return snapshots.error();
  for (const std::uint64_t h : *snapshots) {
    if (h == 0 || h > tip.height) {
      return LedgerVerdict(
          LedgerFault{h,
                      "a state snapshot is stored at this height, where the chain has no block "
                      "(the tip record says " +
                          std::to_string(tip.height) + ")"});
    }
  }
  auto next_snapshot = snapshots->begin();

  VerifiedLedger result;
  result.state = chain::initial_state(spec.genesis_hash);
  // Signatures are checked ahead on every thread (storage/checked_blocks.h);
  // the state is applied here, in height order.
  CheckedBlocks checked(store, spec, 1, tip.height, threads, window,
                        digests != nullptr ? std::optional(digests->salt) : std::nullopt);
  std::uint64_t reported = 0;
  for (;;) {
    auto next = checked.next();
    if (!next) return next.error();
    if (!next->has_value()) break;
    CheckedBlock& c = **next;
    const std::uint64_t height = c.height;
    if (c.missing) {
      return LedgerVerdict(
          LedgerFault{height, "the block is missing from the store (the tip record says " +
                                  std::to_string(tip.height) + ")"});
    }
    // The checks ahead used the genesis members. Once the ledger has changed
    // its members (§25), block H + 1 is checked again here, in order, against
    // the members of the state after H: a block a newcomer sent or signed is
    // valid, one a removed member sent is not.
    const chain::ValidatorSet& members = chain::current_validators(spec, result.state);
    if (&members != &spec.validators) {
      auto rechecked = recheck(store, spec, members, height);
      if (!rechecked) return rechecked.error();
      if (!*rechecked) return LedgerVerdict(LedgerFault{height, rechecked->reason().message()});
      c.block = std::move(*rechecked).value();
    }
    if (!c.block) return LedgerVerdict(LedgerFault{height, c.fault});
    auto after = chain::apply_block(spec, result.state, *c.block);
    if (!after) return LedgerVerdict(LedgerFault{height, after.reason().message()});
    result.state = std::move(after).value();
    if (c.index_error) return *c.index_error;
    if (c.index_fault) return LedgerVerdict(LedgerFault{height, *c.index_fault});
    if (digests != nullptr) {
      digests->block_ids.add(c.block_id_entry);
      digests->txs.add(c.tx_entries);
    }
    result.transactions += c.block->transactions.size();
    result.signatures += c.block->transactions.size() + c.commit_signatures;
    if (next_snapshot != snapshots->end() && *next_snapshot == height) {
      auto snapshot_fault = check_snapshot(store, spec, result.state);
      if (!snapshot_fault) return snapshot_fault.error();
      if (*snapshot_fault) return LedgerVerdict(LedgerFault{height, **snapshot_fault});
      ++result.snapshots;
      ++next_snapshot;
    }
    if (options.progress && (height - reported >= window || height == tip.height)) {
      options.progress(height);
      reported = height;
    }
  }

  // The store's own records must agree with the chain they index.
  if (result.state.last_block_id != tip.block_id) {
    return LedgerVerdict(LedgerFault{tip.height, "the store's tip record names block " +
                                                     tip.block_id.hex() +
                                                     " but the block at that height has id " +
                                                     result.state.last_block_id.hex()});
  }
  if (auto beyond = store.block_at(tip.height + 1); !beyond) {
    return beyond.error();
  } else if (beyond->has_value()) {
    return LedgerVerdict(LedgerFault{
        tip.height + 1,
        "a block is stored above the tip record's height " + std::to_string(tip.height)});
  }
  for (const auto& [sender, next_nonce] : result.state.next_nonces) {
    auto stored = store.next_nonce(sender);
    if (!stored) return stored.error();
    if (*stored != next_nonce) {
      return LedgerVerdict(
          LedgerFault{tip.height, "the store's nonce record for " + sender.hex() +
                                      " says the next nonce is " + std::to_string(*stored) +
                                      " but the chain says " + std::to_string(next_nonce)});
    }
  }
  return LedgerVerdict(std::move(result));
}

}  // namespace

Result<LedgerVerdict> verify_ledger(const BlockStore& store, const chain::ChainSpec& spec,
                                    const VerifyOptions& options) {
  return verify_chain(store, spec, options, nullptr);
}

// The indexes are checked by digest: the entries the chain implies against
// one scan of each index, instead of a RocksDB look-up per block and per
// transaction (issue 18: those took ~7% of `ledger verify`'s CPU). Only when
// the digests differ, or below a chain fault, are the entries looked up one
// by one, so the fault named is the one a look-up pass would name.
Result<LedgerVerdict> verify_ledger(const LedgerStore& store, const chain::ChainSpec& spec,
                                    const VerifyOptions& options) {
  ChainDigests implied;
  auto verdict = verify_chain(store, spec, options, &implied);
  if (!verdict) return verdict;
  if (!*verdict) {
    const std::uint64_t at = verdict->reason().height;
    if (at > 1) {
      auto below = first_index_fault(store, 1, std::min(at - 1, store.tip().height));
      if (!below) return below.error();
      if (*below) return LedgerVerdict(std::move(**below));
    }
    return verdict;
  }
  auto counts = store.index_counts(implied.salt);
  if (!counts) return counts.error();
  const VerifiedLedger& ok = verdict->value();
  const std::uint64_t height = ok.state.height;
  const bool same =
      counts->block_id_digest == implied.block_ids && counts->tx_digest == implied.txs;
  if (!same) {
    auto fault = first_index_fault(store, 1, height);
    if (!fault) return fault.error();
    if (*fault) return LedgerVerdict(std::move(**fault));
  }
  // Every block and transaction is in its index; an index larger than the
  // chain holds entries that point nowhere true. (A valid chain never holds
  // one transaction twice: the second would replay a nonce.)
  if (counts->block_ids != height) {
    return LedgerVerdict(LedgerFault{
        height, "the store's block id index holds " + std::to_string(counts->block_ids) +
                    " entries but the chain has " + std::to_string(height) + " blocks"});
  }
  if (counts->txs != ok.transactions) {
    return LedgerVerdict(
        LedgerFault{height, "the store's transaction index holds " + std::to_string(counts->txs) +
                                " entries but the chain has " + std::to_string(ok.transactions) +
                                " transactions"});
  }
  // verify_ledger checked the record of every key that sent a transaction;
  // one more record is for a key that never did.
  if (counts->nonces != ok.state.next_nonces.size()) {
    return LedgerVerdict(LedgerFault{
        height, "the store holds nonce records for " + std::to_string(counts->nonces) +
                    " keys but " + std::to_string(ok.state.next_nonces.size()) +
                    " keys sent transactions in the chain; a record names a key that never did"});
  }
  if (!same) {
    return LedgerVerdict(LedgerFault{
        height,
        "the store's indexes hold as many entries as the chain implies, but not the same "
        "ones (their digests differ)"});
  }
  return verdict;
}

chain::Verdict<chain::ChainSpec, LedgerFault> stored_chain_spec(const LedgerStore& store) {
  const std::string& document = store.genesis_document();
  if (document.empty()) {
    return LedgerFault{0, "the ledger holds no copy of its genesis file; pass --genesis FILE"};
  }
  const chain::Hash actual = chain::genesis_hash(document);
  if (actual != store.genesis_hash()) {
    return LedgerFault{0, "the genesis file stored in the ledger hashes to " + actual.hex() +
                              " but the ledger was created for " + store.genesis_hash().hex() +
                              "; the stored copy was altered"};
  }
  auto spec = chain::load_chain_spec(document);
  if (!spec)
    return LedgerFault{
        0, "the genesis file stored in the ledger is not valid: " + spec.error().message};
  return std::move(spec).value();
}

}  // namespace baton::storage

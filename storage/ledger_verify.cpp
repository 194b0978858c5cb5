#include "storage/ledger_verify.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "chain/block.h"
#include "chain/transaction.h"
#include "chain/validation.h"
#include "storage/state_snapshot.h"

namespace baton::storage {

namespace {

using StatelessVerdict = chain::Verdict<chain::DecodedBlock, chain::BlockFault>;

// One height's stateless outcome: a decoded block, or why it is bad.
struct Checked {
  std::optional<chain::DecodedBlock> block;
  std::string fault;
  std::uint64_t commit_signatures = 0;
};

Checked check_one(const chain::ChainSpec& spec, const std::string& bytes) {
  Checked out;
  auto committed = chain::decode_committed_block(bytes);
  if (!committed) {
    out.fault = committed.error().message;
    return out;
  }
  StatelessVerdict verdict = chain::check_block_stateless(spec, *committed);
  if (!verdict) {
    out.fault = verdict.reason().message();
    return out;
  }
  out.commit_signatures = static_cast<std::uint64_t>(committed->commit().signatures_size());
  out.block = std::move(verdict).value();
  return out;
}

// Runs check_one over `blocks` on `threads` threads (the caller's included).
// Work is handed out in small chunks from an atomic cursor so that both cores
// stay busy even when blocks differ in size.
std::vector<Checked> check_window(const chain::ChainSpec& spec,
                                  const std::vector<std::string>& blocks, unsigned threads) {
  std::vector<Checked> out(blocks.size());
  std::atomic<std::size_t> cursor{0};
  constexpr std::size_t kChunk = 8;
  auto work = [&] {
    for (;;) {
      const std::size_t begin = cursor.fetch_add(kChunk);
      if (begin >= blocks.size()) return;
      const std::size_t end = std::min(begin + kChunk, blocks.size());
      for (std::size_t i = begin; i < end; ++i) out[i] = check_one(spec, blocks[i]);
    }
  };
  std::vector<std::jthread> helpers;
  for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  helpers.clear();  // joins
  return out;
}

// Whether the store's indexes lead back to `block` at `height`: a fault
// sentence when not, nullopt when they do, an error when they cannot be read.
Result<std::optional<std::string>> check_indexes(const BlockStore& store,
                                                 const chain::DecodedBlock& block,
                                                 std::uint64_t height) {
  using Fault = std::optional<std::string>;
  auto at = store.height_of(block.id);
  if (!at) return at.error();
  if (*at != height) {
    return Fault("the store's block id index " +
                 (at->has_value() ? "maps this block's id to height " + std::to_string(**at)
                                  : std::string("has no entry for this block's id")));
  }
  const std::size_t n = block.transactions.size();
  for (std::size_t i = 0; i < n; ++i) {
    const chain::Hash hash = chain::tx_hash(chain::encode_transaction(block.transactions[i]));
    auto where = store.find_tx(hash);
    if (!where) return where.error();
    const TxLocation expected{height, static_cast<std::uint32_t>(i)};
    if (*where == expected) continue;
    const std::string which =
        "transaction " + std::to_string(i) + " of " + std::to_string(n) + " (" + hash.hex() + ")";
    return Fault("the store's transaction index " +
                 (where->has_value()
                      ? "puts " + which + " at height " + std::to_string((*where)->height) +
                            " index " + std::to_string((*where)->index)
                      : "has no entry for " + which));
  }
  return Fault();
}

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

}  // namespace

Result<LedgerVerdict> verify_ledger(const BlockStore& store, const chain::ChainSpec& spec,
                                    const VerifyOptions& options) {
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
  for (std::uint64_t next = 1; next <= tip.height;) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(window, tip.height - next + 1));
    auto blocks = store.blocks_from(next, want);
    if (!blocks) return blocks.error();
    std::vector<Checked> checked = check_window(spec, *blocks, threads);
    for (std::size_t i = 0; i < checked.size(); ++i) {
      const std::uint64_t height = next + i;
      if (!checked[i].block) return LedgerVerdict(LedgerFault{height, checked[i].fault});
      auto after = chain::apply_block(spec, result.state, *checked[i].block);
      if (!after) return LedgerVerdict(LedgerFault{height, after.reason().message()});
      result.state = std::move(after).value();
      auto index_fault = check_indexes(store, *checked[i].block, height);
      if (!index_fault) return index_fault.error();
      if (*index_fault) return LedgerVerdict(LedgerFault{height, **index_fault});
      result.transactions += checked[i].block->transactions.size();
      result.signatures += checked[i].block->transactions.size() + checked[i].commit_signatures;
      if (next_snapshot != snapshots->end() && *next_snapshot == height) {
        auto snapshot_fault = check_snapshot(store, spec, result.state);
        if (!snapshot_fault) return snapshot_fault.error();
        if (*snapshot_fault) return LedgerVerdict(LedgerFault{height, **snapshot_fault});
        ++result.snapshots;
        ++next_snapshot;
      }
    }
    if (blocks->size() < want) {
      return LedgerVerdict(LedgerFault{next + blocks->size(),
                                       "the block is missing from the store (the tip record says " +
                                           std::to_string(tip.height) + ")"});
    }
    next += want;
    if (options.progress) options.progress(next - 1);
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

Result<LedgerVerdict> verify_ledger(const LedgerStore& store, const chain::ChainSpec& spec,
                                    const VerifyOptions& options) {
  auto verdict = verify_ledger(static_cast<const BlockStore&>(store), spec, options);
  if (!verdict || !*verdict) return verdict;
  // Every block and transaction was found in its index above; an index
  // larger than the chain holds entries that point nowhere true. (A valid
  // chain never holds one transaction twice: the second would replay a nonce.)
  auto counts = store.index_counts();
  if (!counts) return counts.error();
  const VerifiedLedger& ok = verdict->value();
  const std::uint64_t height = ok.state.height;
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

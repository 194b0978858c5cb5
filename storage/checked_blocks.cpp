#include "storage/checked_blocks.h"

#include <algorithm>

#include "chain/block.h"
#include "chain/transaction.h"

namespace baton::storage {

std::vector<chain::Hash> stored_tx_hashes(const chain::pb::Block& block) {
  std::vector<chain::Hash> out;
  out.reserve(static_cast<std::size_t>(block.transactions_size()));
  for (const std::string& tx : block.transactions()) out.push_back(chain::tx_hash(tx));
  return out;
}

Result<std::optional<std::string>> index_fault(const BlockStore& store, const chain::Hash& block_id,
                                               const std::vector<chain::Hash>& tx_hashes,
                                               std::uint64_t height) {
  using Fault = std::optional<std::string>;
  auto at = store.height_of(block_id);
  if (!at) return at.error();
  if (*at != height) {
    return Fault("the store's block id index " +
                 (at->has_value() ? "maps this block's id to height " + std::to_string(**at)
                                  : std::string("has no entry for this block's id")));
  }
  auto found = store.find_txs(tx_hashes);
  if (!found) return found.error();
  const std::size_t n = tx_hashes.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::optional<TxLocation>& where = (*found)[i];
    const TxLocation expected{height, static_cast<std::uint32_t>(i)};
    if (where == expected) continue;
    const std::string which = "transaction " + std::to_string(i) + " of " + std::to_string(n) +
                              " (" + tx_hashes[i].hex() + ")";
    return Fault("the store's transaction index " +
                 (where.has_value()
                      ? "puts " + which + " at height " + std::to_string(where->height) +
                            " index " + std::to_string(where->index)
                      : "has no entry for " + which));
  }
  return Fault();
}

namespace {

CheckedBlock check_one(const BlockStore& store, const chain::ChainSpec& spec,
                       const std::optional<IndexDigest::Salt>& digest_salt, std::uint64_t height,
                       const std::string& bytes) {
  CheckedBlock out;
  out.height = height;
  auto committed = chain::decode_committed_block(bytes);
  if (!committed) {
    out.fault = committed.error().message;
    return out;
  }
  out.commit_signatures = static_cast<std::uint64_t>(committed->commit().signatures_size());
  // The index part first, from the stored bytes, whatever the checks below
  // find: a block they refuse because it needs the members of its own
  // height (a newcomer's) is checked again in order (ledger_verify.cpp), and
  // its index entries count as any other block's. The hashes are of the
  // stored bytes, not of a re-encoding (the checks require them canonical).
  const std::vector<chain::Hash> tx_hashes = stored_tx_hashes(committed->block());
  const chain::Hash id = chain::block_id(committed->block());
  if (digest_salt) {
    out.block_id_entry = IndexDigest(*digest_salt);
    out.tx_entries = IndexDigest(*digest_salt);
    out.block_id_entry.add_block_id(id, height);
    for (std::size_t i = 0; i < tx_hashes.size(); ++i)
      out.tx_entries.add_tx(tx_hashes[i], TxLocation{height, static_cast<std::uint32_t>(i)});
  } else if (auto index = index_fault(store, id, tx_hashes, height); !index) {
    out.index_error = index.error();
  } else {
    out.index_fault = std::move(*index);
  }
  auto verdict = chain::check_block_stateless(spec, *committed);
  if (!verdict) {
    out.fault = verdict.reason().message();
    return out;
  }
  out.block = std::move(verdict).value();
  return out;
}

}  // namespace

CheckedBlocks::CheckedBlocks(const BlockStore& store, const chain::ChainSpec& spec,
                             std::uint64_t first, std::uint64_t last, unsigned threads,
                             std::size_t window_blocks,
                             std::optional<IndexDigest::Salt> digest_salt)
    : store_(store), spec_(spec), first_(first), last_(last), digest_salt_(digest_salt) {
  threads = std::max(1u, threads);
  window_blocks = std::max<std::size_t>(1, window_blocks);
  // Jobs small enough that every thread has a few in the window (so none
  // waits for the consumer), large enough that taking one costs nothing
  // next to checking its signatures.
  constexpr std::size_t kMaxJobBlocks = 16;
  job_blocks_ = std::clamp<std::size_t>(window_blocks / (4 * threads), 1, kMaxJobBlocks);
  max_ahead_ = std::max<std::size_t>(1, (window_blocks + job_blocks_ - 1) / job_blocks_);
  const std::uint64_t heights = last_ >= first_ ? last_ - first_ + 1 : 0;
  jobs_ = (heights + job_blocks_ - 1) / job_blocks_;
  slots_.resize(max_ahead_);
  const std::uint64_t useful = std::min<std::uint64_t>(jobs_, max_ahead_);
  for (unsigned t = 1; t < threads && t < useful; ++t)
    helpers_.emplace_back([this] { helper_loop(); });
}

CheckedBlocks::~CheckedBlocks() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  helpers_.clear();  // joins
}

std::size_t CheckedBlocks::job_size(std::uint64_t job) const {
  return static_cast<std::size_t>(std::min<std::uint64_t>(job_blocks_, last_ - job_first(job) + 1));
}

bool CheckedBlocks::can_take() const {
  return !stopping_ && next_job_ < jobs_ && next_job_ < consumed_ + max_ahead_;
}

void CheckedBlocks::run_job(std::uint64_t job) {
  Job done;
  const std::uint64_t first = job_first(job);
  auto bytes = store_.blocks_from(first, job_size(job));
  if (!bytes) {
    done.error = bytes.error();
  } else {
    done.blocks.reserve(bytes->size());
    for (std::size_t i = 0; i < bytes->size(); ++i) {
      done.blocks.push_back(check_one(store_, spec_, digest_salt_, first + i, (*bytes)[i]));
      // The raw bytes are not needed once decoded.
      std::string().swap((*bytes)[i]);
    }
  }
  done.done = true;
  {
    std::lock_guard lock(mutex_);
    slots_[job % slots_.size()] = std::move(done);
  }
  changed_.notify_all();
}

void CheckedBlocks::helper_loop() {
  for (;;) {
    std::uint64_t job = 0;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || next_job_ >= jobs_ || can_take(); });
      if (!can_take()) return;  // stopping, or every job taken
      job = next_job_++;
    }
    run_job(job);
  }
}

Result<std::optional<CheckedBlock>> CheckedBlocks::next() {
  if (finished_ || consumed_ >= jobs_) return std::optional<CheckedBlock>{};
  std::unique_lock lock(mutex_);
  Job& slot = slots_[consumed_ % slots_.size()];
  while (!slot.done) {
    if (can_take()) {
      // Rather than wait, check a block: the job taken may be this very one.
      const std::uint64_t job = next_job_++;
      lock.unlock();
      run_job(job);
      lock.lock();
    } else {
      changed_.wait(lock);
    }
  }
  lock.unlock();
  auto finish = [&] {
    finished_ = true;
    lock.lock();
    stopping_ = true;
    lock.unlock();
    changed_.notify_all();
  };
  if (consumed_index_ < slot.blocks.size()) {
    CheckedBlock out = std::move(slot.blocks[consumed_index_++]);
    const bool job_over =
        consumed_index_ == slot.blocks.size() && slot.blocks.size() == job_size(consumed_);
    if (job_over) {
      slot = Job{};
      consumed_index_ = 0;
      lock.lock();
      ++consumed_;
      lock.unlock();
      changed_.notify_all();  // room for one more job
    }
    return std::optional<CheckedBlock>{std::move(out)};
  }
  if (slot.error) {
    Error e = *slot.error;
    finish();
    return e;
  }
  // The store ended inside this job: the first height it did not return.
  CheckedBlock missing;
  missing.height = job_first(consumed_) + slot.blocks.size();
  missing.missing = true;
  finish();
  return std::optional<CheckedBlock>{std::move(missing)};
}

}  // namespace baton::storage

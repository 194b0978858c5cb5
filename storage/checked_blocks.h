// The read-and-check stage of verify_ledger (storage/ledger_verify.h), run
// ahead of the stage that applies blocks in height order.
//
// Heights first..last are cut into jobs of a few consecutive heights. A job
// reads its blocks from the store, decodes them, runs
// chain::check_block_stateless (every transaction and commit signature) and
// looks each block's id and transactions up in the store's indexes (or,
// given a digest salt, only digests the entries they imply, for the caller
// to compare with one scan of the indexes: LedgerStore::index_counts). Jobs
// run
// on `threads` threads: threads - 1 helpers of its own and the consumer's
// thread, which runs a job whenever the height it waits for is not ready.
// So the signatures of later blocks are checked while the consumer applies
// earlier ones, and both cores stay busy.
//
// Memory is bounded: jobs are taken only while the heights read but not yet
// handed to the consumer number at most `window_blocks` (rounded up to a
// whole job). Outcomes are handed out strictly in height order, so a
// consumer that stops at the first fault reports the same height as a
// single-threaded pass would.
//
// Threads: one consumer calls next(); the destructor stops the helpers after
// the job each is running.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/result.h"
#include "chain/validation.h"
#include "storage/block_store.h"

namespace baton::storage {

// What the read-and-check stage found at one height.
struct CheckedBlock {
  std::uint64_t height = 0;
  // The store holds no block here (it ended below `last`); nothing else is set.
  bool missing = false;
  // Set when the stateless checks passed; else `fault` says why not.
  std::optional<chain::DecodedBlock> block;
  std::string fault;
  std::uint64_t commit_signatures = 0;  // once the block decodes
  // Once the block decodes (even when `fault` is set: the consumer may
  // accept the block after checking it again against later members):
  // Without a digest salt: whether the store's indexes lead back to it. A
  // sentence when they do not; `index_error` when they could not be read.
  std::optional<std::string> index_fault;
  std::optional<Error> index_error;
  // With a digest salt: the entries it implies.
  IndexDigest block_id_entry;
  IndexDigest tx_entries;
};

// The hashes of a block's transactions as stored (tx_hash of each one's
// exact bytes), the keys of the transaction index.
std::vector<chain::Hash> stored_tx_hashes(const chain::pb::Block& block);

// Whether the store's indexes lead back to the block with id `block_id` at
// `height`, whose stored transactions hash to `tx_hashes`: a fault sentence
// when not, nullopt when they do, an error when they cannot be read.
Result<std::optional<std::string>> index_fault(const BlockStore& store, const chain::Hash& block_id,
                                               const std::vector<chain::Hash>& tx_hashes,
                                               std::uint64_t height);

class CheckedBlocks {
 public:
  // `store` and `spec` must outlive this object. first <= last + 1 (an empty
  // range yields nothing); threads 0 counts as 1, window_blocks 0 as 1.
  CheckedBlocks(const BlockStore& store, const chain::ChainSpec& spec, std::uint64_t first,
                std::uint64_t last, unsigned threads, std::size_t window_blocks,
                std::optional<IndexDigest::Salt> digest_salt = std::nullopt);
  ~CheckedBlocks();
  CheckedBlocks(const CheckedBlocks&) = delete;
  CheckedBlocks& operator=(const CheckedBlocks&) = delete;

  // The next height's outcome, in height order, waiting (and checking blocks
  // on this thread) until it is ready; nullopt after `last` or after a
  // missing block. An error when the store could not be read there.
  Result<std::optional<CheckedBlock>> next();

  std::size_t job_blocks() const { return job_blocks_; }

 private:
  struct Job {
    std::vector<CheckedBlock> blocks;  // in height order; fewer than the job's heights: missing
    std::optional<Error> error;        // the blocks could not be read
    bool done = false;
  };

  std::uint64_t job_first(std::uint64_t job) const { return first_ + job * job_blocks_; }
  std::size_t job_size(std::uint64_t job) const;
  // Under mutex_: the next job may be taken now.
  bool can_take() const;
  void run_job(std::uint64_t job);
  void helper_loop();

  const BlockStore& store_;
  const chain::ChainSpec& spec_;
  const std::uint64_t first_;
  const std::uint64_t last_;
  const std::optional<IndexDigest::Salt> digest_salt_;
  std::size_t job_blocks_ = 1;
  std::uint64_t jobs_ = 0;     // in all
  std::size_t max_ahead_ = 1;  // jobs taken but not yet handed out in full

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Job> slots_;      // job j in slots_[j % slots_.size()]
  std::uint64_t next_job_ = 0;  // the next job to take
  std::uint64_t consumed_ = 0;  // the job next() hands out from
  std::size_t consumed_index_ = 0;
  bool finished_ = false;  // next() has returned nullopt or an error
  bool stopping_ = false;
  std::vector<std::jthread> helpers_;
};

}  // namespace baton::storage

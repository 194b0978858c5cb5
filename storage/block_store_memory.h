// MemoryBlockStore: an in-memory BlockStore for unit tests of pure logic
// (node, consensus wiring). Same rules as LedgerStore (write-once,
// successor-only), no durability. Thread-safe.
#pragma once

#include <map>
#include <mutex>

#include "storage/block_store.h"

namespace baton::storage {

class MemoryBlockStore final : public BlockStore {
 public:
  explicit MemoryBlockStore(const chain::Hash& genesis_hash);

  Status append(std::string_view committed_block_bytes) override;
  Result<std::optional<std::string>> block_at(std::uint64_t height) const override;
  Result<std::vector<std::string>> blocks_from(std::uint64_t first,
                                               std::size_t max_count) const override;
  Tip tip() const override;
  Result<std::optional<std::uint64_t>> height_of(const chain::Hash& block_id) const override;
  Result<std::optional<TxLocation>> find_tx(const chain::Hash& tx_hash) const override;
  Result<std::uint64_t> next_nonce(const chain::PublicKey& sender) const override;
  chain::Hash genesis_hash() const override { return genesis_hash_; }
  Status put_snapshot(std::uint64_t height, std::string_view record, std::size_t keep) override;
  Result<std::vector<std::uint64_t>> snapshot_heights() const override;
  Result<std::optional<std::string>> snapshot_at(std::uint64_t height) const override;

 private:
  const chain::Hash genesis_hash_;
  mutable std::mutex mutex_;
  Tip tip_;
  std::vector<std::string> blocks_;  // blocks_[h - 1] is height h
  std::map<chain::Hash, std::uint64_t> heights_;
  std::map<chain::Hash, TxLocation> txs_;
  std::map<chain::PublicKey, std::uint64_t> last_nonces_;
  std::map<std::uint64_t, std::string> snapshots_;
};

}  // namespace baton::storage

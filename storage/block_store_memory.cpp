#include "storage/block_store_memory.h"

#include <algorithm>

namespace baton::storage {

MemoryBlockStore::MemoryBlockStore(const chain::Hash& genesis_hash)
    : genesis_hash_(genesis_hash), tip_{0, genesis_hash} {}

Status MemoryBlockStore::append(std::string_view committed_block_bytes) {
  auto described = describe_block(committed_block_bytes);
  if (!described) return described.error();
  std::lock_guard lock(mutex_);
  if (auto ok = check_successor(tip_, *described); !ok) return ok;
  const BlockDescription& d = *described;
  blocks_.emplace_back(committed_block_bytes);
  heights_[d.block_id] = d.height;
  for (std::size_t i = 0; i < d.tx_hashes.size(); ++i) {
    txs_[d.tx_hashes[i]] = TxLocation{d.height, static_cast<std::uint32_t>(i)};
  }
  for (const auto& [sender, nonce] : d.last_nonces) {
    auto& last = last_nonces_[sender];
    last = std::max(last, nonce);
  }
  tip_ = Tip{d.height, d.block_id};
  return {};
}

Result<std::optional<std::string>> MemoryBlockStore::block_at(std::uint64_t height) const {
  std::lock_guard lock(mutex_);
  if (height == 0 || height > blocks_.size()) return std::optional<std::string>();
  return std::optional<std::string>(blocks_[height - 1]);
}

Result<std::vector<std::string>> MemoryBlockStore::blocks_from(std::uint64_t first,
                                                               std::size_t max_count) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (std::uint64_t h = std::max<std::uint64_t>(first, 1);
       h <= blocks_.size() && out.size() < max_count; ++h) {
    out.push_back(blocks_[h - 1]);
  }
  return out;
}

Tip MemoryBlockStore::tip() const {
  std::lock_guard lock(mutex_);
  return tip_;
}

Result<std::optional<std::uint64_t>> MemoryBlockStore::height_of(
    const chain::Hash& block_id) const {
  std::lock_guard lock(mutex_);
  auto it = heights_.find(block_id);
  if (it == heights_.end()) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(it->second);
}

Result<std::optional<TxLocation>> MemoryBlockStore::find_tx(const chain::Hash& tx_hash) const {
  std::lock_guard lock(mutex_);
  auto it = txs_.find(tx_hash);
  if (it == txs_.end()) return std::optional<TxLocation>();
  return std::optional<TxLocation>(it->second);
}

Result<std::uint64_t> MemoryBlockStore::next_nonce(const chain::PublicKey& sender) const {
  std::lock_guard lock(mutex_);
  auto it = last_nonces_.find(sender);
  return it == last_nonces_.end() ? std::uint64_t{1} : it->second + 1;
}

Status MemoryBlockStore::put_snapshot(std::uint64_t height, std::string_view record,
                                      std::size_t keep) {
  std::lock_guard lock(mutex_);
  if (height > tip_.height) {
    return make_error("a snapshot at height " + std::to_string(height) +
                      " is above the tip at height " + std::to_string(tip_.height));
  }
  snapshots_[height] = std::string(record);
  while (snapshots_.size() > std::max<std::size_t>(keep, 1)) snapshots_.erase(snapshots_.begin());
  return {};
}

Result<std::vector<std::uint64_t>> MemoryBlockStore::snapshot_heights() const {
  std::lock_guard lock(mutex_);
  std::vector<std::uint64_t> out;
  for (const auto& [height, record] : snapshots_) out.push_back(height);
  return out;
}

Result<std::optional<std::string>> MemoryBlockStore::snapshot_at(std::uint64_t height) const {
  std::lock_guard lock(mutex_);
  auto it = snapshots_.find(height);
  if (it == snapshots_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

}  // namespace baton::storage

// LedgerStore's state snapshots, state sync (install_trusted, backfill) and
// repair of a damaged block (replace_block, recover): docs/PROTOCOL.md §24.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "storage/ledger_store.h"
#include "storage/ledger_store_internal.h"

namespace baton::storage {

namespace fs = std::filesystem;
using namespace ledger_detail;

namespace {

// Writes, fsyncs and removes `bytes` zero bytes at `path`: whether the file
// system takes writes again, without touching the database.
Status probe_writes(const fs::path& path, std::size_t bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(std::strerror(errno));
  const std::string block(64 * 1024, '\0');
  std::string why;
  for (std::size_t done = 0; done < bytes && why.empty();) {
    const ssize_t n = ::write(fd, block.data(), std::min(block.size(), bytes - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) why = n < 0 ? std::strerror(errno) : "short write";
    if (n > 0) done += static_cast<std::size_t>(n);
  }
  if (why.empty() && ::fsync(fd) != 0) why = std::strerror(errno);
  ::close(fd);
  ::unlink(path.c_str());
  if (!why.empty()) return make_error(why);
  return {};
}

}  // namespace

Status LedgerStore::put_snapshot(std::uint64_t height, std::string_view record, std::size_t keep) {
  if (read_only_)
    return make_error("the ledger at " + dir_.string() +
                      " was opened read-only; it cannot store a snapshot");
  if (auto made = make_snapshots_family(); !made) return made;
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr)
    return closed_error("store the snapshot at height " + std::to_string(height));
  std::lock_guard lock(mutex_);
  if (height > tip_.height) {
    return make_error("a snapshot at height " + std::to_string(height) +
                      " is above the tip at height " + std::to_string(tip_.height));
  }
  std::vector<std::uint64_t> heights;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        h_->db->NewIterator(rocksdb::ReadOptions(), h_->snapshots()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const auto h = read_be(it->key().ToStringView(), 8);
      if (h && *h != height) heights.push_back(*h);
    }
    if (!it->status().ok()) return io_error("list the snapshots", it->status().ToString());
  }
  heights.push_back(height);
  std::sort(heights.begin(), heights.end());
  rocksdb::WriteBatch batch;
  batch.Put(h_->snapshots(), be64(height), rocksdb::Slice(record.data(), record.size()));
  const std::size_t kept = std::max<std::size_t>(keep, 1);
  for (std::size_t i = 0; i + kept < heights.size(); ++i)
    batch.Delete(h_->snapshots(), be64(heights[i]));
  rocksdb::WriteOptions wo;
  wo.sync = sync_each_append_;
  rocksdb::Status s = h_->db->Write(wo, &batch);
  if (!s.ok())
    return io_error("store the snapshot at height " + std::to_string(height), s.ToString());
  return {};
}

Result<std::vector<std::uint64_t>> LedgerStore::snapshot_heights() const {
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr) return closed_error("list the snapshots");
  std::vector<std::uint64_t> out;
  if (h_->snapshots() == nullptr) return out;
  std::unique_ptr<rocksdb::Iterator> it(
      h_->db->NewIterator(rocksdb::ReadOptions(), h_->snapshots()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const auto h = read_be(it->key().ToStringView(), 8);
    if (!h) return io_error("list the snapshots", "a snapshot key is not 8 bytes");
    out.push_back(*h);
  }
  if (!it->status().ok()) return io_error("list the snapshots", it->status().ToString());
  return out;
}

Result<std::optional<std::string>> LedgerStore::snapshot_at(std::uint64_t height) const {
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr)
    return closed_error("read the snapshot at height " + std::to_string(height));
  if (h_->snapshots() == nullptr) return std::optional<std::string>();
  std::string value;
  rocksdb::Status s = h_->db->Get(rocksdb::ReadOptions(), h_->snapshots(), be64(height), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok())
    return io_error("read the snapshot at height " + std::to_string(height), s.ToString());
  return std::optional<std::string>(std::move(value));
}

Status LedgerStore::make_snapshots_family() {
  // The first snapshot makes its column family; readers of h_->cf wait.
  std::unique_lock db_lock(db_mutex_);
  if (h_->db != nullptr && h_->snapshots() == nullptr) {
    rocksdb::ColumnFamilyHandle* made = nullptr;
    rocksdb::Status s = h_->db->CreateColumnFamily(family_options(kSnapshots), kSnapshots, &made);
    if (!s.ok()) return io_error("make the snapshots column family", s.ToString());
    h_->cf.push_back(made);
  }
  return {};
}

// ---------------------------------------------------------------- state sync and repair

std::uint64_t LedgerStore::history_from() const {
  std::lock_guard lock(mutex_);
  return history_from_;
}

Status LedgerStore::install_trusted(std::string_view committed_block_bytes,
                                    std::string_view snapshot_record,
                                    const std::vector<BlockDescription::SenderNonce>& nonces) {
  if (read_only_) return make_error("the ledger at " + dir_.string() + " was opened read-only");
  auto described = describe_block(committed_block_bytes);
  if (!described) return described.error();
  BlockDescription d = std::move(described).value();
  if (d.height == 0) return make_error("a trusted block cannot be at height 0");
  // The state's nonces, not the block's: they cover every block below it.
  d.last_nonces = nonces;
  if (auto made = make_snapshots_family(); !made) return made;
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr) return closed_error("store the trusted block " + std::to_string(d.height));
  std::lock_guard lock(mutex_);
  if (tip_.height != 0) {
    return make_error("the ledger at " + dir_.string() + " already holds blocks up to height " +
                      std::to_string(tip_.height) +
                      "; state sync starts only from an empty data directory");
  }
  rocksdb::WriteBatch batch;
  const std::string height_key = be64(d.height);
  if (auto staged = stage_block(batch, d, committed_block_bytes); !staged) return staged;
  batch.Put(h_->snapshots(), height_key,
            rocksdb::Slice(snapshot_record.data(), snapshot_record.size()));
  batch.Put(h_->meta(), kMetaTipHeight, height_key);
  batch.Put(h_->meta(), kMetaTipId, slice(d.block_id));
  batch.Put(h_->meta(), kMetaHistoryFrom, height_key);
  rocksdb::WriteOptions wo;
  wo.sync = sync_each_append_;
  rocksdb::Status s = h_->db->Write(wo, &batch);
  if (!s.ok()) return io_error("store the trusted block " + std::to_string(d.height), s.ToString());
  tip_ = Tip{d.height, d.block_id};
  history_from_ = d.height;
  return {};
}

Result<chain::Hash> LedgerStore::id_named_above(std::uint64_t height) const {
  // Callers hold db_mutex_ (shared) and mutex_.
  if (height == tip_.height) return tip_.block_id;
  std::string above;
  rocksdb::Status s = h_->db->Get(rocksdb::ReadOptions(), h_->blocks(), be64(height + 1), &above);
  if (!s.ok()) {
    return make_error("cannot read the block at height " + std::to_string(height + 1) +
                      " that names the id of height " + std::to_string(height) + ": " +
                      s.ToString());
  }
  auto d = describe_block(above);
  if (!d) {
    return make_error("the block at height " + std::to_string(height + 1) +
                      " is unreadable, so the id of height " + std::to_string(height) +
                      " is unknown: " + d.error().message);
  }
  return d->previous_block_hash;
}

Status LedgerStore::backfill(std::string_view committed_block_bytes) {
  if (read_only_) return make_error("the ledger at " + dir_.string() + " was opened read-only");
  auto described = describe_block(committed_block_bytes);
  if (!described) return described.error();
  const BlockDescription& d = *described;
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr) return closed_error("backfill height " + std::to_string(d.height));
  std::lock_guard lock(mutex_);
  if (history_from_ <= 1 || d.height + 1 != history_from_) {
    return make_error("height " + std::to_string(d.height) +
                          " is not the next height to backfill (the ledger holds history from " +
                          std::to_string(history_from_) + ")",
                      static_cast<int>(AppendRefused::not_successor));
  }
  auto named = id_named_above(d.height);
  if (!named) return named.error();
  if (d.block_id != *named) {
    return make_error("the block offered for height " + std::to_string(d.height) + " has id " +
                          d.block_id.hex() + ", but the block above names " + named->hex(),
                      static_cast<int>(AppendRefused::not_successor));
  }
  rocksdb::WriteBatch batch;
  if (auto staged = stage_block(batch, d, committed_block_bytes); !staged) return staged;
  batch.Put(h_->meta(), kMetaHistoryFrom, be64(d.height));
  rocksdb::WriteOptions wo;
  wo.sync = sync_each_append_;
  rocksdb::Status s = h_->db->Write(wo, &batch);
  if (!s.ok()) return io_error("backfill height " + std::to_string(d.height), s.ToString());
  history_from_ = d.height;
  return {};
}

Status LedgerStore::replace_block(std::string_view committed_block_bytes) {
  if (read_only_) return make_error("the ledger at " + dir_.string() + " was opened read-only");
  auto described = describe_block(committed_block_bytes);
  if (!described) return described.error();
  const BlockDescription& d = *described;
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr) return closed_error("rewrite height " + std::to_string(d.height));
  std::lock_guard lock(mutex_);
  if (d.height < history_from_ || d.height > tip_.height) {
    return make_error("height " + std::to_string(d.height) +
                      " is not stored, so it cannot be rewritten");
  }
  auto named = id_named_above(d.height);
  if (!named) return named.error();
  if (d.block_id != *named) {
    return make_error("the block offered for height " + std::to_string(d.height) + " has id " +
                          d.block_id.hex() + ", but the ledger names " + named->hex(),
                      static_cast<int>(AppendRefused::not_successor));
  }
  // Same id, so the same header: its transactions (checked by the caller
  // against the header's Merkle root) and their index entries are the same,
  // so only the block's bytes are rewritten; the indexes are left alone.
  rocksdb::WriteBatch batch;
  batch.Put(h_->blocks(), be64(d.height),
            rocksdb::Slice(committed_block_bytes.data(), committed_block_bytes.size()));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = h_->db->Write(wo, &batch);
  if (!s.ok()) return io_error("rewrite height " + std::to_string(d.height), s.ToString());
  return {};
}

Status LedgerStore::recover() {
  if (read_only_) return make_error("the ledger at " + dir_.string() + " was opened read-only");
  // Close only once the disk takes writes: until then readers keep the old
  // instance, whose reads still work.
  if (auto probed = probe_writes(dir_ / ".baton-write-probe", 1u << 20); !probed) {
    return io_error("write a 1 MiB probe file", probed.error().message);
  }
  std::unique_lock db_lock(db_mutex_);
  h_ = std::make_unique<Handles>();  // closes the failed instance first (its LOCK)
  auto with_snapshots = has_snapshots(dir_);
  if (!with_snapshots) return with_snapshots.error();
  auto fresh = std::make_unique<Handles>();
  rocksdb::Status s = rocksdb::DB::Open(writer_options(dir_), dir_.string(),
                                        descriptors(*with_snapshots), &fresh->cf, &fresh->db);
  if (!s.ok()) return io_error("reopen the ledger", s.ToString());
  h_ = std::move(fresh);
  return load_meta();
}

Result<bool> LedgerStore::wait_for_compactions(std::chrono::seconds limit) {
  if (read_only_ || h_->db == nullptr) return closed_error("wait for compactions");
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    bool busy = false;
    for (auto* cf : h_->cf) {
      std::uint64_t pending = 0;
      if (h_->db->GetIntProperty(cf, rocksdb::DB::Properties::kCompactionPending, &pending) &&
          pending > 0)
        busy = true;
    }
    std::uint64_t running = 0;
    if (h_->db->GetIntProperty(rocksdb::DB::Properties::kNumRunningCompactions, &running) &&
        running > 0)
      busy = true;
    if (!busy) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace baton::storage
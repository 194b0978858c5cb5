// LedgerStore: the RocksDB implementation of BlockStore. docs/PROTOCOL.md
// ("RocksDB key layout") describes every column family, key and value.
//
// One process at a time opens a ledger as its writer (RocksDB's LOCK file
// enforces it). Any number of readers may open it at the same time, also while
// the writer runs (they are RocksDB secondary instances, which never write to
// the ledger directory); a reader sees the blocks present when it opened, and
// more after catch_up().
//
// Each append is one atomic WriteBatch (block, block id, transaction index,
// nonces, tip) written with sync = true: when append() returns, the block
// survives a crash or power loss, and a crash never leaves a torn block.
//
// Thread-safety: all methods may be called from several threads.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "storage/block_store.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace baton::storage {

// The on-disk layout version written in meta "format_version".
inline constexpr std::uint32_t kLedgerFormatVersion = 1;

struct LedgerWriterOptions {
  std::filesystem::path dir;
  // The genesis this ledger belongs to. A new ledger records both; an existing
  // one is refused unless it was created for the same hash.
  chain::Hash genesis_hash;
  // The genesis document's exact bytes, stored once at creation so that
  // `baton ledger verify` can check them against genesis_hash. Ignored when
  // the ledger exists already.
  std::string genesis_document = {};
  // fsync the write-ahead log on every append. Only bulk tools that call
  // sync() before reporting success may turn this off.
  bool sync_each_append = true;
};

class LedgerStore final : public BlockStore {
 public:
  // Creates a ledger in `dir` (which must be missing or empty) or opens the
  // existing one there as its single writer. Refuses: a directory with other
  // files, a RocksDB database that is not a Baton ledger, a ledger made for
  // another genesis, a ledger already opened by another writer.
  static Result<std::unique_ptr<LedgerStore>> open_writer(const LedgerWriterOptions& options);

  // Opens an existing ledger for reading only; works while a writer has it
  // open. Creates nothing in `dir`; refuses a missing directory or one that is
  // not a Baton ledger with a sentence saying so.
  static Result<std::unique_ptr<LedgerStore>> open_reader(const std::filesystem::path& dir);

  ~LedgerStore() override;
  LedgerStore(const LedgerStore&) = delete;
  LedgerStore& operator=(const LedgerStore&) = delete;

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

  // --- state sync and repair (docs/PROTOCOL.md §24.4) ---
  // The lowest stored height: the ledger holds every block from here to the
  // tip. 1 for a ledger that grew from genesis (and for an empty one); H
  // after install_trusted at H, lowered by each backfill until it is 1.
  std::uint64_t history_from() const override;

  // Writer only, on an empty ledger (tip 0): stores the trusted block H (its
  // exact CommittedBlock bytes; the caller checked it and the snapshot) as
  // the tip, its snapshot record (storage/state_snapshot.h) at H, the
  // state's nonces (each sender's highest used nonce) and history_from = H,
  // in one synced write.
  Status install_trusted(std::string_view committed_block_bytes, std::string_view snapshot_record,
                         const std::vector<BlockDescription::SenderNonce>& nonces);

  // Writer only: stores the block at history_from() - 1, only if its id is
  // the previous_block_hash of the block stored above it (the hash chain
  // from the trusted block down), with its index entries; history_from()
  // becomes its height. Refused (AppendRefused::not_successor) otherwise.
  // The caller checks its body (Merkle roots, signatures).
  Status backfill(std::string_view committed_block_bytes);

  // Writer only: rewrites a stored height whose bytes were found damaged,
  // only if the new block's id is the id the ledger names for that height
  // (the previous_block_hash of the block above it, or the tip id). Only the
  // `blocks` entry is written: the caller has checked the body against the
  // header, so the indexes already hold its entries.
  Status replace_block(std::string_view committed_block_bytes);

  // The genesis document bytes stored at creation (may be empty if the
  // creator passed none).
  const std::string& genesis_document() const { return genesis_document_; }
  bool read_only() const { return read_only_; }
  const std::filesystem::path& dir() const { return dir_; }

  // How many entries the block id and transaction indexes hold, and the
  // digest of their entries with `salt` (a full scan of both column
  // families; verify_ledger compares them with the chain).
  struct IndexCounts {
    std::uint64_t block_ids = 0;
    std::uint64_t txs = 0;
    std::uint64_t nonces = 0;  // sender keys with a nonce record
    IndexDigest block_id_digest;
    IndexDigest tx_digest;
  };
  Result<IndexCounts> index_counts(const IndexDigest::Salt& salt = {}) const;

  // Reader only: makes blocks appended by the writer since opening visible.
  Status catch_up();

  // Writer only: makes every append so far durable (needed only when
  // sync_each_append is false).
  Status sync();

  // Writer only: waits until RocksDB has no compaction pending or running
  // in any column family (at most `limit`; false when it is still busy).
  // For benchmarks: a restart timed right after a bulk load would otherwise
  // share the CPU with the load's compaction backlog, which a node that
  // appended the same blocks over months never has.
  Result<bool> wait_for_compactions(std::chrono::seconds limit);

  // Writer only: after a failed write (e.g. the disk was full), makes the
  // store take writes again once the cause is gone, then reloads the tip
  // from disk (the caller compares it with what it believes committed).
  // Closes and reopens the database: RocksDB replays its write-ahead log up
  // to the last complete record and starts a new one, so a record torn by
  // the failed write is never followed by later ones. Fails while the disk
  // still refuses writes; the store is then closed (every read and append
  // fails with a sentence saying so) until a later recover() succeeds.
  // Readers on other threads wait while it runs.
  Status recover();

 private:
  struct Handles;
  LedgerStore(std::filesystem::path dir, bool read_only);
  Status load_meta();
  Status make_snapshots_family();
  // Adds the block's entries (block, id, transactions, raised nonces).
  Status stage_block(rocksdb::WriteBatch& batch, const BlockDescription& d,
                     std::string_view committed_block_bytes) const;
  // The id the ledger names for `height`: the tip id, or the previous hash
  // of the block above. Caller holds db_mutex_ and mutex_.
  Result<chain::Hash> id_named_above(std::uint64_t height) const;
  Error io_error(const std::string& doing, const std::string& why) const;
  // The error of every call while recover() left the database closed.
  Error closed_error(const std::string& doing) const;

  const std::filesystem::path dir_;
  const bool read_only_;
  bool sync_each_append_ = true;
  // Guards h_ against recover() replacing it: shared by every read and
  // append, exclusive in recover(). Taken before mutex_.
  mutable std::shared_mutex db_mutex_;
  std::unique_ptr<Handles> h_;
  std::filesystem::path secondary_dir_;  // reader's private RocksDB info-log dir
  chain::Hash genesis_hash_;
  std::string genesis_document_;
  mutable std::mutex mutex_;  // guards tip_ and serialises appends
  Tip tip_;
  std::uint64_t history_from_ = 1;  // guarded by mutex_
};

}  // namespace baton::storage

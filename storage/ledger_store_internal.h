// What storage/ledger_store.cpp and storage/ledger_store_sync.cpp share:
// the RocksDB layout (column families and meta keys, docs/PROTOCOL.md
// "RocksDB key layout"), the big-endian keys, the options every open uses,
// and LedgerStore's RocksDB handles. Internal to storage/: nothing outside
// includes it.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "chain/crypto.h"
#include "chain/result.h"
#include "storage/ledger_store.h"

namespace baton::storage::ledger_detail {

// Column family names (docs/PROTOCOL.md, "RocksDB key layout").
inline constexpr const char* kBlocks = "blocks";       // u64be height -> CommittedBlock bytes
inline constexpr const char* kBlockIds = "block_ids";  // block id (32) -> u64be height
inline constexpr const char* kTxs = "txs";        // tx hash (32) -> u64be height || u32be index
inline constexpr const char* kNonces = "nonces";  // sender key (32) -> u64be highest nonce
inline constexpr const char* kMeta = "meta";      // ASCII name -> value
// u64be height -> state snapshot record (storage/state_snapshot.h). Made by
// the first put_snapshot, not with the ledger: a ledger without snapshots
// keeps the five families of format version 1, which older tools open.
inline constexpr const char* kSnapshots = "snapshots";

inline constexpr const char* kMetaFormat = "format_version";     // u32be
inline constexpr const char* kMetaGenesisHash = "genesis_hash";  // 32 bytes
inline constexpr const char* kMetaGenesis = "genesis";           // genesis document bytes
inline constexpr const char* kMetaTipHeight = "tip_height";      // u64be
inline constexpr const char* kMetaTipId = "tip_id";              // 32 bytes
// u64be lowest stored height, written only by state sync (install_trusted)
// and backfill; absent means 1 (every ledger made before state sync).
inline constexpr const char* kMetaHistoryFrom = "history_from";

inline const std::array<const char*, 5> kFamilies = {kBlocks, kBlockIds, kTxs, kNonces, kMeta};

std::string be64(std::uint64_t v);
std::string be32(std::uint32_t v);
std::optional<std::uint64_t> read_be(std::string_view s, std::size_t width);
rocksdb::Slice slice(const chain::Hash& h);
rocksdb::Slice slice(const chain::PublicKey& k);

rocksdb::DBOptions db_options();
// The writer's options: its info log never aborts the process on a full
// disk (storage/ledger_info_log.h).
rocksdb::DBOptions writer_options(const std::filesystem::path& dir);
// One column family's options: its memtable size, and bloom filters for
// the families read by key.
rocksdb::ColumnFamilyOptions family_options(std::string_view name);
// The column families to open: kSnapshots only once it exists.
std::vector<rocksdb::ColumnFamilyDescriptor> descriptors(bool with_snapshots = false);
// Whether the ledger at `dir` has the snapshots family (a put_snapshot made it).
Result<bool> has_snapshots(const std::filesystem::path& dir);

}  // namespace baton::storage::ledger_detail

namespace baton::storage {

struct LedgerStore::Handles {
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> cf;  // [0] default, then kFamilies order
  rocksdb::ColumnFamilyHandle* blocks() const { return cf[1]; }
  rocksdb::ColumnFamilyHandle* block_ids() const { return cf[2]; }
  rocksdb::ColumnFamilyHandle* txs() const { return cf[3]; }
  rocksdb::ColumnFamilyHandle* nonces() const { return cf[4]; }
  rocksdb::ColumnFamilyHandle* meta() const { return cf[5]; }
  // nullptr for a reader of a ledger made before snapshots existed.
  rocksdb::ColumnFamilyHandle* snapshots() const { return cf.size() > 6 ? cf[6] : nullptr; }
  ~Handles() {
    if (db == nullptr) return;
    for (auto* h : cf) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
};

}  // namespace baton::storage

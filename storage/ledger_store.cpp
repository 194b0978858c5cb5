#include "storage/ledger_store.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <array>
#include <system_error>
#include <tuple>

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "storage/ledger_info_log.h"
#include "storage/ledger_store_internal.h"

namespace baton::storage {

namespace fs = std::filesystem;
using namespace ledger_detail;

namespace ledger_detail {

std::string be64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

std::string be32(std::uint32_t v) {
  std::string out(4, '\0');
  for (int i = 3; i >= 0; --i, v >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

std::optional<std::uint64_t> read_be(std::string_view s, std::size_t width) {
  if (s.size() != width) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) v = (v << 8) | static_cast<std::uint8_t>(c);
  return v;
}

rocksdb::Slice slice(const chain::Hash& h) {
  return {reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size()};
}
rocksdb::Slice slice(const chain::PublicKey& k) {
  return {reinterpret_cast<const char*>(k.bytes.data()), k.bytes.size()};
}

rocksdb::DBOptions db_options() {
  rocksdb::DBOptions o;
  o.create_if_missing = false;
  o.create_missing_column_families = false;
  o.max_open_files = -1;  // required for secondary instances; harmless for the writer
  o.keep_log_file_num = 4;
  // Each family's memtable has its own small size (family_options), and
  // the log is bounded: when the WAL passes 8 MiB, the families still
  // holding its oldest records are flushed, so a restart replays at most
  // that much. The log's records are replayed into memtables at open
  // without writing them out again.
  o.max_total_wal_size = 8u << 20;
  o.avoid_flush_during_recovery = true;
  return o;
}

// The writer's options: its info log never aborts the process on a full
// disk (storage/ledger_info_log.h).
rocksdb::DBOptions writer_options(const fs::path& dir) {
  rocksdb::DBOptions o = db_options();
  o.info_log = std::make_shared<LedgerInfoLog>(dir / "LOG");
  // The writer opens table files as it reads them (at most 512 at once),
  // not all of them at DB::Open: with -1 a restart's open grew with the
  // chain (0.017 s at 10^3 blocks, 0.112 s at 10^5, about 1 s at 10^6),
  // while a restart reads only the newest snapshot and the blocks after it.
  o.max_open_files = 512;
  return o;
}

// Memtable sizes, per family. Blocks are most of what a ledger writes
// (about 900 bytes each), so their memtable is 4 MiB: a flush every ~4,500
// blocks, a table file of ~4 MiB. Heights are written in order, so RocksDB
// moves such a file down the levels without merging it with others: the
// flush size is the size of the files a long chain keeps. Before, one
// shared 8 MiB budget counted every family's 1 MiB arena block and flushed
// every ~55 blocks: 9,000 table files at 10^6 blocks (MANIFEST 850 KB),
// and a restart's open grew with them. The other families write tens of
// bytes per block: 1 MiB each. In all at most ~20 MiB of memtables (two
// per family while one flushes).
//
// The families read by key, one Get per block and per transaction when a
// ledger is verified, get a bloom filter in each memtable and SST file that
// answers "not here" without searching it (issue 18: these look-ups took
// 14% of `baton ledger verify`'s CPU, mostly in memtables a read-only
// instance replays from the log); files written before keep working
// unfiltered.
rocksdb::ColumnFamilyOptions family_options(std::string_view name) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = name == kBlocks ? (4u << 20) : (1u << 20);
  if (name == kBlockIds || name == kTxs) {
    cf.memtable_prefix_bloom_size_ratio = 0.01;
    cf.memtable_whole_key_filtering = true;
    rocksdb::BlockBasedTableOptions t;
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  }
  return cf;
}

// The column families to open: kSnapshots only once it exists.
std::vector<rocksdb::ColumnFamilyDescriptor> descriptors(bool with_snapshots) {
  std::vector<rocksdb::ColumnFamilyDescriptor> out;
  out.emplace_back(rocksdb::kDefaultColumnFamilyName,
                   family_options(rocksdb::kDefaultColumnFamilyName));
  for (const char* name : kFamilies) out.emplace_back(name, family_options(name));
  if (with_snapshots) out.emplace_back(kSnapshots, family_options(kSnapshots));
  return out;
}

// Whether the ledger at `dir` has the snapshots family (a put_snapshot made it).
Result<bool> has_snapshots(const fs::path& dir) {
  std::vector<std::string> families;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options(), dir.string(), &families);
  if (!s.ok()) return make_error("cannot read the ledger in " + dir.string() + ": " + s.ToString());
  return std::find(families.begin(), families.end(), kSnapshots) != families.end();
}

// Whether `dir` holds a RocksDB database with every Baton column family.
// Reads only; an explanation comes back when it is not a ledger.
Status check_is_ledger(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    return make_error("ledger directory " + dir.string() +
                      " does not exist; pass the --data-dir of a node or of make-chain");
  }
  if (!fs::is_directory(dir, ec))
    return make_error(dir.string() + " is a file, not a ledger directory");
  if (!fs::exists(dir / "CURRENT", ec)) {
    return make_error(dir.string() +
                      " is not a Baton ledger (no RocksDB database in it); pass the --data-dir of "
                      "a node or of make-chain");
  }
  std::vector<std::string> families;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options(), dir.string(), &families);
  if (!s.ok()) return make_error("cannot read the ledger in " + dir.string() + ": " + s.ToString());
  for (const char* name : kFamilies) {
    if (std::find(families.begin(), families.end(), name) == families.end()) {
      return make_error(dir.string() +
                        " holds a RocksDB database that is not a Baton ledger (no \"" +
                        std::string(name) + "\" column family)");
    }
  }
  return {};
}

}  // namespace ledger_detail

LedgerStore::LedgerStore(fs::path dir, bool read_only)
    : dir_(std::move(dir)), read_only_(read_only), h_(std::make_unique<Handles>()) {}

LedgerStore::~LedgerStore() {
  h_.reset();  // close RocksDB before removing the reader's log directory
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(secondary_dir_, ec);
  }
}

Error LedgerStore::io_error(const std::string& doing, const std::string& why) const {
  return make_error("cannot " + doing + " in the ledger at " + dir_.string() + ": " + why,
                    static_cast<int>(AppendRefused::io));
}

Error LedgerStore::closed_error(const std::string& doing) const {
  return io_error(doing,
                  "the ledger is closed after a failed write and reopens once the disk takes "
                  "writes again");
}

namespace {

// fsyncs a directory so that a rename inside it survives a crash.
bool sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// Removes what earlier, crashed creations of `target` left behind: siblings
// named .NAME.creating-PID whose process is gone.
void remove_stale_creations(const fs::path& parent, const std::string& prefix) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)) continue;
    fs::remove_all(entry.path(), ec);
  }
}

// Creates a complete, empty ledger at `dir` (missing or an empty directory).
// RocksDB creates a database and its column families in several steps; a
// crash between them would leave a directory that is neither empty nor a
// ledger. So the ledger is built in a sibling directory, synced, and renamed
// into place: `dir` is either absent/empty or a complete ledger.
Status create_ledger(const fs::path& dir, const chain::Hash& genesis_hash,
                     const std::string& genesis_document) {
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return make_error("cannot create directory " + parent.string() + ": " + ec.message());
  const std::string prefix = "." + dir.filename().string() + ".creating-";
  remove_stale_creations(parent, prefix);
  const fs::path staging = parent / (prefix + std::to_string(::getpid()));
  fs::remove_all(staging, ec);

  rocksdb::DBOptions o = db_options();
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyHandle*> cf;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, staging.string(), descriptors(), &cf, &db);
  if (!s.ok())
    return make_error("cannot create a ledger in " + staging.string() + ": " + s.ToString());
  rocksdb::WriteBatch batch;
  rocksdb::ColumnFamilyHandle* meta = cf[5];
  batch.Put(meta, kMetaFormat, be32(kLedgerFormatVersion));
  batch.Put(meta, kMetaGenesisHash, slice(genesis_hash));
  batch.Put(meta, kMetaGenesis, genesis_document);
  batch.Put(meta, kMetaTipHeight, be64(0));
  batch.Put(meta, kMetaTipId, slice(genesis_hash));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  s = db->Write(wo, &batch);
  if (s.ok()) s = db->SyncWAL();
  for (auto* h : cf) db->DestroyColumnFamilyHandle(h);
  delete db;
  if (!s.ok()) {
    fs::remove_all(staging, ec);
    return make_error("cannot write the new ledger's metadata in " + staging.string() + ": " +
                      s.ToString());
  }
  if (!sync_directory(staging) || ::rename(staging.c_str(), dir.c_str()) != 0 ||
      !sync_directory(parent)) {
    const std::string why = std::strerror(errno);
    fs::remove_all(staging, ec);
    return make_error("cannot move the new ledger into " + dir.string() + ": " + why);
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<LedgerStore>> LedgerStore::open_writer(const LedgerWriterOptions& options) {
  fs::path dir = options.dir.lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "ledger/" -> "ledger"
  std::error_code ec;
  if (!fs::exists(dir, ec) || (fs::is_directory(dir, ec) && fs::is_empty(dir, ec))) {
    if (auto created = create_ledger(dir, options.genesis_hash, options.genesis_document);
        !created) {
      return created.error();
    }
  } else if (auto is_ledger = check_is_ledger(dir); !is_ledger) {
    if (fs::is_directory(dir, ec) && !fs::exists(dir / "CURRENT", ec)) {
      return make_error(dir.string() +
                        " is not empty and is not a Baton ledger; choose a new or empty directory");
    }
    return is_ledger.error();
  }

  std::unique_ptr<LedgerStore> store(new LedgerStore(dir, false));
  store->sync_each_append_ = options.sync_each_append;
  auto with_snapshots = has_snapshots(dir);
  if (!with_snapshots) return with_snapshots.error();
  rocksdb::Status s =
      rocksdb::DB::Open(writer_options(dir), dir.string(), descriptors(*with_snapshots),
                        &store->h_->cf, &store->h_->db);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return make_error("the ledger at " + dir.string() +
                        " is already open for writing by another process (" + s.ToString() +
                        "); stop that node first, or open it read-only");
    }
    return make_error("cannot open the ledger at " + dir.string() + ": " + s.ToString());
  }
  if (auto loaded = store->load_meta(); !loaded) return loaded.error();
  if (store->genesis_hash_ != options.genesis_hash) {
    return make_error("the ledger at " + dir.string() + " was created for genesis " +
                      store->genesis_hash_.hex() + ", not for " + options.genesis_hash.hex() +
                      "; use the matching genesis file or a new data directory");
  }
  return store;
}

Result<std::unique_ptr<LedgerStore>> LedgerStore::open_reader(const fs::path& dir) {
  if (auto is_ledger = check_is_ledger(dir); !is_ledger) return is_ledger.error();
  std::unique_ptr<LedgerStore> store(new LedgerStore(dir, true));

  // A secondary instance keeps its own info log; give it a private temporary
  // directory so that nothing is written into the ledger directory.
  std::string pattern = (fs::temp_directory_path() / "baton-ledger-reader-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return make_error("cannot create a temporary directory under " +
                      fs::temp_directory_path().string() +
                      " to read the ledger; check that it is writable");
  }
  store->secondary_dir_ = pattern;
  auto with_snapshots = has_snapshots(dir);
  if (!with_snapshots) return with_snapshots.error();
  rocksdb::Status s =
      rocksdb::DB::OpenAsSecondary(db_options(), dir.string(), pattern,
                                   descriptors(*with_snapshots), &store->h_->cf, &store->h_->db);
  if (!s.ok())
    return make_error("cannot open the ledger at " + dir.string() +
                      " for reading: " + s.ToString());
  if (auto loaded = store->load_meta(); !loaded) return loaded.error();
  return store;
}

Status LedgerStore::load_meta() {
  auto* db = h_->db;
  const rocksdb::ReadOptions ro;
  std::string format, genesis_hash, genesis, tip_height, tip_id;
  rocksdb::Status s = db->Get(ro, h_->meta(), kMetaFormat, &format);
  if (s.IsNotFound())
    return make_error(dir_.string() + " is not a Baton ledger (it has no format_version)");
  if (!s.ok()) return io_error("read the ledger metadata", s.ToString());
  const auto version = read_be(format, 4);
  if (!version || *version != kLedgerFormatVersion) {
    return make_error("the ledger at " + dir_.string() +
                      " has an unknown format version; this baton reads version " +
                      std::to_string(kLedgerFormatVersion));
  }
  for (auto [key, out] :
       {std::pair{kMetaGenesisHash, &genesis_hash}, std::pair{kMetaGenesis, &genesis},
        std::pair{kMetaTipHeight, &tip_height}, std::pair{kMetaTipId, &tip_id}}) {
    s = db->Get(ro, h_->meta(), key, out);
    if (!s.ok())
      return make_error("the ledger at " + dir_.string() + " lacks its \"" + key +
                        "\" metadata: " + s.ToString());
  }
  auto gh = chain::Hash::from_bytes(chain::as_bytes(genesis_hash));
  auto tid = chain::Hash::from_bytes(chain::as_bytes(tip_id));
  const auto th = read_be(tip_height, 8);
  if (!gh || !tid || !th)
    return make_error("the ledger metadata at " + dir_.string() +
                      " is damaged (bad genesis hash or tip)");
  std::string history;
  s = db->Get(ro, h_->meta(), kMetaHistoryFrom, &history);
  if (!s.ok() && !s.IsNotFound()) return io_error("read the ledger metadata", s.ToString());
  const auto from = s.ok() ? read_be(history, 8) : std::optional<std::uint64_t>(1);
  if (!from || *from == 0 || *from > std::max<std::uint64_t>(*th, 1))
    return make_error("the ledger metadata at " + dir_.string() + " is damaged (bad history_from)");
  std::lock_guard lock(mutex_);
  genesis_hash_ = *gh;
  genesis_document_ = std::move(genesis);
  tip_ = Tip{*th, *tid};
  history_from_ = *from;
  return {};
}

Status LedgerStore::append(std::string_view committed_block_bytes) {
  if (read_only_)
    return make_error("the ledger at " + dir_.string() + " was opened read-only; it cannot append");
  auto described = describe_block(committed_block_bytes);
  if (!described) return described.error();
  const BlockDescription& d = *described;

  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr) return closed_error("append height " + std::to_string(d.height));
  std::lock_guard lock(mutex_);
  if (auto ok = check_successor(tip_, d); !ok) return ok;
  rocksdb::WriteBatch batch;
  const std::string height_key = be64(d.height);
  if (auto staged = stage_block(batch, d, committed_block_bytes); !staged) return staged;
  batch.Put(h_->meta(), kMetaTipHeight, height_key);
  batch.Put(h_->meta(), kMetaTipId, slice(d.block_id));
  rocksdb::WriteOptions wo;
  wo.sync = sync_each_append_;
  rocksdb::Status s = h_->db->Write(wo, &batch);
  if (!s.ok()) return io_error("append height " + std::to_string(d.height), s.ToString());
  tip_ = Tip{d.height, d.block_id};
  return {};
}

Status LedgerStore::stage_block(rocksdb::WriteBatch& batch, const BlockDescription& d,
                                std::string_view committed_block_bytes) const {
  const std::string height_key = be64(d.height);
  batch.Put(h_->blocks(), height_key,
            rocksdb::Slice(committed_block_bytes.data(), committed_block_bytes.size()));
  batch.Put(h_->block_ids(), slice(d.block_id), height_key);
  rocksdb::Status s;
  for (std::size_t i = 0; i < d.tx_hashes.size(); ++i) {
    batch.Put(h_->txs(), slice(d.tx_hashes[i]), height_key + be32(static_cast<std::uint32_t>(i)));
  }
  for (const auto& [sender, nonce] : d.last_nonces) {
    // Only ever raise a sender's recorded nonce, even for a block that
    // (wrongly) reuses an old one: validation is the caller's job, but the
    // index must not move backwards. (A backfilled block is below the tip,
    // so its nonces never raise anything.)
    std::string stored;
    s = h_->db->Get(rocksdb::ReadOptions(), h_->nonces(), slice(sender), &stored);
    if (!s.ok() && !s.IsNotFound())
      return io_error("read the nonce of " + sender.hex(), s.ToString());
    const auto previous = s.ok() ? read_be(stored, 8) : std::nullopt;
    if (previous && *previous >= nonce) continue;
    batch.Put(h_->nonces(), slice(sender), be64(nonce));
  }
  return {};
}

Result<std::optional<std::string>> LedgerStore::block_at(std::uint64_t height) const {
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr) return closed_error("read height " + std::to_string(height));
  std::string value;
  rocksdb::Status s = h_->db->Get(rocksdb::ReadOptions(), h_->blocks(), be64(height), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return io_error("read height " + std::to_string(height), s.ToString());
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<std::string>> LedgerStore::blocks_from(std::uint64_t first,
                                                          std::size_t max_count) const {
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr) return closed_error("read blocks from height " + std::to_string(first));
  std::vector<std::string> out;
  first = std::max<std::uint64_t>(first, 1);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // a scan would only evict what readers of recent blocks need
  std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(ro, h_->blocks()));
  std::uint64_t expected = first;
  for (it->Seek(be64(first)); it->Valid() && out.size() < max_count; it->Next(), ++expected) {
    const auto key = read_be(it->key().ToStringView(), 8);
    // Heights are written in order without gaps; a gap means a damaged store,
    // which the caller (verify) must see as a missing block, not skip over.
    if (!key || *key != expected) break;
    out.emplace_back(it->value().data(), it->value().size());
  }
  if (!it->status().ok())
    return io_error("read blocks from height " + std::to_string(first), it->status().ToString());
  return out;
}

Tip LedgerStore::tip() const {
  std::lock_guard lock(mutex_);
  return tip_;
}

Result<std::optional<std::uint64_t>> LedgerStore::height_of(const chain::Hash& block_id) const {
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr) return closed_error("look up block " + block_id.hex());
  std::string value;
  rocksdb::Status s = h_->db->Get(rocksdb::ReadOptions(), h_->block_ids(), slice(block_id), &value);
  if (s.IsNotFound()) return std::optional<std::uint64_t>();
  if (!s.ok()) return io_error("look up block " + block_id.hex(), s.ToString());
  const auto height = read_be(value, 8);
  if (!height)
    return io_error("look up block " + block_id.hex(), "the stored height is not 8 bytes");
  return std::optional<std::uint64_t>(*height);
}

namespace {

// A txs family value: u64be height || u32be index. The error says why not,
// for LedgerStore::io_error.
Result<std::optional<TxLocation>> tx_location(const rocksdb::Status& s, std::string_view value) {
  if (s.IsNotFound()) return std::optional<TxLocation>();
  if (!s.ok()) return make_error(s.ToString());
  if (value.size() != 12) return make_error("the stored location is not 12 bytes");
  const auto height = read_be(value.substr(0, 8), 8);
  const auto index = read_be(value.substr(8, 4), 4);
  return std::optional<TxLocation>(TxLocation{*height, static_cast<std::uint32_t>(*index)});
}

}  // namespace

Result<std::optional<TxLocation>> LedgerStore::find_tx(const chain::Hash& tx_hash) const {
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr) return closed_error("look up transaction " + tx_hash.hex());
  std::string value;
  rocksdb::Status s = h_->db->Get(rocksdb::ReadOptions(), h_->txs(), slice(tx_hash), &value);
  auto where = tx_location(s, value);
  if (!where) return io_error("look up transaction " + tx_hash.hex(), where.error().message);
  return where;
}

Result<std::uint64_t> LedgerStore::next_nonce(const chain::PublicKey& sender) const {
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr) return closed_error("read the nonce of " + sender.hex());
  std::string value;
  rocksdb::Status s = h_->db->Get(rocksdb::ReadOptions(), h_->nonces(), slice(sender), &value);
  if (s.IsNotFound()) return std::uint64_t{1};
  if (!s.ok()) return io_error("read the nonce of " + sender.hex(), s.ToString());
  const auto last = read_be(value, 8);
  if (!last)
    return io_error("read the nonce of " + sender.hex(), "the stored nonce is not 8 bytes");
  return *last + 1;
}

Result<LedgerStore::IndexCounts> LedgerStore::index_counts(const IndexDigest::Salt& salt) const {
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr) return closed_error("count the indexes");
  IndexCounts out;
  out.block_id_digest = IndexDigest(salt);
  out.tx_digest = IndexDigest(salt);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  for (auto [cf, count, digest, what] :
       {std::tuple{h_->block_ids(), &out.block_ids, &out.block_id_digest, "block id index"},
        std::tuple{h_->txs(), &out.txs, &out.tx_digest, "transaction index"},
        std::tuple{h_->nonces(), &out.nonces, static_cast<IndexDigest*>(nullptr),
                   "nonce records"}}) {
    std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(ro, cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++*count;
      if (digest != nullptr) digest->add(it->key().ToStringView(), it->value().ToStringView());
    }
    if (!it->status().ok())
      return io_error(std::string("count the ") + what, it->status().ToString());
  }
  return out;
}

Status LedgerStore::catch_up() {
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr) return closed_error("catch up with the writer");
  if (!read_only_) return {};
  rocksdb::Status s = h_->db->TryCatchUpWithPrimary();
  if (!s.ok()) return io_error("catch up with the writer", s.ToString());
  return load_meta();
}

Status LedgerStore::sync() {
  std::shared_lock db_lock(db_mutex_);
  if (h_->db == nullptr) return closed_error("sync the write-ahead log");
  if (read_only_) return {};
  rocksdb::Status s = h_->db->SyncWAL();
  if (!s.ok()) return io_error("sync the write-ahead log", s.ToString());
  return {};
}

}  // namespace baton::storage

// verify_ledger over real signed chains made by ChainMaker, and what it says
// when stored bytes are changed behind the store's back (through RocksDB).
#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include "chain/block.h"
#include "chain/validation.h"
#include "ledger_test_chain.h"
#include "storage/ledger_maker.h"
#include "storage/ledger_store.h"
#include "storage/ledger_verify.h"
#include "tests/support/test_support.h"

namespace baton::storage {
namespace {

namespace fs = std::filesystem;
using baton::testing::TempDir;
using testing::make_test_consortium;
using testing::TestConsortium;

std::string be64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

// Opens the ledger's RocksDB directly (no Baton code) to tamper with it.
class RawLedger {
 public:
  explicit RawLedger(const fs::path& dir) {
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {"default", "blocks", "block_ids", "txs", "nonces", "meta"})
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DBOptions o;
    const auto s = rocksdb::DB::Open(o, dir.string(), cfs, &handles_, &db_);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  ~RawLedger() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    delete db_;
  }
  rocksdb::ColumnFamilyHandle* blocks() { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* block_ids() { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* txs() { return handles_[3]; }
  rocksdb::ColumnFamilyHandle* nonces() { return handles_[4]; }
  rocksdb::ColumnFamilyHandle* meta() { return handles_[5]; }
  std::string get(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    std::string v;
    EXPECT_TRUE(db_->Get(rocksdb::ReadOptions(), cf, key, &v).ok());
    return v;
  }
  void put(rocksdb::ColumnFamilyHandle* cf, const std::string& key, const std::string& value) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ASSERT_TRUE(db_->Put(wo, cf, key, value).ok());
  }
  void erase(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    ASSERT_TRUE(db_->Delete(rocksdb::WriteOptions(), cf, key).ok());
  }

 private:
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

class LedgerVerify : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kBlocks = 12;

  void SetUp() override {
    auto store = LedgerStore::open_writer({.dir = dir(),
                                           .genesis_hash = consortium_.spec.genesis_hash,
                                           .genesis_document = consortium_.genesis_text});
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto maker = ChainMaker::create(consortium_.spec, consortium_.signing_keys(),
                                    chain::initial_state(consortium_.spec.genesis_hash),
                                    {.txs_per_block = 5});
    ASSERT_TRUE(maker.ok()) << maker.error().message;
    for (std::uint64_t h = 1; h <= kBlocks; ++h) {
      auto block = maker->next_block();
      ASSERT_TRUE(block.ok()) << block.error().message;
      blocks_.push_back(*block);
      ASSERT_TRUE((*store)->append(*block).ok());
    }
  }

  fs::path dir() const { return tmp_ / "ledger"; }

  LedgerVerdict verify() {
    auto reader = LedgerStore::open_reader(dir());
    EXPECT_TRUE(reader.ok()) << reader.error().message;
    auto verdict = verify_ledger(**reader, consortium_.spec, {.threads = 2, .window_blocks = 5});
    EXPECT_TRUE(verdict.ok()) << verdict.error().message;
    return std::move(verdict).value();
  }

  TempDir tmp_;
  TestConsortium consortium_ = make_test_consortium(4);
  std::vector<std::string> blocks_;
};

TEST_F(LedgerVerify, AcceptsAMadeChainAndReachesItsTip) {
  const LedgerVerdict verdict = verify();
  ASSERT_TRUE(verdict.ok()) << "height " << verdict.reason().height << ": "
                            << verdict.reason().what;
  EXPECT_EQ(verdict->state.height, kBlocks);
  EXPECT_EQ(verdict->state.last_block_id,
            chain::block_id(chain::decode_committed_block(blocks_.back())->block()));
  EXPECT_EQ(verdict->transactions, kBlocks * 5);
  EXPECT_EQ(verdict->signatures, kBlocks * (5 + 4));
}

TEST_F(LedgerVerify, MadeTransactionsAreAboutTwoHundredBytes) {
  const auto committed = chain::decode_committed_block(blocks_[3]);
  ASSERT_TRUE(committed.ok());
  for (const auto& tx : committed->block().transactions()) {
    EXPECT_GE(tx.size(), 180u);
    EXPECT_LE(tx.size(), 240u);
  }
}

TEST_F(LedgerVerify, NamesTheHeightOfAFlippedByteChangedThroughRocksDB) {
  for (std::size_t offset : {std::size_t{3}, blocks_[6].size() / 2, blocks_[6].size() - 2}) {
    {
      RawLedger raw(dir());
      std::string bytes = raw.get(raw.blocks(), be64(7));
      ASSERT_EQ(bytes, blocks_[6]);
      bytes[offset] = static_cast<char>(bytes[offset] ^ 0x01);
      raw.put(raw.blocks(), be64(7), bytes);
    }
    const LedgerVerdict verdict = verify();
    ASSERT_FALSE(verdict.ok()) << "offset " << offset;
    EXPECT_EQ(verdict.reason().height, 7u) << "offset " << offset << ": " << verdict.reason().what;
    RawLedger restore(dir());
    restore.put(restore.blocks(), be64(7), blocks_[6]);
  }
}

// The same through the CLI an auditor runs: exit code 3 and "height N: ...".
TEST_F(LedgerVerify, CliExitsThreeAndNamesTheHeightOfAFlippedByte) {
  {
    RawLedger raw(dir());
    std::string bytes = raw.get(raw.blocks(), be64(5));
    bytes[bytes.size() / 3] = static_cast<char>(bytes[bytes.size() / 3] ^ 0x80);
    raw.put(raw.blocks(), be64(5), bytes);
  }
  const auto r = baton::testing::run_baton({"ledger", "verify", "--data-dir", dir().string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.err.rfind("baton: height 5: ", 0), 0u) << r.err;
  // Viewing still works on a damaged ledger, so the admin can look at it.
  const auto shown =
      baton::testing::run_baton({"ledger", "block", "--data-dir", dir().string(), "--height", "5"});
  EXPECT_EQ(shown.signal, 0) << shown.err;
}

TEST_F(LedgerVerify, NamesTheHeightOfAMissingBlock) {
  {
    RawLedger raw(dir());
    raw.erase(raw.blocks(), be64(9));
  }
  const LedgerVerdict verdict = verify();
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.reason().height, 9u);
  EXPECT_NE(verdict.reason().what.find("missing"), std::string::npos) << verdict.reason().what;
}

TEST_F(LedgerVerify, ReportsATipRecordThatDisagreesWithTheChain) {
  {
    RawLedger raw(dir());
    const auto previous =
        chain::block_id(chain::decode_committed_block(blocks_[kBlocks - 2])->block());
    raw.put(raw.meta(), "tip_height", be64(kBlocks - 1));
    raw.put(raw.meta(), "tip_id", std::string(previous.bytes.begin(), previous.bytes.end()));
  }
  const LedgerVerdict verdict = verify();
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.reason().height, kBlocks);
  EXPECT_NE(verdict.reason().what.find("above the tip record"), std::string::npos)
      << verdict.reason().what;
}

TEST_F(LedgerVerify, ReportsATipIdThatIsNotTheLastBlocksId) {
  {
    RawLedger raw(dir());
    raw.put(raw.meta(), "tip_id", std::string(32, '\x07'));
  }
  const LedgerVerdict verdict = verify();
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.reason().height, kBlocks);
  EXPECT_NE(verdict.reason().what.find("tip record names block"), std::string::npos)
      << verdict.reason().what;
}

TEST_F(LedgerVerify, ReportsAnAlteredStoredGenesis) {
  {
    RawLedger raw(dir());
    std::string doc = raw.get(raw.meta(), "genesis");
    doc[doc.size() / 2] = static_cast<char>(doc[doc.size() / 2] ^ 0x20);
    raw.put(raw.meta(), "genesis", doc);
  }
  auto reader = LedgerStore::open_reader(dir());
  ASSERT_TRUE(reader.ok());
  const auto spec = stored_chain_spec(**reader);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.reason().what.find("the stored copy was altered"), std::string::npos)
      << spec.reason().what;
}

TEST_F(LedgerVerify, StoredGenesisLoadsTheSameSpec) {
  auto reader = LedgerStore::open_reader(dir());
  ASSERT_TRUE(reader.ok());
  const auto spec = stored_chain_spec(**reader);
  ASSERT_TRUE(spec.ok()) << spec.reason().what;
  EXPECT_EQ(spec->genesis_hash, consortium_.spec.genesis_hash);
}

TEST_F(LedgerVerify, RefusesAGenesisOtherThanTheLedgers) {
  const TestConsortium other = make_test_consortium(4);
  auto reader = LedgerStore::open_reader(dir());
  ASSERT_TRUE(reader.ok());
  auto verdict = verify_ledger(**reader, other.spec);
  ASSERT_TRUE(verdict.ok());
  ASSERT_FALSE(verdict->ok());
  EXPECT_EQ(verdict->reason().height, 0u);
}

std::string key_of(const chain::Hash& h) { return {h.bytes.begin(), h.bytes.end()}; }

std::string block_id_key(const std::string& committed) {
  return key_of(chain::block_id(chain::decode_committed_block(committed)->block()));
}

std::string tx_key(const std::string& committed, int index) {
  const auto c = chain::decode_committed_block(committed);
  return key_of(chain::sha256(c->block().transactions(index)));
}

std::string be32(std::uint32_t v) { return be64(v).substr(4); }

TEST_F(LedgerVerify, ReportsABlockIdIndexEntryThatPointsElsewhere) {
  {
    RawLedger raw(dir());
    ASSERT_EQ(raw.get(raw.block_ids(), block_id_key(blocks_[3])), be64(4));
    raw.put(raw.block_ids(), block_id_key(blocks_[3]), be64(9));
  }
  const LedgerVerdict verdict = verify();
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.reason().height, 4u);
  EXPECT_NE(verdict.reason().what.find("block id index maps this block's id to height 9"),
            std::string::npos)
      << verdict.reason().what;
}

TEST_F(LedgerVerify, ReportsAMissingBlockIdIndexEntry) {
  {
    RawLedger raw(dir());
    raw.erase(raw.block_ids(), block_id_key(blocks_[10]));
  }
  const LedgerVerdict verdict = verify();
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.reason().height, 11u);
  EXPECT_NE(verdict.reason().what.find("has no entry for this block's id"), std::string::npos)
      << verdict.reason().what;
}

TEST_F(LedgerVerify, ReportsTransactionIndexEntriesThatAreMissingOrPointElsewhere) {
  {
    RawLedger raw(dir());
    ASSERT_EQ(raw.get(raw.txs(), tx_key(blocks_[5], 2)), be64(6) + be32(2));
    raw.erase(raw.txs(), tx_key(blocks_[5], 2));
    raw.put(raw.txs(), tx_key(blocks_[2], 1), be64(3) + be32(4));
  }
  const LedgerVerdict first = verify();
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.reason().height, 3u);
  EXPECT_NE(first.reason().what.find("transaction index puts transaction 1 of 5"),
            std::string::npos)
      << first.reason().what;
  {
    RawLedger raw(dir());
    raw.put(raw.txs(), tx_key(blocks_[2], 1), be64(3) + be32(1));
  }
  const LedgerVerdict second = verify();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.reason().height, 6u);
  EXPECT_NE(second.reason().what.find("has no entry for transaction 2 of 5"), std::string::npos)
      << second.reason().what;
}

TEST_F(LedgerVerify, ReportsIndexEntriesForNoBlockOrTransaction) {
  {
    RawLedger raw(dir());
    raw.put(raw.txs(), std::string(32, '\x05'), be64(2) + be32(0));
  }
  LedgerVerdict verdict = verify();
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.reason().height, kBlocks);
  EXPECT_NE(verdict.reason().what.find("transaction index holds 61 entries but the chain has 60"),
            std::string::npos)
      << verdict.reason().what;
  {
    RawLedger raw(dir());
    raw.erase(raw.txs(), std::string(32, '\x05'));
    raw.put(raw.block_ids(), std::string(32, '\x06'), be64(kBlocks + 1));
  }
  verdict = verify();
  ASSERT_FALSE(verdict.ok());
  EXPECT_NE(verdict.reason().what.find("block id index holds 13 entries but the chain has 12"),
            std::string::npos)
      << verdict.reason().what;
  {
    RawLedger raw(dir());
    raw.erase(raw.block_ids(), std::string(32, '\x06'));
  }
  EXPECT_TRUE(verify().ok());
}

// The indexes are checked by digest and looked up one by one only to name a
// fault: an index entry moved at height 3 is still the fault named when a
// block above it (height 8) is damaged too, as a pass that looked every entry
// up in height order would name it.
TEST_F(LedgerVerify, NamesAnIndexFaultBelowADamagedBlock) {
  {
    RawLedger raw(dir());
    raw.put(raw.txs(), tx_key(blocks_[2], 1), be64(3) + be32(4));
    std::string bytes = raw.get(raw.blocks(), be64(8));
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
    raw.put(raw.blocks(), be64(8), bytes);
  }
  LedgerVerdict verdict = verify();
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.reason().height, 3u) << verdict.reason().what;
  EXPECT_NE(verdict.reason().what.find("transaction index puts transaction 1 of 5"),
            std::string::npos)
      << verdict.reason().what;
  {
    RawLedger raw(dir());
    raw.put(raw.txs(), tx_key(blocks_[2], 1), be64(3) + be32(1));
  }
  verdict = verify();
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.reason().height, 8u) << verdict.reason().what;
}

// Two entries swapped between transactions keep every count: the digest
// differs and the look-ups name the first.
TEST_F(LedgerVerify, NamesIndexEntriesSwappedBetweenTransactions) {
  {
    RawLedger raw(dir());
    raw.put(raw.txs(), tx_key(blocks_[3], 0), be64(10) + be32(2));
    raw.put(raw.txs(), tx_key(blocks_[9], 2), be64(4) + be32(0));
  }
  const LedgerVerdict verdict = verify();
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.reason().height, 4u) << verdict.reason().what;
  EXPECT_NE(verdict.reason().what.find("puts transaction 0 of 5"), std::string::npos)
      << verdict.reason().what;
}

TEST(IndexDigest, IsTheSameInAnyOrderAndChangesWithAnyByte) {
  const auto id = [](char c) {
    chain::Hash h;
    h.bytes.fill(static_cast<std::uint8_t>(c));
    return h;
  };
  IndexDigest a, b, parts;
  a.add_tx(id(1), {5, 0});
  a.add_tx(id(2), {5, 1});
  a.add_block_id(id(3), 5);
  b.add_block_id(id(3), 5);
  b.add_tx(id(2), {5, 1});
  b.add_tx(id(1), {5, 0});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.count, 3u);
  IndexDigest one, two;
  one.add_tx(id(1), {5, 0});
  two.add_tx(id(2), {5, 1});
  two.add_block_id(id(3), 5);
  parts.add(one);
  parts.add(two);
  EXPECT_EQ(parts, a);
  IndexDigest moved;
  moved.add_tx(id(1), {5, 1});
  moved.add_tx(id(2), {5, 0});
  moved.add_block_id(id(3), 5);
  EXPECT_NE(moved, a);  // the same keys and counts, locations swapped
  // The stored bytes of an entry: key, then u64be height || u32be index.
  IndexDigest raw;
  raw.add(std::string(32, '\x01'), std::string("\0\0\0\0\0\0\0\x05\0\0\0\0", 12));
  IndexDigest typed;
  typed.add_tx(id(1), {5, 0});
  EXPECT_EQ(raw, typed);
  // Another salt, other hashes: each verification draws its own, so that
  // entries cannot be chosen ahead to sum to the ones they replace.
  IndexDigest::Salt salt{};
  salt[10] = 1;
  IndexDigest salted(salt);
  salted.add_tx(id(1), {5, 0});
  EXPECT_NE(salted.sum, typed.sum);
  EXPECT_EQ(salted.count, typed.count);
}

// A nonce record for a key that never sent a transaction: every record the
// chain needs is right, and one more is there (issue 16).
TEST_F(LedgerVerify, ReportsANonceRecordForAKeyThatNeverSentATransaction) {
  {
    RawLedger raw(dir());
    raw.put(raw.nonces(), std::string(32, '\x07'), be64(5));
  }
  const LedgerVerdict verdict = verify();
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.reason().height, kBlocks);
  EXPECT_NE(verdict.reason().what.find("a record names a key that never did"), std::string::npos)
      << verdict.reason().what;
  {
    RawLedger raw(dir());
    raw.erase(raw.nonces(), std::string(32, '\x07'));
  }
  EXPECT_TRUE(verify().ok());
}

// Every single-byte change anywhere in a stored block is caught by the
// checks verify runs for that height (decode, stateless checks, apply).
TEST_F(LedgerVerify, CatchesEveryFlippedByteOfABlock) {
  chain::LedgerState before = chain::initial_state(consortium_.spec.genesis_hash);
  for (int h = 0; h < 4; ++h) {
    auto ok =
        chain::validate_block(consortium_.spec, before, *chain::decode_committed_block(blocks_[h]));
    ASSERT_TRUE(ok.ok());
    before = *ok;
  }
  const std::string& original = blocks_[4];
  for (std::size_t i = 0; i < original.size(); ++i) {
    std::string bytes = original;
    bytes[i] = static_cast<char>(bytes[i] ^ 0x04);
    auto committed = chain::decode_committed_block(bytes);
    if (!committed) continue;
    auto verdict = chain::validate_block(consortium_.spec, before, *committed);
    EXPECT_FALSE(verdict.ok()) << "byte " << i << " of " << original.size()
                               << " flipped and still valid";
  }
}

}  // namespace
}  // namespace baton::storage

// The store's own guarantees (write-once, successor-only, one genesis,
// read-only access while a writer runs) with hand-built blocks: the store does
// not check signatures, so these blocks carry none.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <rocksdb/db.h>

#include "chain/proto/ledger.pb.h"
#include "storage/block_store_memory.h"
#include "storage/ledger_store.h"
#include "tests/support/test_support.h"

namespace baton::storage {
namespace {

namespace fs = std::filesystem;
using baton::testing::TempDir;

chain::PublicKey key_of(std::uint8_t tag) {
  chain::PublicKey k;
  k.bytes.fill(tag);
  return k;
}

chain::Hash genesis_a() { return chain::sha256(std::string_view("genesis A")); }
chain::Hash genesis_b() { return chain::sha256(std::string_view("genesis B")); }

struct RawTx {
  std::uint8_t sender;
  std::uint64_t nonce;
};

// A CommittedBlock with the given height and previous hash; `salt` changes
// the header so that two blocks at one height differ.
std::string raw_block(std::uint64_t height, const chain::Hash& previous,
                      std::vector<RawTx> txs = {}, std::int64_t salt = 0) {
  chain::pb::BlockHeader header;
  header.set_chain_id("test-chain");
  header.set_height(height);
  header.set_time_unix_ms(salt);
  header.set_previous_block_hash(std::string(previous.bytes.begin(), previous.bytes.end()));
  chain::pb::CommittedBlock committed;
  committed.mutable_block()->set_header(header.SerializeAsString());
  for (const RawTx& t : txs) {
    chain::pb::Transaction tx;
    tx.set_chain_id("test-chain");
    const auto k = key_of(t.sender);
    tx.set_sender(std::string(k.bytes.begin(), k.bytes.end()));
    tx.set_nonce(t.nonce);
    tx.set_type(chain::pb::TX_NOTE);
    committed.mutable_block()->add_transactions(tx.SerializeAsString());
  }
  committed.mutable_commit()->set_height(height);
  return committed.SerializeAsString();
}

chain::Hash id_of(const std::string& committed_bytes) {
  chain::pb::CommittedBlock c;
  EXPECT_TRUE(c.ParseFromString(committed_bytes));
  return chain::sha256(chain::as_bytes(c.block().header()));
}

std::unique_ptr<LedgerStore> writer(const fs::path& dir, const chain::Hash& genesis = genesis_a()) {
  auto store = LedgerStore::open_writer(
      {.dir = dir, .genesis_hash = genesis, .genesis_document = "{\"doc\":1}"});
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
  return store.ok() ? std::move(store).value() : nullptr;
}

// Appends `count` chained blocks on top of the store's tip; returns their bytes.
std::vector<std::string> append_chain(BlockStore& store, std::size_t count) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) {
    const Tip tip = store.tip();
    out.push_back(
        raw_block(tip.height + 1, tip.block_id, {{1, tip.height + 1}, {2, 2 * tip.height + 1}}));
    const Status appended = store.append(out.back());
    EXPECT_TRUE(appended.ok()) << (appended.ok() ? "" : appended.error().message);
  }
  return out;
}

TEST(LedgerStore, NewLedgerHasGenesisHashAsTipAtHeightZero) {
  TempDir tmp;
  auto store = writer(tmp / "ledger");
  ASSERT_TRUE(store);
  EXPECT_EQ(store->tip(), (Tip{0, genesis_a()}));
  EXPECT_EQ(store->genesis_hash(), genesis_a());
  EXPECT_EQ(store->genesis_document(), "{\"doc\":1}");
  EXPECT_FALSE(store->block_at(1)->has_value());
}

TEST(LedgerStore, AppendedBlockIsStoredExactlyAndIndexed) {
  TempDir tmp;
  auto store = writer(tmp / "ledger");
  const auto blocks = append_chain(*store, 3);
  EXPECT_EQ(store->tip(), (Tip{3, id_of(blocks[2])}));
  for (std::uint64_t h = 1; h <= 3; ++h) {
    EXPECT_EQ(store->block_at(h)->value(), blocks[h - 1]);
    EXPECT_EQ(store->height_of(id_of(blocks[h - 1]))->value(), h);
  }
  auto range = store->blocks_from(2, 10);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, (std::vector<std::string>{blocks[1], blocks[2]}));

  chain::pb::CommittedBlock third;
  ASSERT_TRUE(third.ParseFromString(blocks[2]));
  const auto tx1 = chain::sha256(chain::as_bytes(third.block().transactions(1)));
  EXPECT_EQ(store->find_tx(tx1)->value(), (TxLocation{3, 1}));
  EXPECT_FALSE(store->find_tx(genesis_b())->has_value());
  // The batched look-up answers in the order asked, unknown hashes included.
  const auto tx0 = chain::sha256(chain::as_bytes(third.block().transactions(0)));
  auto batch = store->find_txs({tx1, genesis_b(), tx0, tx1});
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(*batch, (std::vector<std::optional<TxLocation>>{TxLocation{3, 1}, std::nullopt,
                                                            TxLocation{3, 0}, TxLocation{3, 1}}));
  EXPECT_EQ(*store->next_nonce(key_of(1)), 4u);  // nonces 1, 2, 3 used
  EXPECT_EQ(*store->next_nonce(key_of(2)), 6u);  // nonces 1, 3, 5 used
  EXPECT_EQ(*store->next_nonce(key_of(9)), 1u);  // never sent
}

TEST(LedgerStore, RefusesToRewriteAnExistingHeight) {
  TempDir tmp;
  auto store = writer(tmp / "ledger");
  const auto blocks = append_chain(*store, 2);
  const std::string rival = raw_block(2, id_of(blocks[0]), {}, /*salt=*/99);
  const Status refused = store->append(rival);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, static_cast<int>(AppendRefused::height_taken));
  EXPECT_NE(refused.error().message.find("height 2 is already written"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(store->block_at(2)->value(), blocks[1]);
  EXPECT_EQ(store->tip().block_id, id_of(blocks[1]));
}

TEST(LedgerStore, RefusesABlockThatSkipsAHeight) {
  TempDir tmp;
  auto store = writer(tmp / "ledger");
  append_chain(*store, 2);
  const Status refused = store->append(raw_block(4, store->tip().block_id));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, static_cast<int>(AppendRefused::not_successor));
  EXPECT_EQ(store->tip().height, 2u);
  EXPECT_FALSE(store->block_at(4)->has_value());
}

TEST(LedgerStore, RefusesABlockThatDoesNotNameTheTipAsPrevious) {
  TempDir tmp;
  auto store = writer(tmp / "ledger");
  append_chain(*store, 2);
  const Status refused = store->append(raw_block(3, genesis_b()));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, static_cast<int>(AppendRefused::not_successor));
  EXPECT_EQ(store->tip().height, 2u);
}

TEST(LedgerStore, RefusesBytesThatAreNotABlock) {
  TempDir tmp;
  auto store = writer(tmp / "ledger");
  const Status refused = store->append("\xff\xff\xff garbage");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, static_cast<int>(AppendRefused::undecodable));
  EXPECT_EQ(store->tip().height, 0u);
}

TEST(LedgerStore, ReopenedLedgerKeepsTipBlocksAndIndexes) {
  TempDir tmp;
  std::vector<std::string> blocks;
  {
    auto store = writer(tmp / "ledger");
    blocks = append_chain(*store, 5);
  }
  auto store = writer(tmp / "ledger");
  ASSERT_TRUE(store);
  EXPECT_EQ(store->tip(), (Tip{5, id_of(blocks[4])}));
  EXPECT_EQ(store->block_at(3)->value(), blocks[2]);
  EXPECT_EQ(*store->next_nonce(key_of(1)), 6u);
  const auto more = append_chain(*store, 1);
  EXPECT_EQ(store->tip(), (Tip{6, id_of(more[0])}));
}

TEST(LedgerStore, RefusesToOpenALedgerMadeForAnotherGenesis) {
  TempDir tmp;
  { auto store = writer(tmp / "ledger", genesis_a()); }
  auto other = LedgerStore::open_writer({.dir = tmp / "ledger", .genesis_hash = genesis_b()});
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("was created for genesis " + genesis_a().hex()),
            std::string::npos)
      << other.error().message;
}

TEST(LedgerStore, RefusesASecondWriter) {
  TempDir tmp;
  auto first = writer(tmp / "ledger");
  auto second = LedgerStore::open_writer({.dir = tmp / "ledger", .genesis_hash = genesis_a()});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("already open for writing"), std::string::npos)
      << second.error().message;
}

TEST(LedgerStore, ReaderOpensWhileTheWriterIsOpenAndCatchesUp) {
  TempDir tmp;
  auto store = writer(tmp / "ledger");
  const auto first = append_chain(*store, 3);
  auto reader = LedgerStore::open_reader(tmp / "ledger");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_TRUE((*reader)->read_only());
  EXPECT_EQ((*reader)->tip(), (Tip{3, id_of(first[2])}));
  EXPECT_EQ((*reader)->block_at(2)->value(), first[1]);
  EXPECT_EQ((*reader)->genesis_document(), "{\"doc\":1}");

  const auto more = append_chain(*store, 2);
  EXPECT_EQ((*reader)->tip().height, 3u);  // a snapshot until catch_up
  ASSERT_TRUE((*reader)->catch_up().ok());
  EXPECT_EQ((*reader)->tip(), (Tip{5, id_of(more[1])}));
  EXPECT_EQ((*reader)->block_at(5)->value(), more[1]);
}

TEST(LedgerStore, ReaderCannotAppend) {
  TempDir tmp;
  { auto store = writer(tmp / "ledger"); }
  auto reader = LedgerStore::open_reader(tmp / "ledger");
  ASSERT_TRUE(reader.ok());
  const Status refused = (*reader)->append(raw_block(1, genesis_a()));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("read-only"), std::string::npos);
}

TEST(LedgerStore, ReaderRefusesAMissingDirectoryAndCreatesNothing) {
  TempDir tmp;
  auto reader = LedgerStore::open_reader(tmp / "nope");
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.error().message.find("does not exist"), std::string::npos)
      << reader.error().message;
  EXPECT_FALSE(fs::exists(tmp / "nope"));
}

TEST(LedgerStore, ReaderRefusesDirectoriesThatAreNotLedgersAndChangesNothing) {
  TempDir tmp;
  fs::create_directories(tmp / "empty");
  fs::create_directories(tmp / "files");
  std::ofstream(tmp / "files" / "notes.txt") << "hello";
  {
    // A RocksDB database, but not ours.
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, (tmp / "otherdb").string(), &db).ok());
    delete db;
  }
  for (const char* name : {"empty", "files", "otherdb"}) {
    std::vector<fs::path> before;
    for (const auto& e : fs::directory_iterator(tmp / name)) before.push_back(e.path());
    auto reader = LedgerStore::open_reader(tmp / name);
    ASSERT_FALSE(reader.ok()) << name;
    EXPECT_NE(reader.error().message.find("not a Baton ledger"), std::string::npos)
        << reader.error().message;
    std::vector<fs::path> after;
    for (const auto& e : fs::directory_iterator(tmp / name)) after.push_back(e.path());
    std::sort(before.begin(), before.end());
    std::sort(after.begin(), after.end());
    EXPECT_EQ(before, after) << name;
  }
}

TEST(LedgerStore, WriterRefusesANonEmptyDirectoryThatIsNotALedger) {
  TempDir tmp;
  fs::create_directories(tmp / "files");
  std::ofstream(tmp / "files" / "notes.txt") << "hello";
  auto store = LedgerStore::open_writer({.dir = tmp / "files", .genesis_hash = genesis_a()});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("not empty and is not a Baton ledger"), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp / "files" / "CURRENT"));
}

TEST(LedgerStore, NonceRecordNeverMovesBackwards) {
  TempDir tmp;
  auto store = writer(tmp / "ledger");
  ASSERT_TRUE(store->append(raw_block(1, genesis_a(), {{1, 5}})).ok());
  ASSERT_TRUE(store->append(raw_block(2, store->tip().block_id, {{1, 2}})).ok());
  EXPECT_EQ(*store->next_nonce(key_of(1)), 6u);
}

// Fills a file system with zeros until ENOSPC; the file stays.
bool fill_up(const fs::path& file) {
  std::ofstream out(file, std::ios::binary);
  const std::string block(64 * 1024, '\0');
  while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) {
  }
  return true;
}

TEST(LedgerStoreFullDisk, AppendFailsAsIoAndRecoverResumesWithoutLosingABlock) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "mounting a small tmpfs needs root; this test runs as uid " << ::geteuid();
  }
  TempDir tmp;
  const fs::path mnt = tmp / "disk";
  fs::create_directory(mnt);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=2m"), 0)
      << "mount tmpfs: " << std::strerror(errno);
  struct Unmount {
    fs::path at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{mnt};

  auto store = writer(mnt / "ledger");
  ASSERT_TRUE(store);
  std::vector<std::string> blocks = append_chain(*store, 5);
  ASSERT_TRUE(fill_up(mnt / "filler"));
  // Appends now fail (once any preallocated room is used up), as I/O errors.
  Status failed;
  for (int i = 0; i < 100000 && failed.ok(); ++i) {
    const Tip tip = store->tip();
    std::string b = raw_block(tip.height + 1, tip.block_id, {{1, tip.height + 1}});
    failed = store->append(b);
    if (failed.ok()) blocks.push_back(std::move(b));
  }
  ASSERT_FALSE(failed.ok()) << "the full disk never refused an append";
  EXPECT_EQ(failed.error().code, static_cast<int>(AppendRefused::io));
  EXPECT_NE(failed.error().message.find("No space left on device"), std::string::npos)
      << failed.error().message;
  const Tip before = store->tip();
  EXPECT_EQ(before, (Tip{blocks.size(), id_of(blocks.back())}));
  // While the disk is full, recovery fails and the store still reads.
  EXPECT_FALSE(store->recover().ok());
  EXPECT_EQ(store->block_at(before.height)->value(), blocks.back());

  fs::remove(mnt / "filler");
  const Status recovered = store->recover();
  ASSERT_TRUE(recovered.ok()) << recovered.error().message;
  EXPECT_EQ(store->tip(), before);
  const auto more = append_chain(*store, 3);
  blocks.insert(blocks.end(), more.begin(), more.end());

  // Every block, before and after the failure, survives a reopen.
  store.reset();
  auto reopened = writer(mnt / "ledger");
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->tip(), (Tip{blocks.size(), id_of(blocks.back())}));
  for (std::uint64_t h = 1; h <= blocks.size(); ++h) {
    EXPECT_EQ(reopened->block_at(h)->value(), blocks[h - 1]) << "height " << h;
  }
}

TEST(MemoryBlockStore, FollowsTheSameWriteOnceAndSuccessorRules) {
  MemoryBlockStore store(genesis_a());
  const auto blocks = append_chain(store, 3);
  EXPECT_EQ(store.tip(), (Tip{3, id_of(blocks[2])}));
  EXPECT_EQ(store.append(raw_block(3, id_of(blocks[1]), {}, 7)).error().code,
            static_cast<int>(AppendRefused::height_taken));
  EXPECT_EQ(store.append(raw_block(5, store.tip().block_id)).error().code,
            static_cast<int>(AppendRefused::not_successor));
  EXPECT_EQ(store.append(raw_block(4, genesis_b())).error().code,
            static_cast<int>(AppendRefused::not_successor));
  EXPECT_EQ(store.block_at(2)->value(), blocks[1]);
  EXPECT_EQ(*store.next_nonce(key_of(1)), 4u);
  EXPECT_EQ(store.height_of(id_of(blocks[0]))->value(), 1u);
}

TEST(DescribeBlock, RefusesAHeaderAtHeightZero) {
  const auto d = describe_block(raw_block(0, genesis_a()));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, static_cast<int>(AppendRefused::undecodable));
}

}  // namespace
}  // namespace baton::storage

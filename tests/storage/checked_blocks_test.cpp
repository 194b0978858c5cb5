// verify_ledger's pipeline (storage/checked_blocks.h): signatures checked
// ahead on several threads while the state is applied in height order. The
// first bad height is the one reported, on any number of threads and any
// window; memory stays within the window; a store that ends early or fails
// to read is reported where it does.
#include "storage/checked_blocks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

#include "chain/block.h"
#include "ledger_test_chain.h"
#include "storage/block_store_memory.h"
#include "storage/ledger_maker.h"
#include "storage/ledger_verify.h"

namespace baton::storage {
namespace {

using testing::make_test_consortium;
using testing::TestConsortium;

constexpr std::uint64_t kBlocks = 150;

// A valid chain's stored bytes, heights 1..kBlocks.
std::vector<std::string> make_chain(const TestConsortium& c) {
  auto maker = ChainMaker::create(c.spec, c.signing_keys(),
                                  chain::initial_state(c.spec.genesis_hash), {.txs_per_block = 2});
  EXPECT_TRUE(maker.ok()) << maker.error().message;
  std::vector<std::string> blocks;
  for (std::uint64_t h = 1; h <= kBlocks; ++h) {
    auto b = maker->next_block();
    EXPECT_TRUE(b.ok()) << b.error().message;
    blocks.push_back(std::move(b).value());
  }
  return blocks;
}

// The block with one bit of its first commit signature flipped: the block id
// and every transaction stay as they were, only a signature is wrong.
std::string with_bad_commit_signature(const std::string& bytes) {
  auto committed = chain::decode_committed_block(bytes);
  EXPECT_TRUE(committed.ok());
  std::string& sig = *committed->mutable_commit()->mutable_signatures(0)->mutable_signature();
  sig[5] = static_cast<char>(sig[5] ^ 0x10);
  return committed->SerializeAsString();
}

std::unique_ptr<MemoryBlockStore> store_of(const TestConsortium& c,
                                           const std::vector<std::string>& blocks) {
  auto store = std::make_unique<MemoryBlockStore>(c.spec.genesis_hash);
  for (const auto& b : blocks) EXPECT_TRUE(store->append(b).ok());
  return store;
}

struct Setting {
  unsigned threads;
  std::size_t window;
};
constexpr Setting kSettings[] = {{1, 256}, {2, 1}, {2, 5}, {2, 256}, {3, 16}, {8, 40}};

class VerifyPipeline : public ::testing::Test {
 protected:
  TestConsortium consortium_ = make_test_consortium(4);
  std::vector<std::string> blocks_ = make_chain(consortium_);
};

TEST_F(VerifyPipeline, ReportsAFlippedSignatureAtItsHeightOnAnyThreadsAndWindow) {
  for (const std::uint64_t bad : {std::uint64_t{1}, std::uint64_t{37}, kBlocks}) {
    std::vector<std::string> blocks = blocks_;
    blocks[bad - 1] = with_bad_commit_signature(blocks[bad - 1]);
    // A second bad block further on, checked by then on another thread,
    // must not be reported first.
    if (bad + 9 <= kBlocks) blocks[bad + 8] = with_bad_commit_signature(blocks[bad + 8]);
    const auto store = store_of(consortium_, blocks);
    for (const Setting s : kSettings) {
      auto verdict = verify_ledger(*store, consortium_.spec,
                                   {.threads = s.threads, .window_blocks = s.window});
      ASSERT_TRUE(verdict.ok()) << verdict.error().message;
      ASSERT_FALSE(verdict->ok()) << "bad block " << bad << " passed";
      EXPECT_EQ(verdict->reason().height, bad)
          << s.threads << " threads, window " << s.window << ": " << verdict->reason().what;
      EXPECT_NE(verdict->reason().what.find("commit signature does not verify"), std::string::npos)
          << verdict->reason().what;
    }
  }
}

TEST_F(VerifyPipeline, ReachesTheSameStateOnAnyThreadsAndWindow) {
  const auto store = store_of(consortium_, blocks_);
  std::optional<chain::Hash> expected;
  for (const Setting s : kSettings) {
    std::vector<std::uint64_t> progress;
    auto verdict = verify_ledger(*store, consortium_.spec,
                                 {.threads = s.threads,
                                  .window_blocks = s.window,
                                  .progress = [&](std::uint64_t h) { progress.push_back(h); }});
    ASSERT_TRUE(verdict.ok()) << verdict.error().message;
    ASSERT_TRUE(verdict->ok()) << "height " << verdict->reason().height << ": "
                               << verdict->reason().what;
    const VerifiedLedger& v = verdict->value();
    EXPECT_EQ(v.state.height, kBlocks);
    EXPECT_EQ(v.transactions, kBlocks * 2);
    EXPECT_EQ(v.signatures, kBlocks * (2 + 4));
    const chain::Hash hash = chain::state_hash(consortium_.spec.chain_id(), v.state);
    if (!expected) expected = hash;
    EXPECT_EQ(hash, *expected) << s.threads << " threads, window " << s.window;
    ASSERT_FALSE(progress.empty());
    EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
    EXPECT_EQ(progress.back(), kBlocks);
  }
}

// A store that ends early (its tip says more than it holds), fails to read
// from some height on, and remembers the highest height it was asked for.
class ShortStore final : public BlockStore {
 public:
  ShortStore(const BlockStore& inner, std::uint64_t holds, std::uint64_t fails_from)
      : inner_(inner), holds_(holds), fails_from_(fails_from) {}

  Status append(std::string_view) override { return make_error("read-only"); }
  Result<std::optional<std::string>> block_at(std::uint64_t h) const override {
    return inner_.block_at(h);
  }
  Result<std::vector<std::string>> blocks_from(std::uint64_t first,
                                               std::size_t max_count) const override {
    {
      std::lock_guard lock(mutex_);
      highest_asked_ = std::max<std::uint64_t>(highest_asked_, first + max_count - 1);
    }
    if (first + max_count - 1 >= fails_from_) return make_error("the disk failed");
    auto blocks = inner_.blocks_from(first, max_count);
    if (blocks && first + blocks->size() > holds_ + 1)
      blocks->resize(first > holds_ ? 0 : static_cast<std::size_t>(holds_ + 1 - first));
    return blocks;
  }
  Tip tip() const override { return inner_.tip(); }
  Result<std::optional<std::uint64_t>> height_of(const chain::Hash& id) const override {
    return inner_.height_of(id);
  }
  Result<std::optional<TxLocation>> find_tx(const chain::Hash& h) const override {
    return inner_.find_tx(h);
  }
  Result<std::uint64_t> next_nonce(const chain::PublicKey& k) const override {
    return inner_.next_nonce(k);
  }
  chain::Hash genesis_hash() const override { return inner_.genesis_hash(); }
  Status put_snapshot(std::uint64_t, std::string_view, std::size_t) override {
    return make_error("read-only");
  }
  Result<std::vector<std::uint64_t>> snapshot_heights() const override {
    return std::vector<std::uint64_t>{};
  }
  Result<std::optional<std::string>> snapshot_at(std::uint64_t) const override {
    return std::optional<std::string>{};
  }

  std::uint64_t highest_asked() const {
    std::lock_guard lock(mutex_);
    return highest_asked_;
  }

 private:
  const BlockStore& inner_;
  const std::uint64_t holds_;
  const std::uint64_t fails_from_;
  mutable std::mutex mutex_;
  mutable std::uint64_t highest_asked_ = 0;
};

TEST_F(VerifyPipeline, NamesTheFirstHeightAStoreThatEndsEarlyDoesNotHold) {
  const auto full = store_of(consortium_, blocks_);
  for (const Setting s : kSettings) {
    const ShortStore store(*full, 61, kBlocks + 1);
    auto verdict =
        verify_ledger(store, consortium_.spec, {.threads = s.threads, .window_blocks = s.window});
    ASSERT_TRUE(verdict.ok()) << verdict.error().message;
    ASSERT_FALSE(verdict->ok());
    EXPECT_EQ(verdict->reason().height, 62u) << s.threads << " threads, window " << s.window;
    EXPECT_NE(verdict->reason().what.find("missing"), std::string::npos) << verdict->reason().what;
  }
}

TEST_F(VerifyPipeline, AReadErrorIsAnErrorButAnEarlierBadBlockComesFirst) {
  std::vector<std::string> blocks = blocks_;
  blocks[19] = with_bad_commit_signature(blocks[19]);
  const auto with_bad = store_of(consortium_, blocks);
  const auto good = store_of(consortium_, blocks_);
  for (const Setting s : kSettings) {
    const ShortStore failing(*good, kBlocks, 90);
    auto error =
        verify_ledger(failing, consortium_.spec, {.threads = s.threads, .window_blocks = s.window});
    ASSERT_FALSE(error.ok());
    EXPECT_EQ(error.error().message, "the disk failed");
    // Heights below the failing read are checked and reported in order.
    const ShortStore bad_then_failing(*with_bad, kBlocks, 90);
    auto verdict = verify_ledger(bad_then_failing, consortium_.spec,
                                 {.threads = s.threads, .window_blocks = s.window});
    ASSERT_TRUE(verdict.ok()) << verdict.error().message;
    ASSERT_FALSE(verdict->ok());
    EXPECT_EQ(verdict->reason().height, 20u);
  }
}

// Memory is bounded by the window: whatever the threads, no block more than
// a window (and one job) ahead of the height handed out is read.
TEST_F(VerifyPipeline, ReadsNoFurtherAheadThanTheWindow) {
  const auto full = store_of(consortium_, blocks_);
  for (const Setting s : kSettings) {
    const ShortStore store(*full, kBlocks, kBlocks + 1);
    CheckedBlocks checked(store, consortium_.spec, 1, kBlocks, s.threads, s.window);
    std::uint64_t expected = 1;
    for (;;) {
      auto next = checked.next();
      ASSERT_TRUE(next.ok()) << next.error().message;
      if (!next->has_value()) break;
      const CheckedBlock& c = **next;
      EXPECT_EQ(c.height, expected++);
      EXPECT_TRUE(c.block.has_value()) << c.fault;
      EXPECT_FALSE(c.index_fault.has_value());
      EXPECT_LE(store.highest_asked(), c.height + s.window + checked.job_blocks())
          << s.threads << " threads, window " << s.window;
    }
    EXPECT_EQ(expected, kBlocks + 1);
  }
}

}  // namespace
}  // namespace baton::storage

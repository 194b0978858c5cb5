// Block sync between nodes (node/block_exchange.h): how much a peer can make
// this node read and send, and the checks a peer's blocks pass before they
// are stored. The hostile rows play a malicious hospital.
#include "node/block_exchange.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <optional>

#include "node/peer_messages.h"
#include "tests/chain/chain_fixture.h"

namespace baton::node {
namespace {

using chain::BlockInvalid;
using chain::testing::TestChain;

constexpr std::uint64_t kMax64 = std::numeric_limits<std::uint64_t>::max();

TEST(BlockExchange, ServingIsBoundedByTheMessageLimit) {
  chain::ConsensusParams params;  // max_block_bytes 8 MiB
  EXPECT_EQ(node_message_limit(params), 9u << 20);
  EXPECT_EQ(block_serve_limits(params).max_bytes, (9u << 20) - 4096);
  EXPECT_EQ(block_serve_limits(params).max_blocks, 64u);
  params.max_block_bytes = 1000;  // small blocks: still 4 MiB messages
  EXPECT_EQ(node_message_limit(params), 4u << 20);
  EXPECT_EQ(block_serve_limits(params).max_bytes, (4u << 20) - 4096);
}

TEST(BlockExchange, ARequestReadsAtMostTheServingLimit) {
  struct Row {
    const char* situation;
    std::uint64_t from_height;
    std::uint32_t max_count;
    std::optional<BlockRange> want;
  };
  const Row rows[] = {
      {"a few blocks", 1, 10, BlockRange{1, 10}},
      {"exactly the limit", 5, 64, BlockRange{5, 64}},
      {"one past the limit", 5, 65, BlockRange{5, 64}},
      {"every block there is (hostile)", 1, 0xffffffffu, BlockRange{1, 64}},
      {"from beyond any tip (hostile)", kMax64, 0xffffffffu, BlockRange{kMax64, 64}},
      {"from height 0 (there is no block 0)", 0, 10, std::nullopt},
      {"no blocks at all", 3, 0, std::nullopt},
  };
  const BlockServeLimits limits = block_serve_limits(chain::ConsensusParams{});
  for (const Row& row : rows) {
    SCOPED_TRACE(row.situation);
    pb::BlockRequest request;
    request.set_from_height(row.from_height);
    request.set_max_count(row.max_count);
    const auto got = blocks_to_read(request, limits);
    ASSERT_EQ(got.has_value(), row.want.has_value());
    if (!got) continue;
    EXPECT_EQ(got->from_height, row.want->from_height);
    EXPECT_EQ(got->count, row.want->count);
  }
}

TEST(BlockExchange, AResponseStaysUnderTheByteLimitButAlwaysCarriesOneBlock) {
  struct Row {
    const char* situation;
    std::vector<std::size_t> sizes;
    int want_blocks;
  };
  const Row rows[] = {
      {"nothing stored from there", {}, 0},
      {"all fit", {30, 30, 30}, 3},
      {"exactly the limit", {50, 50}, 2},
      {"the third would pass the limit", {40, 40, 40}, 2},
      {"a first block over the limit alone", {150, 10}, 1},
  };
  const BlockServeLimits limits{.max_blocks = 64, .max_bytes = 100};
  for (const Row& row : rows) {
    SCOPED_TRACE(row.situation);
    std::vector<std::string> blocks;
    for (std::size_t i = 0; i < row.sizes.size(); ++i)
      blocks.push_back(std::string(row.sizes[i], static_cast<char>('a' + i)));
    const pb::BlockResponse r = plan_block_response(7, blocks, limits);
    EXPECT_EQ(r.from_height(), 7u);
    ASSERT_EQ(r.blocks_size(), row.want_blocks);
    for (int i = 0; i < r.blocks_size(); ++i)
      EXPECT_EQ(r.blocks(i), blocks[static_cast<std::size_t>(i)]);  // in order, unchanged
  }
}

TEST(BlockExchange, OnlyBlocksThatFollowTheTipAreChecked) {
  struct Row {
    const char* situation;
    std::uint64_t from_height;
    std::size_t count;
    std::uint64_t tip;
    std::optional<std::size_t> want;
  };
  const Row rows[] = {
      {"from the next height", 4, 3, 3, 0},
      {"overlapping the tip", 2, 3, 3, 2},
      {"from the first block, at genesis", 1, 5, 0, 0},
      {"all at or below the tip", 1, 3, 3, std::nullopt},
      {"empty", 4, 0, 3, std::nullopt},
      {"a gap after the tip (hostile)", 6, 3, 3, std::nullopt},
      {"from beyond any tip (hostile)", kMax64, 3, 3, std::nullopt},
      {"from height 0 (hostile)", 0, 3, 1, 2},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.situation);
    EXPECT_EQ(place_synced_blocks(row.from_height, row.count, row.tip), row.want);
  }
}

// Appends a block committed by the three validators (dave holds no power,
// so TestChain::append, which seals with all four, would be refused).
chain::pb::CommittedBlock append_by_validators(TestChain& tc, std::vector<std::string> txs) {
  auto committed = tc.seal(tc.propose(std::move(txs)).block, {0, 1, 2});
  tc.state = chain::validate_block(tc.spec, tc.state, committed).value();
  return committed;
}

// A chain at height 2 and, beside it, what a hostile peer could send as the
// block at height 3.
struct SyncFixture {
  TestChain tc{{1, 1, 1, 0}};  // dave is a member without voting power
  chain::LedgerState at2;
  chain::pb::CommittedBlock block2;
  chain::pb::Block next;  // a valid block 3, not yet sealed

  SyncFixture() {
    append_by_validators(tc, {tc.note(0, 1)});
    block2 = append_by_validators(tc, {tc.note(1, 1)});
    at2 = tc.state;
    next = tc.propose({tc.note(2, 1)}).block;
  }
  std::string sealed(const chain::pb::Block& b, std::initializer_list<std::size_t> signers) const {
    return tc.seal(b, signers).SerializeAsString();
  }
};

TEST(BlockExchange, ASyncedBlockCountsOnlyWhenItChainsAndIsCommittedByTheValidators) {
  struct Row {
    const char* situation;
    std::function<std::string(const SyncFixture&)> bytes;
    std::optional<BlockInvalid> fault;  // nullopt: valid
  };
  const std::vector<Row> rows = {
      {"the next block, committed by all validators",
       [](auto& f) {
         return f.sealed(f.next, {0, 1, 2});
       },
       std::nullopt},
      {"bytes that are no committed block", [](auto&) { return std::string("\x0a\xff"); },
       BlockInvalid::malformed_block},
      {"the tip again (does not chain)", [](auto& f) { return f.block2.SerializeAsString(); },
       BlockInvalid::wrong_height},
      {"the right height on another previous block (does not chain)",
       [](auto& f) {
         auto forked = chain::testing::with_header(f.next, [](chain::pb::BlockHeader& h) {
           h.set_previous_block_hash(std::string(32, '\x42'));
         });
         return f.sealed(forked, {0, 1, 2});
       },
       BlockInvalid::wrong_previous_hash},
      {"committed with a member that is no validator (hostile)",
       [](auto& f) {
         return f.sealed(f.next, {0, 1, 3});
       },
       BlockInvalid::commit_non_member_signature},
      {"committed by a key outside the genesis (hostile)",
       [](auto& f) {
         auto committed = f.tc.seal(f.next, {0, 1, 2});
         auto* sig = committed.mutable_commit()->mutable_signatures(2);
         const auto header = chain::decode_header(f.next.header()).value();
         const auto vote =
             chain::sign_vote(f.tc.spec.network(), chain::testing::outsider_key(),
                              chain::pb::PRECOMMIT, header.height(), 0, chain::block_id(f.next));
         sig->set_validator(vote.validator());
         sig->set_signature(vote.signature());
         return committed.SerializeAsString();
       },
       BlockInvalid::commit_non_member_signature},
      {"committed by too few validators (hostile)",
       [](auto& f) {
         return f.sealed(f.next, {0, 1});
       },
       BlockInvalid::commit_insufficient_power},
      {"a commit signature that does not verify (hostile)",
       [](auto& f) {
         auto committed = f.tc.seal(f.next, {0, 1, 2});
         (*committed.mutable_commit()->mutable_signatures(1)->mutable_signature())[3] ^= 1;
         return committed.SerializeAsString();
       },
       BlockInvalid::commit_bad_signature},
      {"a transaction changed after the commit (hostile)",
       [](auto& f) {
         auto committed = f.tc.seal(f.next, {0, 1, 2});
         committed.mutable_block()->set_transactions(0, f.tc.note(2, 1, "changed"));
         return committed.SerializeAsString();
       },
       BlockInvalid::wrong_tx_merkle_root},
      {"block 3 of another consortium with the same chain id and keys (hostile)",
       [](auto&) {
         TestChain other = chain::testing::same_chain_id_other_genesis();
         other.append({});
         other.append({});
         // Signed by alice, bob and carol, under the other genesis' network.
         return other.seal(other.propose({}).block, {0, 1, 2}).SerializeAsString();
       },
       BlockInvalid::commit_bad_signature},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.situation);
    const SyncFixture f;
    auto after = check_committed_bytes(f.tc.spec, f.at2, row.bytes(f));
    ASSERT_EQ(after.ok(), !row.fault) << (after.ok() ? "" : after.reason().message());
    if (row.fault) {
      EXPECT_EQ(after.reason().reason, *row.fault) << after.reason().message();
    } else {
      EXPECT_EQ(after.value().height, 3u);
      EXPECT_EQ(after.value().last_block_id, chain::block_id(f.next));
    }
  }
}

}  // namespace
}  // namespace baton::node

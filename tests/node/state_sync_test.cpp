// State sync, the pure half (node/state_sync.h): what a node serves of its
// snapshot, how it takes a peer's chunks, and the checks a peer's snapshot
// and history pass. The hostile rows play a malicious hospital: a tampered
// or cut state, a block that is not the trusted one or not signed, chunks
// that lie about their sizes, and history blocks that do not link.
#include "node/state_sync.h"

#include <gtest/gtest.h>

#include <functional>

#include "chain/block.h"
#include "storage/state_snapshot.h"
#include "tests/chain/chain_fixture.h"

namespace baton::node {
namespace {

using chain::testing::TestChain;

// A chain of five blocks with notes; the trusted snapshot is after block 4.
struct Fixture {
  TestChain tc;
  std::vector<std::string> blocks{""};  // [h]: the CommittedBlock bytes at h
  std::vector<chain::LedgerState> states;
  Fixture() {
    states.push_back(tc.state);
    for (std::uint64_t h = 1; h <= 5; ++h) {
      blocks.push_back(tc.append({tc.note((h - 1) % 4, 1 + (h - 1) / 4, "n" + std::to_string(h))})
                           .SerializeAsString());
      states.push_back(tc.state);
    }
  }
  StateSyncTrust trust(std::uint64_t h = 4) const { return {h, states[h].last_block_id}; }
  std::string state_bytes(std::uint64_t h = 4) const {
    const chain::Bytes b = chain::state_encoding(states[h]);
    return std::string(b.begin(), b.end());
  }
};

pb::SnapshotRequest request(std::uint64_t height, std::uint64_t offset) {
  pb::SnapshotRequest r;
  r.set_height(height);
  r.set_offset(offset);
  return r;
}

TEST(StateSync, AServerSendsItsSnapshotInBoundedChunksAndTheBlockOnce) {
  const Fixture f;
  const std::string record = storage::encode_snapshot(f.states[4]);
  const SnapshotLimits limits{.max_chunk = 7};
  const std::uint64_t size = record.size() - 40;
  // Not held: no record, no block, a record too short, an offset past the end.
  for (const auto& [rec, block, offset] :
       {std::tuple{std::optional<std::string>(), std::optional<std::string>(f.blocks[4]), 0ul},
        std::tuple{std::optional<std::string>(record), std::optional<std::string>(), 0ul},
        std::tuple{std::optional<std::string>("short"), std::optional<std::string>(f.blocks[4]),
                   0ul},
        std::tuple{std::optional<std::string>(record), std::optional<std::string>(f.blocks[4]),
                   size + 1}}) {
    const auto r = plan_snapshot_response(request(4, offset), rec, block, limits);
    EXPECT_EQ(r.state_size(), 0u);
    EXPECT_TRUE(r.block().empty());
    EXPECT_TRUE(r.chunk().empty());
  }
  // Served in order, the chunks are the state bytes.
  SnapshotDownload download(4, limits);
  int chunks = 0;
  while (!download.complete()) {
    const auto r =
        plan_snapshot_response(request(4, download.offset()), record, f.blocks[4], limits);
    EXPECT_LE(r.chunk().size(), 7u);
    EXPECT_EQ(r.block().empty(), r.offset() != 0);
    ASSERT_FALSE(download.add(r).has_value());
    ASSERT_LT(++chunks, 100000);
  }
  EXPECT_EQ(download.state(), f.state_bytes());
  EXPECT_EQ(download.block(), f.blocks[4]);
}

TEST(StateSync, ChunksThatLieAboutTheirSizesAreRefusedBeforeAnythingIsKept) {
  const Fixture f;
  const std::string state = f.state_bytes();
  const SnapshotLimits limits{.max_chunk = 16, .max_state_bytes = 4096};
  auto first = [&] {
    pb::SnapshotResponse r;
    r.set_height(4);
    r.set_offset(0);
    r.set_state_size(state.size());
    r.set_block(f.blocks[4]);
    r.set_chunk(state.substr(0, 16));
    return r;
  };
  struct Row {
    const char* situation;
    std::function<void(pb::SnapshotResponse&)> edit;
    std::optional<SnapshotRefusal> want;
  };
  const std::vector<Row> rows = {
      {"a correct first chunk", [](auto&) {}, std::nullopt},
      {"nothing held",
       [](auto& r) {
         r = pb::SnapshotResponse();
         r.set_height(4);
       },
       SnapshotRefusal::not_held},
      {"another height (hostile)", [](auto& r) { r.set_height(3); }, SnapshotRefusal::malformed},
      {"another offset (hostile)", [](auto& r) { r.set_offset(16); }, SnapshotRefusal::malformed},
      {"a state of 2^64-1 bytes (hostile)", [](auto& r) { r.set_state_size(~0ull); },
       SnapshotRefusal::oversized},
      {"a state one byte over the limit (hostile)", [](auto& r) { r.set_state_size(4097); },
       SnapshotRefusal::oversized},
      {"a chunk over the chunk limit (hostile)", [](auto& r) { r.set_chunk(std::string(17, 'x')); },
       SnapshotRefusal::oversized},
      {"a chunk past the end of the state (hostile)", [](auto& r) { r.set_state_size(8); },
       SnapshotRefusal::malformed},
      {"an empty chunk (hostile: no progress)", [](auto& r) { r.clear_chunk(); },
       SnapshotRefusal::malformed},
      {"no block in the first chunk", [](auto& r) { r.clear_block(); }, SnapshotRefusal::malformed},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.situation);
    SnapshotDownload d(4, limits);
    pb::SnapshotResponse r = first();
    row.edit(r);
    const auto got = d.add(r);
    ASSERT_EQ(got.has_value(), row.want.has_value()) << (got ? got->message() : "");
    if (got) {
      EXPECT_EQ(got->reason, *row.want);
      EXPECT_EQ(d.offset(), 0u);  // nothing kept
    }
  }
  // After a good first chunk: a size that changes, or a second block.
  for (const auto& edit : std::vector<std::function<void(pb::SnapshotResponse&)>>{
           [&](auto& r) { r.set_state_size(state.size() + 1); },
           [&](auto& r) { r.set_block(f.blocks[4]); }}) {
    SnapshotDownload d(4, limits);
    ASSERT_FALSE(d.add(first()).has_value());
    pb::SnapshotResponse r;
    r.set_height(4);
    r.set_offset(16);
    r.set_state_size(state.size());
    r.set_chunk(state.substr(16, 16));
    edit(r);
    const auto got = d.add(r);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->reason, SnapshotRefusal::malformed);
  }
}

std::string reencoded(chain::LedgerState s) {
  const chain::Bytes b = chain::state_encoding(s);
  return std::string(b.begin(), b.end());
}

TEST(StateSync, OnlyTheTrustedBlockAndTheStateItSignsAreAccepted) {
  const Fixture f;
  struct Row {
    const char* situation;
    std::function<StateSyncTrust(const Fixture&)> trust;
    std::function<std::string(const Fixture&)> block;
    std::function<std::string(const Fixture&)> state;
    std::optional<SnapshotRefusal> want;
  };
  auto trust4 = [](const Fixture& x) { return x.trust(); };
  auto block4 = [](const Fixture& x) { return x.blocks[4]; };
  auto state4 = [](const Fixture& x) { return x.state_bytes(); };
  const std::vector<Row> rows = {
      {"the snapshot after the trusted block", trust4, block4, state4, std::nullopt},
      {"an operator's wrong trusted id",
       [](auto& x) {
         return StateSyncTrust{4, x.states[3].last_block_id};
       },
       block4, state4, SnapshotRefusal::wrong_block_id},
      {"another height's block and state (hostile)", trust4, [](auto& x) { return x.blocks[3]; },
       [](auto& x) { return x.state_bytes(3); }, SnapshotRefusal::wrong_block_id},
      {"bytes that are no block (hostile)", trust4, [](auto&) { return std::string("\x0a\xff"); },
       state4, SnapshotRefusal::block_undecodable},
      {"a nonce raised in the state (hostile; it decodes)", trust4, block4,
       [](auto& x) {
         chain::LedgerState s = x.states[4];
         s.next_nonces.begin()->second += 1;
         return reencoded(s);
       },
       SnapshotRefusal::wrong_state_hash},
      {"a cut state: one sender left out (hostile; it decodes)", trust4, block4,
       [](auto& x) {
         chain::LedgerState s = x.states[4];
         s.next_nonces.erase(std::prev(s.next_nonces.end()));
         return reencoded(s);
       },
       SnapshotRefusal::wrong_state_hash},
      {"a truncated state (hostile)", trust4, block4,
       [](auto& x) {
         const std::string s = x.state_bytes();
         return s.substr(0, s.size() - 3);
       },
       SnapshotRefusal::bad_state},
      {"a transaction changed in the trusted block (hostile)", trust4,
       [](auto& x) {
         auto c = chain::decode_committed_block(x.blocks[4]).value();
         c.mutable_block()->set_transactions(0, x.tc.note(0, 9, "changed"));
         return c.SerializeAsString();
       },
       state4, SnapshotRefusal::invalid_block},
      {"the trusted block with a commit of too few validators (hostile)", trust4,
       [](auto& x) {
         return x.tc.seal(chain::decode_committed_block(x.blocks[4]).value().block(), {0, 1})
             .SerializeAsString();
       },
       state4, SnapshotRefusal::bad_commit},
      {"the trusted block with a forged commit signature (hostile)", trust4,
       [](auto& x) {
         auto c = chain::decode_committed_block(x.blocks[4]).value();
         (*c.mutable_commit()->mutable_signatures(0)->mutable_signature())[5] ^= 1;
         return c.SerializeAsString();
       },
       state4, SnapshotRefusal::bad_commit},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.situation);
    const auto got = check_trusted_snapshot(f.tc.spec, row.trust(f), row.block(f), row.state(f));
    ASSERT_EQ(got.ok(), !row.want.has_value()) << (got ? "" : got.reason().message());
    if (!got) {
      EXPECT_EQ(got.reason().reason, *row.want) << got.reason().message();
      continue;
    }
    EXPECT_EQ(got->state, f.states[4]);
    EXPECT_EQ(got->record, storage::encode_snapshot(f.states[4]));
    EXPECT_EQ(got->block, f.blocks[4]);
  }
}

TEST(StateSync, BackfillAsksForTheHeightsRightBelowTheHistory) {
  struct Row {
    std::uint64_t history_from;
    std::uint32_t batch;
    std::optional<std::pair<std::uint64_t, std::uint32_t>> want;
  };
  const Row rows[] = {
      {1, 64, std::nullopt},         {0, 64, std::nullopt},           {2, 64, std::pair{1ul, 1u}},
      {65, 64, std::pair{1ul, 64u}}, {100, 64, std::pair{36ul, 64u}}, {10, 0, std::nullopt},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.history_from);
    const auto got = backfill_request(row.history_from, row.batch);
    ASSERT_EQ(got.has_value(), row.want.has_value());
    if (!got) continue;
    EXPECT_EQ(got->from_height(), row.want->first);
    EXPECT_EQ(got->max_count(), row.want->second);
    EXPECT_EQ(got->from_height() + got->max_count(), row.history_from);
  }
}

TEST(StateSync, AHistoryBlockCountsOnlyWhenTheBlockAboveNamesItAndItIsSigned) {
  const Fixture f;
  const chain::Hash named3 = *id_named_by(f.blocks[4]);
  EXPECT_EQ(named3, f.states[3].last_block_id);
  EXPECT_EQ(id_named_by("\x0a\xff"), std::nullopt);
  EXPECT_EQ(check_linked_block(f.tc.spec, 3, named3, f.blocks[3], &f.tc.spec.validators),
            std::nullopt);
  // Hostile offers.
  EXPECT_TRUE(
      check_linked_block(f.tc.spec, 3, named3, f.blocks[2], &f.tc.spec.validators).has_value());
  EXPECT_TRUE(check_linked_block(f.tc.spec, 2, named3, f.blocks[3], &f.tc.spec.validators)
                  .has_value());  // wrong height
  EXPECT_TRUE(
      check_linked_block(f.tc.spec, 3, named3, "\x0a\xff", &f.tc.spec.validators).has_value());
  auto changed = chain::decode_committed_block(f.blocks[3]).value();
  changed.mutable_block()->set_transactions(0, f.tc.note(0, 9, "changed"));
  EXPECT_TRUE(
      check_linked_block(f.tc.spec, 3, named3, changed.SerializeAsString(), nullptr).has_value());
  const auto unsigned_commit =
      f.tc.seal(chain::decode_committed_block(f.blocks[3]).value().block(), {0, 1});
  const auto why = check_linked_block(f.tc.spec, 3, named3, unsigned_commit.SerializeAsString(),
                                      &f.tc.spec.validators);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("two thirds"), std::string::npos) << *why;
  // Without a known set (the members changed since) the link and the body
  // still count: a changed body or another block is refused either way.
  EXPECT_EQ(check_linked_block(f.tc.spec, 3, named3, f.blocks[3], nullptr), std::nullopt);
  EXPECT_TRUE(check_linked_block(f.tc.spec, 3, named3, f.blocks[2], nullptr).has_value());
}

TEST(StateSync, PeersAreAskedInTurnAndARefusedOneIsNotAskedAgain) {
  const TestChain tc;
  const std::vector<chain::PublicKey> peers = {tc.key(1).public_key(), tc.key(2).public_key()};
  PeerRotation r(1000);
  const auto a = r.next(peers, 0);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(r.next(peers, 500), std::nullopt);  // in flight
  const auto b = r.next(peers, 1000);           // timed out: the other one
  ASSERT_TRUE(b.has_value());
  EXPECT_NE(*a, *b);
  r.refuse(*b);
  EXPECT_EQ(r.asking(), std::nullopt);
  for (int i = 0; i < 4; ++i) {
    const auto c = r.next(peers, 2000 + 1000 * static_cast<std::uint64_t>(i));
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(*c, *a);
    r.answered(*c);
  }
  r.refuse(*a);
  EXPECT_EQ(r.next(peers, 10000), std::nullopt);  // nobody left
  r.forgive_all();
  EXPECT_TRUE(r.next(peers, 10000).has_value());
}

}  // namespace
}  // namespace baton::node

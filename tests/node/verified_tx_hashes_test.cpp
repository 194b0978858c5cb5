#include "node/verified_tx_hashes.h"

#include <gtest/gtest.h>

namespace baton::node {
namespace {

chain::Hash hash_of(std::uint8_t i) {
  chain::Hash h;
  h.bytes.fill(i);
  return h;
}

TEST(VerifiedTxHashes, RemembersWhatWasAdded) {
  VerifiedTxHashes v(4);
  EXPECT_FALSE(v.contains(hash_of(1)));
  v.add(hash_of(1));
  EXPECT_TRUE(v.contains(hash_of(1)));
  EXPECT_FALSE(v.contains(hash_of(2)));
}

TEST(VerifiedTxHashes, ForgetsTheOldestBeyondItsCapacity) {
  VerifiedTxHashes v(3);
  for (std::uint8_t i = 1; i <= 5; ++i) v.add(hash_of(i));
  EXPECT_EQ(v.size(), 3u);
  EXPECT_FALSE(v.contains(hash_of(1)));
  EXPECT_FALSE(v.contains(hash_of(2)));
  for (std::uint8_t i = 3; i <= 5; ++i) EXPECT_TRUE(v.contains(hash_of(i)));
}

TEST(VerifiedTxHashes, AddingAgainDoesNotTakeAnotherSlot) {
  VerifiedTxHashes v(2);
  v.add(hash_of(1));
  v.add(hash_of(1));
  v.add(hash_of(2));
  EXPECT_EQ(v.size(), 2u);
  EXPECT_TRUE(v.contains(hash_of(1)));
  EXPECT_TRUE(v.contains(hash_of(2)));
}

}  // namespace
}  // namespace baton::node

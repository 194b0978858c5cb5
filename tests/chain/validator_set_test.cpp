#include "chain/validator_set.h"

#include <gtest/gtest.h>

#include "chain_fixture.h"

namespace baton::chain {
namespace {

TEST(ValidatorSet, KeepsGenesisOrderAndFindsByKey) {
  const Genesis g = testing::fixed_genesis({1, 2, 3, 0});
  const ValidatorSet vs(g);
  ASSERT_EQ(vs.size(), 4u);
  EXPECT_EQ(vs.members()[0].name, "alice");
  EXPECT_EQ(vs.members()[3].name, "dave");
  EXPECT_EQ(vs.find(g.members[2].ed25519)->power, 3u);
  EXPECT_EQ(vs.index_of(g.members[1].ed25519), 1u);
  EXPECT_EQ(vs.find(testing::outsider_key().public_key()), nullptr);
  EXPECT_FALSE(vs.index_of(testing::outsider_key().public_key()).has_value());
  EXPECT_TRUE(vs.is_member(g.members[3].ed25519));
  EXPECT_FALSE(vs.is_validator(g.members[3].ed25519));  // power 0
  EXPECT_TRUE(vs.is_validator(g.members[0].ed25519));
  EXPECT_EQ(vs.total_power(), 6u);
}

TEST(ValidatorSet, QuorumIsStrictlyMoreThanTwoThirds) {
  const ValidatorSet four(testing::fixed_genesis({1, 1, 1, 1}));
  EXPECT_FALSE(four.has_quorum(2));
  EXPECT_TRUE(four.has_quorum(3));
  const ValidatorSet three(testing::fixed_genesis({1, 1, 1}));
  EXPECT_FALSE(three.has_quorum(2));  // exactly 2/3 is not enough
  EXPECT_TRUE(three.has_quorum(3));
  const ValidatorSet weighted(testing::fixed_genesis({1, 2, 3}));  // total 6: need > 4
  EXPECT_FALSE(weighted.has_quorum(4));
  EXPECT_TRUE(weighted.has_quorum(5));
}

TEST(ValidatorSet, OneThirdIsStrict) {
  const ValidatorSet three(testing::fixed_genesis({1, 1, 1}));
  EXPECT_FALSE(three.exceeds_one_third(1));
  EXPECT_TRUE(three.exceeds_one_third(2));
  const ValidatorSet four(testing::fixed_genesis({1, 1, 1, 1}));
  EXPECT_FALSE(four.exceeds_one_third(1));
  EXPECT_TRUE(four.exceeds_one_third(2));
}

}  // namespace
}  // namespace baton::chain

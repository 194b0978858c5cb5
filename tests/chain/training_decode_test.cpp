// decode_training_state (chain/training_decode.h, issue 12): the state a
// baton-agent receives from its node decodes to exactly the node's state, and
// bytes that are cut, padded, reordered or lie about a count are refused.
#include <gtest/gtest.h>

#include "chain/encoding.h"
#include "chain/training_decode.h"
#include "chain/training_plan.h"
#include "protocol_fixture.h"

namespace baton::chain::testing {
namespace {

// A state with an approved turn (save, wrapped keys, votes, lineage), a
// refused transaction and an abandoned turn: every part of the encoding.
ProtocolChain busy_chain() {
  ProtocolChain p;
  p.commit(p.start(0, test_plan(4)));
  p.grant_load(0, {1, 2});
  const Hash save = p.commit(p.save_request(0, 0, std::nullopt));
  p.commit(p.model_vote(1, save, true, 750000, 700000));
  p.commit(p.model_vote(2, save, true, 740000, 700000));
  EXPECT_TRUE(p.commit_refused(p.load_request(3, 1, save)).has_value());  // out of turn
  p.grant_load(1, {2, 3});
  pb::TurnAbandon a;
  a.set_run_id("run-1");
  a.set_turn(1);
  a.set_head_model_id(hash_bytes(save));
  a.set_reason(static_cast<std::uint32_t>(LoadFailure::store_unreachable));
  a.set_detail("the store did not answer 3 times");
  p.commit(p.tx(1, pb::TX_TURN_ABANDON, a));
  return p;
}

TEST(TrainingDecode, ABusyStateDecodesToItself) {
  ProtocolChain p = busy_chain();
  const Bytes bytes = training_encoding(p.training());
  auto decoded = decode_training_state(bytes, p.chain.spec.genesis);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, p.training());
  EXPECT_EQ(decoded->find_run("run-1")->turns.size(), 3u);  // the state is not empty
}

TEST(TrainingDecode, TheEmptyStateDecodes) {
  ProtocolChain p;
  auto decoded = decode_training_state(training_encoding(TrainingState{}), p.chain.spec.genesis);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_TRUE(decoded->empty());
}

TEST(TrainingDecode, RefusesEveryTruncationAndTrailingBytes) {
  ProtocolChain p = busy_chain();
  const Bytes bytes = training_encoding(p.training());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_training_state(ByteView(bytes.data(), n), p.chain.spec.genesis).ok())
        << "cut at " << n;
  }
  Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(decode_training_state(longer, p.chain.spec.genesis).ok());
}

TEST(TrainingDecode, RefusesACountLargerThanTheBytesLeftBeforeAllocating) {
  ProtocolChain p;
  Bytes bytes;
  append_u32be(bytes, 0xFFFFFFFFu);  // four billion runs, in four bytes
  auto decoded = decode_training_state(bytes, p.chain.spec.genesis);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("more than the bytes left"), std::string::npos)
      << decoded.error().message;
}

TEST(TrainingDecode, RefusesAnUnknownEnumAndAPlanTheGenesisRefuses) {
  ProtocolChain p = busy_chain();
  const Bytes bytes = training_encoding(p.training());
  // The run status byte follows: count, id, plan, started_by, start_height.
  const chain::Run& run = p.run();
  const std::size_t plan_len = plan_to_proto(run.plan).SerializeAsString().size();
  const std::size_t status_at =
      4 + 4 + run.plan.run_id.size() + 4 + plan_len + 4 + run.started_by.size() + 8;
  ASSERT_EQ(bytes[status_at], static_cast<std::uint8_t>(run.status));
  Bytes bad = bytes;
  bad[status_at] = 9;
  EXPECT_FALSE(decode_training_state(bad, p.chain.spec.genesis).ok());
  // A genesis without the plan's partners: the plan does not validate.
  ProtocolChain other({1, 1});
  EXPECT_FALSE(decode_training_state(bytes, other.chain.spec.genesis).ok());
}

}  // namespace
}  // namespace baton::chain::testing

// What a peer may send (node/peer_messages.h), one row per message; the
// hostile rows are what a malicious hospital could send.
#include "node/peer_messages.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>

#include "node/node.h"
#include "tests/chain/chain_fixture.h"

namespace baton::node {
namespace {

using chain::testing::TestChain;
using consensus::MessageVerdict;

std::string bytes_of(const pb::NodeMessage& m) { return m.SerializeAsString(); }

chain::Verdict<PeerMessage, PeerMessageFault> check(const TestChain& c, const std::string& bytes) {
  return check_peer_message(c.spec, c.spec.validators, chain::as_bytes(bytes));
}

pb::NodeMessage vote_message(const TestChain& c, std::uint64_t height) {
  pb::NodeMessage m;
  *m.mutable_consensus()->mutable_vote() =
      chain::sign_vote(c.spec.network(), c.key(1), chain::pb::PREVOTE, height, 0, std::nullopt);
  return m;
}

pb::NodeMessage gossip(std::vector<std::string> txs) {
  pb::NodeMessage m;
  for (auto& t : txs) m.mutable_txs()->add_transactions(std::move(t));
  return m;
}

TEST(PeerMessages, RefusesWhatNoCorrectPeerSends) {
  struct Row {
    const char* situation;
    std::function<std::string(const TestChain&)> bytes;
    std::optional<PeerMessageFault> fault;  // nullopt: accepted
  };
  const std::vector<Row> rows = {
      {"a status",
       [](auto&) {
         pb::NodeMessage m;
         m.mutable_status()->set_height(3);
         return bytes_of(m);
       },
       std::nullopt},
      {"a well-formed vote", [](auto& c) { return bytes_of(vote_message(c, 2)); }, std::nullopt},
      {"a block request for more than it will get",
       [](auto&) {
         pb::NodeMessage m;
         m.mutable_block_request()->set_from_height(1);
         m.mutable_block_request()->set_max_count(0xffffffffu);
         return bytes_of(m);
       },
       std::nullopt},
      {"gossip of valid transactions",
       [](auto& c) {
         return bytes_of(gossip({c.note(0, 1), c.note(1, 1)}));
       },
       std::nullopt},
      {"bytes that are no NodeMessage", [](auto&) { return std::string("\xff\xff\xff\xff"); },
       PeerMessageFault::undecodable},
      {"a NodeMessage without a body", [](auto&) { return std::string(); },
       PeerMessageFault::no_body},
      {"a vote with a 3-byte validator key",
       [](auto& c) {
         pb::NodeMessage m = vote_message(c, 2);
         m.mutable_consensus()->mutable_vote()->set_validator("abc");
         return bytes_of(m);
       },
       PeerMessageFault::malformed_consensus},
      {"a vote for the all-zero block id",
       [](auto& c) {
         pb::NodeMessage m = vote_message(c, 2);
         m.mutable_consensus()->mutable_vote()->set_block_id(std::string(32, '\0'));
         return bytes_of(m);
       },
       PeerMessageFault::malformed_consensus},
      {"a consensus message without a body",
       [](auto&) {
         pb::NodeMessage m;
         m.mutable_consensus();
         return bytes_of(m);
       },
       PeerMessageFault::malformed_consensus},
      {"gossip with one forged transaction among valid ones",
       [](auto& c) {
         auto forged = chain::make_note(c.spec.network(), c.key(2), 1, "forged");
         (*forged.mutable_signature())[0] ^= 1;
         return bytes_of(gossip({c.note(0, 1), chain::encode_transaction(forged), c.note(1, 1)}));
       },
       PeerMessageFault::invalid_transaction},
      // Members change by vote: a peer a block apart relays a newcomer's or a
      // leaver's transaction in good faith; it is dropped (next test), and
      // the peer stays.
      {"gossip of a transaction from a non-member",
       [](auto& c) {
         return bytes_of(gossip({chain::encode_transaction(
             chain::make_note(c.spec.network(), chain::testing::outsider_key(), 1, "x"))}));
       },
       std::nullopt},
      {"gossip of an oversized transaction",
       [](auto& c) {
         return bytes_of(gossip({c.note(0, 1, std::string(c.spec.params().max_tx_bytes, 'x'))}));
       },
       PeerMessageFault::invalid_transaction},
  };
  const TestChain c;
  for (const Row& row : rows) {
    SCOPED_TRACE(row.situation);
    auto checked = check(c, row.bytes(c));
    ASSERT_EQ(checked.ok(), !row.fault);
    if (row.fault) {
      EXPECT_EQ(checked.reason(), *row.fault) << to_string(checked.reason());
    }
  }
}

TEST(PeerMessages, GossipComesOutAsOffersReadyForAdmission) {
  const TestChain c;
  const std::vector<std::string> txs = {c.note(0, 1), c.note(1, 1), c.note(0, 2)};
  auto checked = check(c, bytes_of(gossip(txs)));
  ASSERT_TRUE(checked.ok());
  const PeerMessage& m = checked.value();
  EXPECT_TRUE(m.message.has_txs());
  EXPECT_EQ(m.message.txs().transactions_size(), 0);  // moved into the offers
  ASSERT_EQ(m.gossip.size(), txs.size());
  for (std::size_t i = 0; i < txs.size(); ++i) {
    EXPECT_EQ(m.gossip[i].bytes, txs[i]);
    EXPECT_TRUE(m.gossip[i].valid());
  }
  auto status = check(c, bytes_of(vote_message(c, 1)));
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status.value().gossip.empty());
}

TEST(PeerMessages, GossipFromNonMembersIsLeftOutAndChecksFollowTheGivenMembers) {
  const TestChain c;
  // The members as the ledger has them after bob was removed by vote.
  chain::Genesis without_bob = c.spec.genesis;
  without_bob.members.erase(without_bob.members.begin() + 1);
  const chain::ValidatorSet members(without_bob);
  const auto outsider = chain::encode_transaction(
      chain::make_note(c.spec.network(), chain::testing::outsider_key(), 1, "x"));
  auto checked = check_peer_message(
      c.spec, members, chain::as_bytes(bytes_of(gossip({c.note(0, 1), c.note(1, 1), outsider}))));
  ASSERT_TRUE(checked.ok());
  ASSERT_EQ(checked.value().gossip.size(), 1u);
  EXPECT_EQ(checked.value().gossip[0].bytes, c.note(0, 1));
  // A member's forged transaction still costs the peer its session.
  auto forged = chain::make_note(c.spec.network(), c.key(0), 2, "forged");
  (*forged.mutable_signature())[0] ^= 1;
  auto refused = check_peer_message(
      c.spec, members,
      chain::as_bytes(bytes_of(gossip({c.note(1, 1), chain::encode_transaction(forged)}))));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.reason(), PeerMessageFault::invalid_transaction);
}

TEST(PeerMessages, AFullInboundQueueDropsOnlyConsensusAndGossip) {
  const TestChain c;
  pb::NodeMessage status, request, response;
  status.mutable_status()->set_height(1);
  request.mutable_block_request()->set_from_height(1);
  response.mutable_block_response()->set_from_height(1);
  struct Row {
    const char* situation;
    pb::NodeMessage message;
    std::size_t waiting;
    InboundAction want;
  };
  const std::size_t max = Node::kMaxPendingInbound;
  const Row rows[] = {
      {"a vote with room", vote_message(c, 2), max - 1, InboundAction::queue},
      {"a vote at the bound", vote_message(c, 2), max, InboundAction::drop},
      {"a vote past the bound", vote_message(c, 2), max + 5, InboundAction::drop},
      {"gossip with room", gossip({c.note(0, 1)}), max - 1, InboundAction::queue},
      {"gossip at the bound", gossip({c.note(0, 1)}), max, InboundAction::drop},
      {"a status at the bound", status, max, InboundAction::queue},
      {"a block request at the bound", request, max, InboundAction::queue},
      {"a block response at the bound", response, max, InboundAction::queue},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.situation);
    EXPECT_EQ(inbound_action(row.message, row.waiting, max), row.want);
  }
}

TEST(PeerMessages, TheEngineVerdictDecidesWhetherThePeerStaysAndWhetherToSync) {
  const TestChain c;
  const consensus::pb::ConsensusMessage vote7 = vote_message(c, 7).consensus();
  struct Row {
    MessageVerdict verdict;
    bool disconnect, request_blocks;
    std::optional<std::uint64_t> peer_at_least;
  };
  const Row rows[] = {
      {MessageVerdict::accepted, false, false, std::nullopt},
      {MessageVerdict::duplicate, false, false, std::nullopt},
      {MessageVerdict::stale, false, false, std::nullopt},
      {MessageVerdict::future_height, false, true, 6},
      {MessageVerdict::malformed, true, false, std::nullopt},
      {MessageVerdict::oversized, true, false, std::nullopt},
      {MessageVerdict::unknown_validator, true, false, std::nullopt},
      {MessageVerdict::bad_signature, true, false, std::nullopt},
      {MessageVerdict::wrong_proposer, false, false, std::nullopt},
      {MessageVerdict::round_too_far, false, false, std::nullopt},
      {MessageVerdict::invalid_block, false, false, std::nullopt},
      {MessageVerdict::equivocation, false, false, std::nullopt},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(consensus::to_string(row.verdict));
    const ConsensusReply reply = consensus_reply(row.verdict, vote7);
    EXPECT_EQ(reply.disconnect, row.disconnect);
    EXPECT_EQ(reply.request_blocks, row.request_blocks);
    EXPECT_EQ(reply.peer_at_least, row.peer_at_least);
  }
  // A future message that names no height (height 0) still asks for blocks
  // but claims nothing about the peer.
  const ConsensusReply no_height =
      consensus_reply(MessageVerdict::future_height, vote_message(c, 0).consensus());
  EXPECT_TRUE(no_height.request_blocks);
  EXPECT_FALSE(no_height.peer_at_least);
}

}  // namespace
}  // namespace baton::node

// The partner agent's transactions, signed by the node at most once
// (node/agent_signer.h), and what the agent is shown of the committed state
// (node/committed_views.h): pure logic, with the node's side in memory.
#include <gtest/gtest.h>

#include <set>

#include "chain/transaction.h"
#include "node/agent_signer.h"
#include "node/committed_views.h"

namespace baton::node {
namespace {

struct MemoryNodeSide {
  std::uint64_t next = 1;
  bool busy = false;
  std::set<chain::Hash> known;  // waiting in the mempool or committed
  std::vector<chain::pb::Transaction> submitted;

  AgentSignerPorts ports() {
    return AgentSignerPorts{[this](const chain::PublicKey&) -> std::optional<std::uint64_t> {
                              if (busy) return std::nullopt;
                              return next;
                            },
                            [this](std::string bytes) {
                              chain::pb::Transaction tx;
                              EXPECT_TRUE(tx.ParseFromString(bytes));
                              submitted.push_back(tx);
                              SubmitOutcome out;
                              out.accepted = true;
                              out.hash = chain::tx_hash(bytes);
                              out.nonce = next++;
                              known.insert(out.hash);
                              return out;
                            },
                            [this](const chain::Hash& h) { return known.contains(h); }};
  }
};

TEST(AgentSigner, SignsTheSamePayloadOnceWhileItsTransactionIsKnown) {
  const chain::SigningKey key = chain::SigningKey::generate();
  MemoryNodeSide side;
  AgentSigner signer(key, chain::NetworkId{"test-chain", chain::Hash{}}, side.ports());
  const SubmitOutcome first = signer.sign_and_submit(chain::pb::TX_MODEL_VOTE, "vote");
  ASSERT_TRUE(first.accepted);
  ASSERT_EQ(side.submitted.size(), 1u);
  EXPECT_EQ(side.submitted[0].type(), chain::pb::TX_MODEL_VOTE);
  EXPECT_EQ(side.submitted[0].payload(), "vote");
  EXPECT_EQ(side.submitted[0].nonce(), 1u);

  const SubmitOutcome again = signer.sign_and_submit(chain::pb::TX_MODEL_VOTE, "vote");
  EXPECT_TRUE(again.accepted);
  EXPECT_EQ(again.hash, first.hash);
  EXPECT_EQ(side.submitted.size(), 1u) << "signed a second copy of the same payload";

  // Another type or payload is another transaction.
  EXPECT_NE(signer.sign_and_submit(chain::pb::TX_SAVE_REQUEST, "vote").hash, first.hash);
  EXPECT_NE(signer.sign_and_submit(chain::pb::TX_MODEL_VOTE, "other").hash, first.hash);
  EXPECT_EQ(side.submitted.size(), 3u);

  // Dropped from the mempool and never committed: signed afresh.
  side.known.erase(first.hash);
  const SubmitOutcome fresh = signer.sign_and_submit(chain::pb::TX_MODEL_VOTE, "vote");
  ASSERT_TRUE(fresh.accepted);
  EXPECT_NE(fresh.hash, first.hash);
  EXPECT_EQ(side.submitted.back().nonce(), 4u);
}

TEST(AgentSigner, ABusyNodeSignsNothingAndSaysRetry) {
  const chain::SigningKey key = chain::SigningKey::generate();
  MemoryNodeSide side;
  side.busy = true;
  AgentSigner signer(key, chain::NetworkId{"test-chain", chain::Hash{}}, side.ports());
  const SubmitOutcome out = signer.sign_and_submit(chain::pb::TX_MODEL_VOTE, "vote");
  EXPECT_FALSE(out.accepted);
  EXPECT_TRUE(out.busy);
  EXPECT_TRUE(side.submitted.empty());
  // Nothing was remembered: once the node answers, it is signed.
  side.busy = false;
  EXPECT_TRUE(signer.sign_and_submit(chain::pb::TX_MODEL_VOTE, "vote").accepted);
  EXPECT_EQ(side.submitted.size(), 1u);
}

std::shared_ptr<const chain::LedgerState> state_at(std::uint64_t height) {
  auto s = std::make_shared<chain::LedgerState>(chain::initial_state(chain::Hash{}));
  s->height = height;
  return s;
}

TEST(CommittedViews, TheAgentSeesACommitOnlyWithinTheSyncSlackOfTheBestPeer) {
  CommittedViews views;
  views.publish_replayed(state_at(10));
  EXPECT_EQ(views.agent_view().height, 10u);
  EXPECT_EQ(views.committed_state()->height, 10u);

  struct Row {
    std::uint64_t height;
    std::uint64_t best_peer;
    bool agent_moves;
  };
  const Row rows[] = {
      {11, 0, true},                                      // no peer known
      {12, 12, true},                                     // level with the peers
      {13, 13 + CommittedViews::kAgentSyncSlack, true},   // at the slack
      {14, 15 + CommittedViews::kAgentSyncSlack, false},  // syncing, far behind: history
      {15, 16, true},                                     // caught up again
  };
  std::uint64_t agent_height = 10;
  for (const Row& r : rows) {
    EXPECT_EQ(views.publish_commit(state_at(r.height), r.best_peer), r.agent_moves)
        << "height " << r.height << " best peer " << r.best_peer;
    if (r.agent_moves) agent_height = r.height;
    EXPECT_EQ(views.agent_view().height, agent_height);
    EXPECT_EQ(views.agent_view().state->height, agent_height);
    EXPECT_EQ(views.committed_state()->height, r.height) << "the tip is always published";
  }
}

}  // namespace
}  // namespace baton::node

// Accounts (issue 13, docs/PROTOCOL.md "Accounts and escrow"): genesis
// allocations, transfers and the ledger's refusals, the state encoding and
// its decoder, and the account history read back from the blocks. Every
// refusal is played by a member trying to take credits it does not hold.
#include <limits>

#include <gtest/gtest.h>

#include "chain/account_history.h"
#include "chain/encoding.h"
#include "chain/training_decode.h"
#include "economy_fixture.h"

namespace baton::chain::testing {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// A four-member protocol chain whose genesis allocates `balances`.
void allocate(ProtocolChain& p, std::vector<std::uint64_t> balances) {
  use_genesis(p, genesis_with(std::move(balances)));
}

TEST(Accounts, GenesisAllocationsAreCreditedAtBlockOneAndHashedUnderV3) {
  ProtocolChain p;
  allocate(p, {1000, 0, 250, 0});
  p.empty_blocks(1);
  const Accounts& a = p.training().accounts;
  EXPECT_EQ(a.balance("alice"), 1000u);
  EXPECT_EQ(a.balance("carol"), 250u);
  EXPECT_EQ(a.balance("bob"), 0u);
  EXPECT_EQ(a.balances.size(), 2u);  // zero balances are not kept
  // The state ends with the accounts and is hashed under v3.
  Bytes tail;
  append_accounts_encoding(tail, a);
  const Bytes enc = state_encoding(p.chain.state);
  ASSERT_GE(enc.size(), tail.size());
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), enc.end() - tail.size()));
  EXPECT_EQ(state_hash(kChainId, p.chain.state),
            sha256(domain_separated(kStateDomainV3, kChainId, enc)));
}

TEST(Accounts, AGenesisWithoutBalancesKeepsItsFileAndItsV1StateHash) {
  const std::string text = encode_genesis(fixed_genesis());
  EXPECT_EQ(text.find("\"balance\""), std::string::npos);
  ProtocolChain p;
  p.empty_blocks(1);
  EXPECT_TRUE(p.training().empty());
  EXPECT_EQ(state_hash(kChainId, p.chain.state),
            sha256(domain_separated(kStateDomain, kChainId, state_encoding(p.chain.state))));
}

TEST(Accounts, GenesisBalancesRoundTripAndMustFitInSixtyFourBits) {
  Genesis g = fixed_genesis();
  g.members[1].balance = 42;
  auto parsed = parse_genesis(encode_genesis(g));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->members[1].balance, 42u);
  EXPECT_EQ(parsed->members[0].balance, 0u);

  g.members[0].balance = kMax;  // kMax + 42 overflows
  auto too_much = parse_genesis(encode_genesis(g));
  ASSERT_FALSE(too_much);
  EXPECT_NE(too_much.error().message.find("balances add up"), std::string::npos);

  std::string text = encode_genesis(fixed_genesis());
  const auto at = text.find("\"roles\"");
  ASSERT_NE(at, std::string::npos);
  for (const char* bad : {"\"balance\": -5, ", "\"balance\": 1.5, ", "\"balance\": \"10\", "}) {
    std::string edited = text;
    edited.insert(at, bad);
    auto r = parse_genesis(edited);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("balance must be a non-negative integer"), std::string::npos)
        << r.error().message;
  }
}

TEST(Accounts, ATransferMovesCreditsAndAnEmptiedAccountLeavesTheState) {
  ProtocolChain p;
  allocate(p, {100, 5, 0, 0});
  p.empty_blocks(1);  // the allocations are credited at block 1
  p.commit(transfer(p, 0, "carol", 60));
  p.commit(transfer(p, 1, "carol", 5));
  const Accounts& a = p.training().accounts;
  EXPECT_EQ(a.balance("alice"), 40u);
  EXPECT_EQ(a.balance("carol"), 65u);
  EXPECT_FALSE(a.balances.contains("bob"));
  EXPECT_EQ(p.chain.state.tx_count, 2u);
  // A transfer to oneself is accepted and changes nothing.
  p.commit(transfer(p, 0, "alice", 40));
  EXPECT_EQ(p.training().accounts.balance("alice"), 40u);
}

// Each row: a member trying to move credits it may not. The block includes
// the transaction, its nonce is spent, and nothing but the refusal log changes
// (ProtocolChain::refusal checks all three).
TEST(Accounts, TheLedgerRefusesEveryTransferThatWouldTakeWhatIsNotThere) {
  struct Row {
    const char* what;
    std::size_t from;
    std::string to;
    std::uint64_t amount;
    ProtocolRejected reason;
  };
  const Row rows[] = {
      {"one credit more than the balance", 0, "bob", 101, ProtocolRejected::insufficient_balance},
      {"the largest amount", 0, "bob", kMax, ProtocolRejected::insufficient_balance},
      {"from an empty account", 2, "alice", 1, ProtocolRejected::insufficient_balance},
      {"to a name outside the genesis", 0, "mallory", 1, ProtocolRejected::unknown_recipient},
      {"to the empty name", 0, "", 1, ProtocolRejected::unknown_recipient},
      {"zero credits", 0, "bob", 0, ProtocolRejected::zero_amount},
      {"zero credits from an empty account", 3, "bob", 0, ProtocolRejected::zero_amount},
  };
  for (const Row& row : rows) {
    ProtocolChain p;
    allocate(p, {100, 7, 0, 0});
    p.empty_blocks(1);
    EXPECT_EQ(p.refusal(transfer(p, row.from, row.to, row.amount)), row.reason) << row.what;
    const pb::Transaction t = transfer(p, row.from, row.to, row.amount);
    EXPECT_EQ(p.commit_refused(t), row.reason) << row.what;
    EXPECT_EQ(p.training().accounts.balance("alice"), 100u) << row.what;
    EXPECT_EQ(p.training().accounts.balance("bob"), 7u) << row.what;
    const Refusal* r = find_refusal(p.training(), tx_hash(encode_transaction(t)));
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->run_id, "");  // kept in the training state's own log
    EXPECT_EQ(p.training().refusals.total, 1u);
  }
}

// check_protocol_tx answers for the next block, and block 1 begins by
// crediting the genesis allocations and starting the genesis plan's run: on
// the state before block 1 (nothing credited, no run yet) it must see both,
// as validate_block does, or it calls a block-1 transfer an overdraft and a
// block-1 LoadRequest of the genesis run a request to no run.
TEST(Accounts, CheckProtocolTxBeforeBlockOneSeesTheGenesisAllocationsAndRun) {
  ProtocolChain p;
  Genesis g = fixed_genesis();
  g.members[0].balance = 100;
  g.training_plan = test_plan(4);
  p.chain.genesis_text = encode_genesis(g);
  p.chain.spec = load_chain_spec(p.chain.genesis_text).value();
  p.chain.state = initial_state(p.chain.spec.genesis_hash);
  ASSERT_EQ(p.chain.state.height, 0u);
  ASSERT_TRUE(p.training().accounts.empty());
  const pb::Transaction pay = transfer(p, 0, "bob", 60);
  const pb::Transaction load = p.load_request(0, 0, std::nullopt);
  EXPECT_EQ(check_protocol_tx(p.chain.spec, p.chain.state, pay), std::nullopt);
  EXPECT_EQ(check_protocol_tx(p.chain.spec, p.chain.state, load), std::nullopt);
  // refusal() also checks the verdict of a refusal against a validated block 1.
  EXPECT_EQ(p.refusal(transfer(p, 0, "bob", 101)), ProtocolRejected::insufficient_balance);
  // Block 1 applies both as check_protocol_tx said.
  p.spent(pay);
  const pb::Transaction load_next = p.load_request(0, 0, std::nullopt);
  p.spent(load_next);
  p.append({encode_transaction(pay), encode_transaction(load_next)});
  EXPECT_EQ(p.training().accounts.balance("bob"), 60u);
  EXPECT_EQ(p.turn().phase, TurnPhase::load_voting);
  EXPECT_EQ(p.training().refusals.total + p.run().refusals.total, 0u);
  // From block 2 on it reads the state as it stands.
  EXPECT_EQ(p.refusal(transfer(p, 0, "bob", 41)), ProtocolRejected::insufficient_balance);
}

TEST(Accounts, TwoTransfersInOneBlockCannotSpendTheSameCreditsTwice) {
  ProtocolChain p;
  allocate(p, {100, 0, 0, 0});
  p.empty_blocks(1);
  const pb::Transaction first = transfer(p, 0, "bob", 70);
  p.spent(first);
  const pb::Transaction second = transfer(p, 0, "carol", 70);
  p.spent(second);
  p.append({encode_transaction(first), encode_transaction(second)});
  EXPECT_EQ(p.training().accounts.balance("alice"), 30u);
  EXPECT_EQ(p.training().accounts.balance("bob"), 70u);
  EXPECT_EQ(p.training().accounts.balance("carol"), 0u);
  const Refusal* r = find_refusal(p.training(), tx_hash(encode_transaction(second)));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->reason, ProtocolRejected::insufficient_balance);
}

TEST(Accounts, TheDecoderRoundTripsAccountsAndRefusesNonCanonicalOnes) {
  ProtocolChain p;
  allocate(p, {100, 3, 0, 0});
  p.empty_blocks(1);
  const Genesis& g = p.chain.spec.genesis;
  const Bytes good = training_encoding(p.training());
  auto back = decode_training_state(ByteView(good), g);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, p.training());

  // The empty training state and then a hand-made accounts section.
  const Bytes empty_prefix = training_encoding(TrainingState{});
  auto with_accounts = [&](std::vector<std::pair<std::string, std::uint64_t>> entries) {
    Bytes b = empty_prefix;
    append_u32be(b, static_cast<std::uint32_t>(entries.size()));
    for (const auto& [name, bal] : entries) {
      append_u32be(b, static_cast<std::uint32_t>(name.size()));
      append_bytes(b, name);
      append_u64be(b, bal);
    }
    return b;
  };
  EXPECT_TRUE(decode_training_state(ByteView(with_accounts({{"alice", 1}, {"bob", 2}})), g));
  struct Bad {
    const char* what;
    Bytes bytes;
  };
  Bytes huge_count = empty_prefix;
  append_u32be(huge_count, 0xffffffffu);
  const Bad bad[] = {
      {"an empty list", with_accounts({})},
      {"a zero balance", with_accounts({{"alice", 0}})},
      {"names out of order", with_accounts({{"bob", 1}, {"alice", 2}})},
      {"a name twice", with_accounts({{"bob", 1}, {"bob", 2}})},
      {"a non-member", with_accounts({{"mallory", 1}})},
      {"a count the bytes cannot hold", huge_count},
  };
  for (const Bad& b : bad) EXPECT_FALSE(decode_training_state(ByteView(b.bytes), g)) << b.what;
}

TEST(Accounts, TheHistoryReadFromTheBlocksListsEveryCreditAndDebit) {
  ProtocolChain p;
  allocate(p, {100, 0, 20, 0});
  p.empty_blocks(1);
  const Hash t1 = p.commit(transfer(p, 0, "bob", 30));    // block 2
  p.commit_refused(transfer(p, 1, "dave", 31));           // block 3: bob holds 30
  const Hash t2 = p.commit(transfer(p, 1, "carol", 10));  // block 4

  auto replay = [&](const std::string& member) {
    AccountHistory history(p.chain.spec, member);
    LedgerState state = initial_state(p.chain.spec.genesis_hash);
    for (const std::string& stored : p.blocks) {
      auto committed = decode_committed_block(stored).value();
      auto decoded = check_block_stateless(p.chain.spec, committed).value();
      state = history.apply(state, decoded).value();
    }
    EXPECT_EQ(state, p.chain.state);
    return history.entries();
  };
  const auto bob = replay("bob");
  ASSERT_EQ(bob.size(), 2u);
  EXPECT_EQ(bob[0], (AccountEntry{2, "bob", true, 30, 30, "transfer", "alice", t1}));
  EXPECT_EQ(bob[1], (AccountEntry{4, "bob", false, 10, 20, "transfer", "carol", t2}));
  const auto all = replay("");
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[0], (AccountEntry{1, "alice", true, 100, 100, "genesis", "genesis", {}}));
  EXPECT_EQ(all[1], (AccountEntry{1, "carol", true, 20, 20, "genesis", "genesis", {}}));
  EXPECT_EQ(all[2], (AccountEntry{2, "alice", false, 30, 70, "transfer", "bob", t1}));
  EXPECT_EQ(all[5], (AccountEntry{4, "carol", true, 10, 30, "transfer", "bob", t2}));
}

}  // namespace
}  // namespace baton::chain::testing

// The accounts, escrow and key-grant transactions of issue 13 for a
// ProtocolChain (docs/PROTOCOL.md §19), shared by the chain tests that move
// credits: a genesis with allocations and a sponsor, an escrow plan, and one
// builder per transaction type. Pure, like protocol_fixture.h.
#pragma once

#include <string>
#include <vector>

#include "protocol_fixture.h"

namespace baton::chain::testing {

// Dave (index 3) is the sponsor in sponsor_genesis.
inline constexpr std::size_t kAlice = 0, kBob = 1, kCarol = 2, kDave = 3;

// Replaces the chain's genesis by `g` (before any block; block 1 then credits
// its allocations).
inline void use_genesis(ProtocolChain& p, const Genesis& g) {
  p.chain.genesis_text = encode_genesis(g);
  p.chain.spec = load_chain_spec(p.chain.genesis_text).value();
  p.chain.state = initial_state(p.chain.spec.genesis_hash);
}

// fixed_genesis(`powers`) with member i allocated balances[i] credits.
inline Genesis genesis_with(std::vector<std::uint64_t> balances,
                            std::vector<std::uint64_t> powers = {1, 1, 1, 1}) {
  Genesis g = fixed_genesis(std::move(powers));
  for (std::size_t i = 0; i < balances.size(); ++i) g.members[i].balance = balances[i];
  return g;
}

// Alice, bob and carol train and vote; dave (power 0) is the sponsor.
inline Genesis sponsor_genesis(std::vector<std::uint64_t> balances) {
  Genesis g = genesis_with(std::move(balances), {1, 1, 1, 0});
  g.members[kDave].roles = {"sponsor"};
  return g;
}

// A three-partner plan sponsored by dave that waits for `min_escrow` credits
// (6 blocks for them when > 0) and gives dave 5 blocks after the end to release.
inline TrainingPlan escrow_plan(std::uint64_t min_escrow = 0) {
  TrainingPlan plan = test_plan(3);
  plan.sponsor = "dave";
  plan.min_escrow = min_escrow;
  plan.funding_deadline_blocks = min_escrow > 0 ? 6 : 0;
  plan.release_deadline_blocks = 5;
  return plan;
}

inline pb::Transaction transfer(ProtocolChain& p, std::size_t from, const std::string& to,
                                std::uint64_t amount) {
  pb::Transfer t;
  t.set_to(to);
  t.set_amount(amount);
  return p.tx(from, pb::TX_TRANSFER, t);
}

inline pb::Transaction fund(ProtocolChain& p, std::size_t from, std::uint64_t amount,
                            const std::string& run = "run-1") {
  pb::FundRun f;
  f.set_run_id(run);
  f.set_amount(amount);
  return p.tx(from, pb::TX_FUND_RUN, f);
}

inline pb::Transaction release(ProtocolChain& p, std::size_t from,
                               const std::string& run = "run-1") {
  pb::ReleaseEscrow r;
  r.set_run_id(run);
  return p.tx(from, pb::TX_RELEASE_ESCROW, r);
}

// A KeyGrant of `model` claiming `commitment`, with a sealed key of
// `sealed_bytes` bytes of `fill` (the ledger cannot open it, only size it).
inline pb::Transaction key_grant(ProtocolChain& p, std::size_t from, const Hash& model,
                                 const Hash& commitment, const std::string& recipient = "dave",
                                 std::size_t sealed_bytes = kWrappedKeyBytes, char fill = 'k') {
  pb::KeyGrant g;
  g.set_run_id("run-1");
  g.set_model_id(hash_bytes(model));
  g.set_recipient(recipient);
  g.set_wrapped_key(std::string(sealed_bytes, fill));
  g.set_key_commitment(hash_bytes(commitment));
  return p.tx(from, pb::TX_KEY_GRANT, g);
}

}  // namespace baton::chain::testing

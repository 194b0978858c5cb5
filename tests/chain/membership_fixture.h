// A TestChain whose members change by vote (issue 18, docs/PROTOCOL.md §25):
// signs MemberChange and KeyRotation transactions with real keys (the four
// fixed members and newcomers), proposes each block with a validator of the
// current set and seals it with the current set's keys, as a node would.
// Pure: no disk, no threads.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chain/membership.h"
#include "chain/membership_steps.h"
#include "chain/protocol.h"
#include "chain_fixture.h"

namespace baton::chain::testing {

// A newcomer's keys (seeds far from the fixed members').
inline MemberSecretKeys newcomer(const std::string& name, std::uint8_t index) {
  return fixed_member(name, static_cast<std::uint8_t>(0x40 + index));
}

inline std::string key_string(const PublicKey& k) { return {k.bytes.begin(), k.bytes.end()}; }
inline std::string key_string(const X25519PublicKey& k) { return {k.bytes.begin(), k.bytes.end()}; }

struct MemberChain {
  TestChain chain;
  std::map<PublicKey, SigningKey> keys;        // every key the test holds
  std::map<PublicKey, std::uint64_t> planned;  // next nonce, counting unsent transactions
  std::vector<std::string> blocks;             // the stored bytes of every appended block

  explicit MemberChain(std::vector<std::uint64_t> powers = {1, 1, 1, 1}) : chain(powers) {
    for (const auto& m : chain.members) keys.emplace(m.signing.public_key(), m.signing);
  }

  const SigningKey& key(std::size_t i) const { return chain.key(i); }
  void hold(const SigningKey& k) { keys.emplace(k.public_key(), k); }

  const ValidatorSet& validators() const { return current_validators(chain.spec, chain.state); }
  const std::vector<GenesisMember>& members() const {
    return current_members(chain.spec, chain.state);
  }
  const GenesisMember* member(std::string_view name) const {
    for (const auto& m : members())
      if (m.name == name) return &m;
    return nullptr;
  }
  std::uint64_t height() const { return chain.state.height; }

  // A signed transaction from `k` with its next nonce (counting the ones
  // built before and not yet committed).
  pb::Transaction tx(const SigningKey& k, pb::TxType type, const std::string& payload) {
    std::uint64_t& next = planned[k.public_key()];
    next = std::max(next, chain.state.next_nonce(k.public_key()));
    return make_transaction(chain.spec.network(), k, next++, type, payload);
  }

  static pb::MemberChange add_change(const MemberSecretKeys& who, std::uint64_t expires,
                                     std::uint64_t power = 1,
                                     std::vector<std::string> roles = {"validator", "partner"}) {
    pb::MemberChange c;
    c.set_kind(pb::MemberChange::ADD);
    c.set_name(who.name);
    c.set_ed25519(key_string(who.signing.public_key()));
    c.set_x25519(key_string(who.x25519.public_key()));
    c.set_p2p_address("10.0.0.9:26656");
    c.set_power(power);
    for (auto& r : roles) c.add_roles(r);
    c.set_expires_at_height(expires);
    return c;
  }
  static pb::MemberChange remove_change(const std::string& name, std::uint64_t expires) {
    pb::MemberChange c;
    c.set_kind(pb::MemberChange::REMOVE);
    c.set_name(name);
    c.set_expires_at_height(expires);
    return c;
  }
  pb::Transaction change(const SigningKey& k, const pb::MemberChange& c) {
    return tx(k, pb::TX_MEMBER_CHANGE, c.SerializeAsString());
  }
  pb::Transaction rotation(const SigningKey& old_key, const SigningKey& new_key,
                           const X25519PublicKey& new_x) {
    return tx(old_key, pb::TX_KEY_ROTATION,
              make_key_rotation(chain.spec.network(), old_key.public_key(), new_key, new_x)
                  .SerializeAsString());
  }

  // The block holding `txs` on top of the tip, proposed by the first current
  // validator the test holds a key of and sealed by `signers` (default: every
  // current validator the test holds a key of).
  Verdict<pb::CommittedBlock, BlockFault> build(
      const std::vector<pb::Transaction>& txs,
      std::optional<std::vector<PublicKey>> signers = std::nullopt) {
    std::vector<std::string> bytes;
    for (const auto& t : txs) bytes.push_back(encode_transaction(t));
    const PublicKey* proposer = nullptr;
    for (const auto& v : validators().members())
      if (v.power > 0 && keys.contains(v.key)) {
        proposer = &v.key;
        break;
      }
    if (proposer == nullptr) ADD_FAILURE() << "no validator key held";
    auto p = propose_block(chain.spec, chain.state,
                           1795996800000 + static_cast<std::int64_t>(height()) * 1000, *proposer,
                           std::move(bytes));
    if (!p) return p.reason();
    if (!signers) {
      signers.emplace();
      for (const auto& v : validators().members())
        if (v.power > 0 && keys.contains(v.key)) signers->push_back(v.key);
    }
    const auto header = decode_header(p->block.header()).value();
    std::vector<pb::Vote> votes;
    for (const auto& s : *signers)
      votes.push_back(
          sign_vote(chain.spec.network(), keys.at(s), pb::PRECOMMIT, header.height(), 0, p->id));
    pb::CommittedBlock out;
    *out.mutable_block() = p->block;
    *out.mutable_commit() = make_commit(header.height(), 0, p->id, votes);
    return out;
  }

  // Builds, validates and adopts a block holding `txs`; fails the test if
  // anything refuses it.
  void append(const std::vector<pb::Transaction>& txs) {
    auto block = build(txs);
    ASSERT_TRUE(block.ok()) << block.reason().message();
    auto after = validate_block(chain.spec, chain.state, *block);
    ASSERT_TRUE(after.ok()) << after.reason().message();
    chain.state = std::move(after).value();
    blocks.push_back(encode_committed_block(*block));
  }
  void empty_blocks(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) append({});
  }

  // Commits `t` alone and returns the reason the ledger recorded for
  // refusing it (nullopt when it took effect). Also checks that
  // check_protocol_tx foresaw the same verdict.
  std::optional<ProtocolRejected> commit(const pb::Transaction& t) {
    const auto foreseen = check_protocol_tx(chain.spec, chain.state, t);
    append({t});
    const Refusal* r = find_refusal(chain.state.training, tx_hash(encode_transaction(t)));
    const auto got = r ? std::optional(r->reason) : std::nullopt;
    EXPECT_EQ(foreseen, got);
    return got;
  }
};

}  // namespace baton::chain::testing

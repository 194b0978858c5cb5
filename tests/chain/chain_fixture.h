// A four-member test chain with fixed keys (Ed25519 seeds 0x01.., X25519
// secrets 0x11..), the same as tests/chain/golden_vectors.py, and helpers to
// build, seal and tamper with blocks. Pure: no disk, no threads.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "chain/block.h"
#include "chain/chain_spec.h"
#include "chain/genesis.h"
#include "chain/keys.h"
#include "chain/transaction.h"
#include "chain/validation.h"
#include "chain/vote.h"

namespace baton::chain::testing {

inline constexpr char kChainId[] = "baton-test";

inline MemberSecretKeys fixed_member(const std::string& name, std::uint8_t index) {
  const Bytes seed(32, static_cast<std::uint8_t>(index + 1));
  const Bytes x(32, static_cast<std::uint8_t>(0x11 + index));
  return MemberSecretKeys{name, SigningKey::from_seed(seed).value(),
                          X25519SecretKey::from_bytes(x).value()};
}

// A key that is not in the genesis.
inline SigningKey outsider_key() { return SigningKey::from_seed(Bytes(32, 0x99)).value(); }

inline Genesis fixed_genesis(std::vector<std::uint64_t> powers = {1, 1, 1, 1}) {
  static const char* kNames[] = {"alice", "bob", "carol", "dave"};
  Genesis g;
  g.chain_id = kChainId;
  g.genesis_time_unix_ms = parse_rfc3339_ms("2026-11-24T00:00:00Z").value();
  for (std::size_t i = 0; i < powers.size(); ++i) {
    const auto keys = fixed_member(kNames[i], static_cast<std::uint8_t>(i));
    GenesisMember m;
    m.name = keys.name;
    m.ed25519 = keys.signing.public_key();
    m.x25519 = keys.x25519.public_key();
    m.p2p_address = "127.0.0.1:" + std::to_string(26601 + i);
    m.power = powers[i];
    if (i == 0) m.roles.push_back("admin");
    if (powers[i] > 0) m.roles.push_back("validator");
    m.roles.push_back("partner");
    g.members.push_back(std::move(m));
  }
  return g;
}

struct TestChain {
  std::vector<MemberSecretKeys> members;
  std::string genesis_text;
  ChainSpec spec;
  LedgerState state;  // the tip after the blocks appended with append()

  explicit TestChain(std::vector<std::uint64_t> powers = {1, 1, 1, 1})
      : genesis_text(encode_genesis(fixed_genesis(powers))),
        spec(load_chain_spec(genesis_text).value()),
        state(initial_state(spec.genesis_hash)) {
    static const char* kNames[] = {"alice", "bob", "carol", "dave"};
    for (std::size_t i = 0; i < powers.size(); ++i)
      members.push_back(fixed_member(kNames[i], static_cast<std::uint8_t>(i)));
  }

  const SigningKey& key(std::size_t i) const { return members[i].signing; }

  std::string note(std::size_t sender, std::uint64_t nonce,
                   const std::string& text = "a note") const {
    return encode_transaction(make_note(spec.network(), key(sender), nonce, text));
  }

  // Signs a commit for `block` at its header height with the given members'
  // precommits.
  pb::CommittedBlock seal(const pb::Block& block,
                          std::initializer_list<std::size_t> signers = {0, 1, 2, 3},
                          std::uint32_t round = 0) const {
    const auto header = decode_header(block.header()).value();
    const Hash id = block_id(block);
    std::vector<pb::Vote> votes;
    for (auto i : signers)
      votes.push_back(sign_vote(spec.network(), key(i), pb::PRECOMMIT, header.height(), round, id));
    pb::CommittedBlock out;
    *out.mutable_block() = block;
    *out.mutable_commit() = make_commit(header.height(), round, id, votes);
    return out;
  }

  // A proposal by alice on top of `state`; aborts (test bug) if refused.
  Proposal propose(std::vector<std::string> txs, std::vector<std::string> evidence = {}) const {
    return propose_block(spec, state,
                         1795996800000 + static_cast<std::int64_t>(state.height) * 1000,
                         key(0).public_key(), std::move(txs), std::move(evidence))
        .value();
  }

  // Proposes, seals and applies a block, advancing `state`.
  pb::CommittedBlock append(std::vector<std::string> txs, std::vector<std::string> evidence = {}) {
    auto p = propose(std::move(txs), std::move(evidence));
    auto committed = seal(p.block);
    state = validate_block(spec, state, committed).value();
    return committed;
  }

  // Header fields of the block that would follow `state`, with the
  // app_state_hash of `after` (defaults to the state itself).
  HeaderFields next_fields(const Hash& app_state_hash) const {
    return HeaderFields{kChainId,       state.height + 1,   1795996800000, state.last_block_id,
                        app_state_hash, key(0).public_key()};
  }
};

// Another consortium with the same chain id and the same member keys, whose
// genesis differs by one millisecond of genesis_time: a different genesis
// hash, so a different network for every signature.
inline TestChain same_chain_id_other_genesis() {
  TestChain other;
  Genesis g = fixed_genesis();
  g.genesis_time_unix_ms += 1;
  other.genesis_text = encode_genesis(g);
  other.spec = load_chain_spec(other.genesis_text).value();
  other.state = initial_state(other.spec.genesis_hash);
  return other;
}

// Re-serializes a header after `edit` and returns the block with it.
template <class Edit>
pb::Block with_header(pb::Block block, Edit edit) {
  auto h = decode_header(block.header()).value();
  edit(h);
  block.set_header(h.SerializeAsString());
  return block;
}

}  // namespace baton::chain::testing

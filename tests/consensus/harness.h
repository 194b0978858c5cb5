// Helpers for stepping consensus engines by hand: deterministic validator
// keys, signed proposals and votes made outside any engine, and a node
// bundle (app + signer store + signer + engine) that can be rebuilt as after
// a crash.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <tuple>
#include <string>
#include <vector>

#include "consensus/engine.h"
#include "consensus/messages.h"
#include "tests/consensus/sim/chain_app.h"

namespace baton::consensus::testing {

// The network the test validators sign for: chain id "test-chain" and a
// made-up genesis hash (the test application's chain starts from it).
inline const chain::NetworkId kChain{"test-chain",
                                     chain::sha256(std::string_view("test-chain/genesis"))};

inline chain::SigningKey key_for(int i) {
  chain::Bytes seed(32, 0);
  seed[0] = static_cast<std::uint8_t>(i + 1);
  seed[1] = 0x5a;
  return chain::SigningKey::from_seed(seed).value();
}

inline ValidatorSet make_validators(const std::vector<std::uint64_t>& powers) {
  std::vector<Validator> v;
  for (std::size_t i = 0; i < powers.size(); ++i)
    v.push_back(Validator{key_for(static_cast<int>(i)).public_key(), powers[i]});
  return ValidatorSet(std::move(v));
}

inline std::string str(const chain::Hash& h) { return std::string(h.bytes.begin(), h.bytes.end()); }

inline pb::ConsensusMessage vote_msg(int signer, chain::pb::VoteType type, std::uint64_t h,
                                     std::uint32_t r, const std::optional<chain::Hash>& id) {
  pb::ConsensusMessage m;
  *m.mutable_vote() = chain::sign_vote(kChain, key_for(signer), type, h, r, id);
  return m;
}

inline pb::ConsensusMessage proposal_msg(int signer, std::uint64_t h, std::uint32_t r,
                                         std::int32_t pol, const std::string& block) {
  const auto key = key_for(signer);
  const auto id = block_id_of(block).value();
  pb::ConsensusMessage m;
  auto* p = m.mutable_proposal();
  p->set_height(h);
  p->set_round(r);
  p->set_pol_round(pol);
  p->set_block(block);
  p->set_proposer(std::string(key.public_key().bytes.begin(), key.public_key().bytes.end()));
  const auto sig = key.sign(proposal_sign_bytes(kChain, h, r, pol, id));
  p->set_signature(std::string(sig.bytes.begin(), sig.bytes.end()));
  return m;
}

// Does the signer record `r` cover `m`, a message this validator signed:
// is m's (height, round, step) at or below r's, with r's value when equal?
// The signer refuses anything a covering record does not allow.
inline bool record_covers(const std::optional<pb::SignerState>& r, const pb::ConsensusMessage& m) {
  if (!r) return false;
  std::uint64_t h = 0;
  std::uint32_t round = 0, step = 0;
  std::string value;
  if (m.has_vote()) {
    h = m.vote().height();
    round = m.vote().round();
    step = m.vote().type() == chain::pb::PREVOTE ? static_cast<std::uint32_t>(SignStep::prevote)
                                                 : static_cast<std::uint32_t>(SignStep::precommit);
    value = m.vote().block_id();
  } else {
    h = m.proposal().height();
    round = m.proposal().round();
    step = static_cast<std::uint32_t>(SignStep::proposal);
    value = str(block_id_of(m.proposal().block()).value());
  }
  const auto at = std::make_tuple(h, round, step);
  const auto last = std::make_tuple(r->height(), r->round(), r->step());
  return at < last || (at == last && r->block_id() == value);
}

inline EngineOptions test_options() {
  EngineOptions o;
  o.network = kChain;
  o.timeouts = TimeoutOptions{1000, 500, 400, 200, 300, 100, 0};
  return o;
}

// One validator's node: everything that survives a crash (app chain, signer
// store, last checkpoint) plus the engine and signer, which restart() rebuilds.
// take() carries an output out as node/'s driver does: the signer record and
// the checkpoint are written before any message counts as sent.
struct TestNode {
  TestNode(int index, ValidatorSet validators, EngineOptions options = test_options())
      : index(index),
        validators(std::move(validators)),
        options(std::move(options)),
        app(kChain, key_for(index).public_key()) {
    restart();
  }

  void restart() {
    engine.reset();
    signer = Signer::open(key_for(index), kChain, store).value();
    engine = std::make_unique<Engine>(options, validators, app, signer.get(), app.height() + 1,
                                      checkpoint);
  }

  // Takes the engine's output, writing the signer record and the checkpoint
  // and remembering the decision. Aborts if a message this validator signed
  // is not covered by the record written by then.
  Output take() {
    Output out = engine->take_output();
    if (out.signer_state && !store.save(*out.signer_state)) std::abort();
    if (out.checkpoint) checkpoint = out.checkpoint;
    const auto written = store.load().value();
    const auto me = key_for(index).public_key();
    const std::string me_bytes(me.bytes.begin(), me.bytes.end());
    for (const auto& m : out.messages) {
      const bool mine =
          m.has_vote() ? m.vote().validator() == me_bytes : m.proposal().proposer() == me_bytes;
      if (mine && !record_covers(written, m)) {
        std::fprintf(stderr,
                     "validator %d would send a message its written signer record does "
                     "not cover\n",
                     index);
        std::abort();  // the engine broke its output contract (engine.h)
      }
    }
    if (out.decision) {
      if (!app.append(sim::CommittedEntry{out.decision->block_id, out.decision->block,
                                          out.decision->commit}))
        std::abort();
      decisions.push_back(*out.decision);
    }
    return out;
  }

  int index;
  ValidatorSet validators;
  EngineOptions options;
  sim::ChainApp app;
  MemorySignerStateStore store;
  std::optional<pb::EngineCheckpoint> checkpoint;
  std::unique_ptr<Signer> signer;
  std::unique_ptr<Engine> engine;
  std::vector<Decision> decisions;
};

// Finds the first own vote of `type` in `out`.
inline std::optional<chain::pb::Vote> find_vote(const Output& out, chain::pb::VoteType type) {
  for (const auto& m : out.messages) {
    if (m.has_vote() && m.vote().type() == type) return m.vote();
  }
  return std::nullopt;
}

inline std::optional<Timeout> find_timeout(const Output& out, Step step) {
  for (const auto& t : out.timeouts) {
    if (t.step == step) return t;
  }
  return std::nullopt;
}

}  // namespace baton::consensus::testing

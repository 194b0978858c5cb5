// A TestChain that speaks the training protocol: builds signed protocol
// transactions with per-member nonces and commits them in real blocks
// (propose_block + validate_block), and checks what a refused transaction
// does to a block. Pure: no disk, no threads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chain/protocol.h"
#include "chain_fixture.h"

namespace baton::chain::testing {

// 0-based member index -> name, as in fixed_genesis.
inline std::string member_name(std::size_t i) {
  static const char* kNames[] = {"alice", "bob", "carol", "dave"};
  return kNames[i];
}

inline TrainingPlan test_plan(std::size_t members, std::uint32_t cycles = 1) {
  TrainingPlan p;
  p.run_id = "run-1";
  p.model_spec = R"({"kind":"mlp","hidden":[8]})";
  p.model_spec_hash = sha256(p.model_spec);
  p.feature_columns = {"age", "volume"};
  p.label_column = "survival";
  p.positive_value = "1";
  for (std::size_t i = 0; i < members; ++i) p.partners.push_back(member_name(i));
  p.cycles = cycles;
  p.seed = 7;
  // The shortest deadlines validate_plan allows on the four-member chain:
  // one block per validator.
  p.load_deadline_blocks = 4;
  p.save_deadline_blocks = 5;
  p.vote_deadline_blocks = 4;
  return p;
}

inline Hash fake_hash(std::uint8_t b) {
  Hash h;
  h.bytes.fill(b);
  return h;
}

inline std::string hash_bytes(const std::optional<Hash>& h) {
  return h ? std::string(reinterpret_cast<const char*>(h->bytes.data()), 32) : std::string();
}

struct ProtocolChain {
  TestChain chain;
  std::map<std::size_t, std::uint64_t> nonces;  // member -> next nonce
  std::vector<std::string> blocks;              // the stored bytes of every appended block

  explicit ProtocolChain(std::vector<std::uint64_t> powers = {1, 1, 1, 1})
      : chain(std::move(powers)) {}

  const TrainingState& training() const { return chain.state.training; }
  const Run& run() const { return *training().find_run("run-1"); }
  const Turn& turn() const { return *run().current_turn(); }

  // A signed transaction from member `i` with its next nonce (not consumed until committed).
  pb::Transaction tx(std::size_t i, pb::TxType type, const google::protobuf::Message& payload) {
    const std::uint64_t nonce = nonces.contains(i) ? nonces[i] : 1;
    return make_transaction(chain.spec.network(), chain.key(i), nonce, type,
                            payload.SerializeAsString());
  }

  // Commits `t` in a block of its own; fails the test if the ledger refuses it.
  Hash commit(const pb::Transaction& t) {
    const std::string bytes = encode_transaction(t);
    auto refused = check_protocol_tx(chain.spec, chain.state, t);
    EXPECT_FALSE(refused.has_value()) << to_string(*refused);
    append({bytes});
    spent(t);
    return tx_hash(bytes);
  }

  // Commits `t`, which the ledger refuses, in a block of its own; returns the
  // recorded refusal's reason (nullopt, and a test failure, if none).
  std::optional<ProtocolRejected> commit_refused(const pb::Transaction& t) {
    const std::string bytes = encode_transaction(t);
    append({bytes});
    spent(t);
    const Refusal* r = find_refusal(training(), tx_hash(bytes));
    EXPECT_NE(r, nullptr) << "the transaction was not refused";
    return r ? std::optional(r->reason) : std::nullopt;
  }

  // check_protocol_tx's verdict on `t` for the next block. Also checks, on a
  // block holding `t` (built, sealed and validated but not adopted), that `t`
  // is included and spends its nonce, and that a refusal changes nothing but
  // the refusal logs, which gain exactly that refusal.
  std::optional<ProtocolRejected> refusal(const pb::Transaction& t) {
    auto r = check_protocol_tx(chain.spec, chain.state, t);
    const std::string bytes = encode_transaction(t);
    const LedgerState with = validated({bytes});
    const std::size_t sender = member_of(t);
    EXPECT_EQ(with.next_nonce(chain.key(sender).public_key()), t.nonce() + 1);
    EXPECT_EQ(with.tx_count, chain.state.tx_count + 1);
    if (!r) return r;
    const LedgerState without = validated({});
    EXPECT_EQ(without_refusals(with.training), without_refusals(without.training));
    EXPECT_EQ(refusal_total(with.training), refusal_total(chain.state.training) + 1);
    const Refusal* rec = find_refusal(with.training, tx_hash(bytes));
    EXPECT_NE(rec, nullptr);
    if (rec != nullptr) {
      EXPECT_EQ(rec->reason, *r);
      EXPECT_EQ(rec->height, chain.state.height + 1);
      EXPECT_EQ(rec->type, t.type());
      EXPECT_EQ(rec->sender, member_name(sender));
    }
    return r;
  }

  static TrainingState without_refusals(TrainingState ts) {
    ts.refusals = {};
    for (auto& [id, run] : ts.runs) run.refusals = {};
    return ts;
  }
  static std::uint64_t refusal_total(const TrainingState& ts) {
    std::uint64_t n = ts.refusals.total;
    for (const auto& [id, run] : ts.runs) n += run.refusals.total;
    return n;
  }

  std::size_t member_of(const pb::Transaction& t) const {
    const PublicKey sender = PublicKey::from_bytes(as_bytes(t.sender())).value();
    for (std::size_t i = 0; i < chain.members.size(); ++i)
      if (chain.key(i).public_key() == sender) return i;
    ADD_FAILURE() << "the sender is not a member of the test chain";
    return 0;
  }

  // The block holding `txs` on top of the tip, sealed by the members with
  // voting power only (and only as many members as this chain has).
  pb::CommittedBlock sealed(std::vector<std::string> txs) {
    auto proposal = chain.propose(std::move(txs));
    const auto header = decode_header(proposal.block.header()).value();
    std::vector<pb::Vote> votes;
    for (std::size_t i = 0; i < chain.members.size(); ++i) {
      if (!chain.spec.validators.is_validator(chain.key(i).public_key())) continue;
      votes.push_back(sign_vote(chain.spec.network(), chain.key(i), pb::PRECOMMIT, header.height(),
                                0, proposal.id));
    }
    pb::CommittedBlock committed;
    *committed.mutable_block() = proposal.block;
    *committed.mutable_commit() = make_commit(header.height(), 0, proposal.id, votes);
    return committed;
  }

  // The state after a block holding `txs`, without adopting it.
  LedgerState validated(std::vector<std::string> txs) {
    return validate_block(chain.spec, chain.state, sealed(std::move(txs))).value();
  }

  // Appends a block holding `txs` (nonces are the caller's business).
  void append(std::vector<std::string> txs) {
    const pb::CommittedBlock block = sealed(std::move(txs));
    chain.state = validate_block(chain.spec, chain.state, block).value();
    blocks.push_back(encode_committed_block(block));
  }

  // Records that `t` spent its sender's nonce.
  void spent(const pb::Transaction& t) { nonces[member_of(t)] = t.nonce() + 1; }

  void empty_blocks(std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) append({});
  }

  pb::Transaction start(std::size_t i, const TrainingPlan& plan) {
    return tx(i, pb::TX_START_RUN, plan_to_proto(plan));
  }
  pb::Transaction load_request(std::size_t i, std::uint64_t turn, std::optional<Hash> head) {
    pb::LoadRequest r;
    r.set_run_id("run-1");
    r.set_turn(turn);
    r.set_head_model_id(hash_bytes(head));
    return tx(i, pb::TX_LOAD_REQUEST, r);
  }
  pb::Transaction load_approval(std::size_t i, const Hash& request, bool approve = true) {
    pb::LoadApproval a;
    a.set_run_id("run-1");
    a.set_request_id(hash_bytes(request));
    a.set_approve(approve);
    return tx(i, pb::TX_LOAD_APPROVAL, a);
  }
  // `model`: the model_sha256 to claim (default: one of its own per turn).
  pb::Transaction save_request(std::size_t i, std::uint64_t turn, std::optional<Hash> parent,
                               std::uint8_t tag = 0xaa, std::optional<Hash> model = std::nullopt) {
    pb::SaveRequest r;
    r.set_run_id("run-1");
    r.set_turn(turn);
    r.set_parent_model_id(hash_bytes(parent));
    r.set_object_key("run-1/turn-" + std::to_string(turn));
    r.set_ciphertext_sha256(hash_bytes(fake_hash(tag)));
    // Each turn's model differs (duplicate_model refuses a repeated one):
    // turn 0 keeps fake_hash(tag + 1).
    if (!model) {
      model = fake_hash(tag + 1);
      model->bytes[31] ^= static_cast<std::uint8_t>(turn);
    }
    r.set_model_sha256(hash_bytes(model));
    for (std::size_t m = 0; m < chain.members.size(); ++m) {  // names are already ascending
      // Never the sponsor: it gets the key only by a grant after its release.
      const GenesisMember* member = chain.spec.genesis.find_member(member_name(m));
      if (member != nullptr && member->has_role(kRoleSponsor)) continue;
      r.add_key_recipients(member_name(m));
      r.add_wrapped_keys(std::string(kWrappedKeyBytes, static_cast<char>('a' + m)));
    }
    r.set_train_samples(100);
    r.set_key_commitment(hash_bytes(fake_hash(tag + 2)));
    return tx(i, pb::TX_SAVE_REQUEST, r);
  }
  pb::Transaction model_vote(std::size_t i, const Hash& request, bool approve,
                             std::uint32_t auc_candidate, std::uint32_t auc_head,
                             std::string reason = {}) {
    pb::ModelVote v;
    v.set_run_id("run-1");
    v.set_request_id(hash_bytes(request));
    v.set_approve(approve);
    v.set_auc_candidate_ppm(auc_candidate);
    v.set_auc_head_ppm(auc_head);
    v.set_validation_size(50);
    v.set_reason(std::move(reason));
    return tx(i, pb::TX_MODEL_VOTE, v);
  }

  // Drives the current turn's load phase to its token with approvals from `voters`.
  Hash grant_load(std::size_t partner, std::initializer_list<std::size_t> voters) {
    const Hash req = commit(load_request(partner, turn().index, run().head));
    for (auto v : voters) commit(load_approval(v, req));
    return req;
  }
};

}  // namespace baton::chain::testing

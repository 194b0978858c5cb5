// The adversarial simulation's run: a genesis, the turn loop that drives the
// real ledger block by block, and what is read back (adversary_sim.h). The
// members and their behaviours are in adversary_members.cpp.
#include "agent/adversary_sim.h"

#include <algorithm>

#include "agent/adversary_members.h"
#include "agent/agent_util.h"
#include "agent/model_handoff.h"
#include "agent/save_vote.h"
#include "chain/genesis.h"
#include "chain/protocol.h"
#include "chain/training_plan.h"
#include "chain/transaction.h"
#include "chain/validation.h"
#include "consensus/vote_policy.h"
#include "learning/metrics.h"
#include "learning/model.h"

namespace baton::agent {
namespace {

using namespace sim_detail;
using chain::Hash;
namespace pb = chain::pb;

constexpr std::int64_t kGenesisTimeMs = 1795996800000;  // 2026-12-01T00:00:00Z

std::string bytes_of(const Hash& h) {
  return std::string(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size());
}
std::string bytes_of(const std::optional<Hash>& h) { return h ? bytes_of(*h) : std::string(); }

// The escrow's sponsor when the plan has a submission cost (SimConfig).
constexpr const char* kSponsor = "sponsor";

chain::TrainingPlan make_plan(const learning::PreparedData& data, const SimConfig& c,
                              const std::vector<Member>& members) {
  chain::TrainingPlan p;
  p.run_id = "sim";
  p.model_spec = learning::to_json(sim_spec(data, c));
  p.model_spec_hash = chain::sha256(p.model_spec);
  p.feature_columns = data.train.feature_names;
  p.label_column = "label";
  p.positive_value = "1";
  for (const auto& m : members) p.partners.push_back(m.name);
  p.cycles = c.cycles;
  p.epochs = static_cast<std::uint32_t>(c.train.epochs);
  p.batch_size = static_cast<std::uint32_t>(c.train.batch_size);
  p.optimizer = std::string(learning::optimizer_name(c.train.optimizer));
  p.learning_rate_nano = static_cast<std::uint64_t>(c.train.learning_rate * 1e9 + 0.5);
  p.weight_decay_nano = static_cast<std::uint64_t>(c.train.weight_decay * 1e9 + 0.5);
  p.seed = c.seed;
  p.vote_policy = c.policy.kind;
  p.vote_param_ppm = c.policy.param_ppm;
  // The shortest deadlines validate_plan allows: one block per validator.
  p.load_deadline_blocks = p.save_deadline_blocks = p.vote_deadline_blocks = members.size();
  p.submission_cost = c.submission_cost;
  p.deposit = c.deposit;
  p.deposit_factor = c.deposit > 0 ? std::max<std::uint32_t>(c.deposit_factor, 1) : 0;
  if (c.submission_cost > 0) {
    p.sponsor = kSponsor;
    p.release_deadline_blocks = members.size();
  }
  return p;
}

// Adds N(0, sigma) to every float weight of `m` (through its serialized form,

class Consortium {
 public:
  Consortium(std::vector<Member> members, chain::ChainSpec spec)
      : members_(std::move(members)),
        spec_(std::move(spec)),
        state_(chain::initial_state(spec_.genesis_hash)) {}

  const chain::LedgerState& state() const { return state_; }
  std::vector<Member>& members() { return members_; }
  std::size_t blocks() const { return blocks_; }
  const chain::Run& run() const { return *state_.training.find_run("sim"); }

  pb::Transaction tx(Member& m, pb::TxType type, const google::protobuf::Message& payload) {
    return chain::make_transaction(spec_.network(), m.key, m.nonce++, type,
                                   payload.SerializeAsString());
  }

  // Applies a block of `txs` with the ledger's own block application;
  // returns the transactions' hashes.
  Result<std::vector<Hash>> append(const std::vector<pb::Transaction>& txs) {
    std::vector<std::string> bytes;
    std::vector<Hash> hashes;
    for (const auto& t : txs) {
      bytes.push_back(chain::encode_transaction(t));
      hashes.push_back(chain::tx_hash(bytes.back()));
    }
    const auto& proposer = members_[state_.height % members_.size()].key.public_key();
    auto p = chain::propose_block(
        spec_, state_, kGenesisTimeMs + static_cast<std::int64_t>(state_.height + 1) * 1000,
        proposer, std::move(bytes));
    if (!p) return make_error("the ledger refused a simulated block: " + p.reason().message());
    state_ = std::move(p.value().after);
    ++blocks_;
    return hashes;
  }

  Member& member(const std::string& name) {
    for (auto& m : members_)
      if (m.name == name) return m;
    std::abort();  // the plan names only these members
  }

  // The head's model (the initial model before the first approval).
  const learning::Model& head_model(const learning::Model& initial) const {
    const auto& r = run();
    if (!r.head) return initial;
    return models_.at(r.find_model(*r.head)->model_sha256.hex());
  }
  const chain::Hash* head_sha(const learning::Model& initial) {
    const auto& r = run();
    if (r.head) return &r.find_model(*r.head)->model_sha256;
    initial_sha_ = learning::model_hash(initial);
    return &initial_sha_;
  }

  void keep(const Hash& sha, learning::Model m) { models_.try_emplace(sha.hex(), std::move(m)); }
  const learning::Model& model(const Hash& sha) const { return models_.at(sha.hex()); }

 private:
  std::vector<Member> members_;
  chain::ChainSpec spec_;
  chain::LedgerState state_;
  std::size_t blocks_ = 0;
  std::map<std::string, learning::Model> models_;
  Hash initial_sha_;
};

pb::SaveRequest save_request(const chain::Run& run, const chain::Turn& turn, const Hash& sha,
                             const std::vector<Member>& members, std::uint64_t rows) {
  pb::SaveRequest r;
  r.set_run_id(run.plan.run_id);
  r.set_turn(turn.index);
  r.set_parent_model_id(bytes_of(run.head));
  r.set_object_key(agent_detail::expected_object_key(run.plan, turn.index, turn.partner));
  // Not sealed in-process: hashes that a sealed blob of this model by this
  // member would have in place of the ciphertext's and the key's.
  const std::string tag = turn.partner + "/" + std::to_string(turn.index) + "/" + sha.hex();
  r.set_ciphertext_sha256(bytes_of(chain::sha256("sim ciphertext " + tag)));
  r.set_model_sha256(bytes_of(sha));
  r.set_key_commitment(bytes_of(chain::sha256("sim data key " + tag)));
  std::vector<std::string> names;
  for (const auto& m : members) names.push_back(m.name);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    r.add_key_recipients(n);
    r.add_wrapped_keys(std::string(chain::kWrappedKeyBytes, '\x5a'));
  }
  r.set_train_samples(rows);
  r.set_metrics_json("{}");
  return r;
}

// The vote `voter` casts on `candidate` (requested by `partner`), or nullopt
// when it abstains (its measurement cannot decide: e.g. DeLong undefined).
std::optional<SaveVote> cast_vote(const Member& voter, const Member& partner,
                                  const learning::Model& head, const learning::Model& candidate,
                                  const chain::VotePolicy& policy) {
  auto h = evaluate(head, voter.validation);
  if (!h) return std::nullopt;
  const std::uint64_t rows = voter.validation.rows;
  if (voter.behaviour == Behaviour::colluder && partner.behaviour == Behaviour::colluder) {
    // Approves a fellow colluder's candidate: the ledger checks the vote's
    // AUCs against its decision, so the colluder claims a perfect candidate.
    return SaveVote{true, chain::kMaxPpm, consensus::to_ppm(h->auc), rows, chain::kMaxPpm, ""};
  }
  if (voter.behaviour == Behaviour::rival) {
    // Rejects every competitor, claiming the worst candidate AUC (and p 0).
    const chain::VoteMeasure lie{0, consensus::to_ppm(h->auc), 0};
    return SaveVote{false, 0, lie.auc_head_ppm, rows, 0, chain::policy_refusal(policy, lie)};
  }
  auto cand = evaluate(candidate, voter.validation);
  if (!cand) return std::nullopt;
  CandidateMeasure m;
  m.auc_head = h->auc;
  m.validation_rows = rows;
  m.auc_candidate = cand->auc;
  if (auto t = learning::delong_paired_test(cand->labels, cand->scores, h->scores))
    m.p_worse = t->p_one_sided_a_worse;
  auto v = decide_save_vote(policy, m);
  if (!v) return std::nullopt;
  return *v;
}

// Which existing model a re-sealer claims: the latest rejected candidate of
// another member, else the head.
Hash reseal_target(const chain::Run& run, const std::string& self, const Hash& head_sha) {
  for (auto t = run.turns.rbegin(); t != run.turns.rend(); ++t) {
    if (t->outcome == chain::TurnOutcome::rejected && t->partner != self && t->save)
      return t->save->model_sha256;
  }
  return head_sha;
}

Status play_turn(Consortium& cs, const learning::Model& initial, const learning::ModelSpec& spec,
                 const SimConfig& c, std::map<std::uint64_t, bool>& acted) {
  const chain::Run& run = cs.run();
  const chain::Turn& turn = *run.current_turn();
  Member& partner = cs.member(turn.partner);
  const std::uint64_t key = turn.index * 8 + static_cast<std::uint64_t>(turn.phase);
  std::vector<pb::Transaction> txs;
  if (!acted[key]) {
    acted[key] = true;
    switch (turn.phase) {
      case chain::TurnPhase::awaiting_load_request: {
        pb::LoadRequest r;
        r.set_run_id(run.plan.run_id);
        r.set_turn(turn.index);
        r.set_head_model_id(bytes_of(run.head));
        txs.push_back(cs.tx(partner, pb::TX_LOAD_REQUEST, r));
        break;
      }
      case chain::TurnPhase::load_voting:
        for (auto& m : cs.members()) {
          if (m.name == partner.name) continue;
          pb::LoadApproval a;
          a.set_run_id(run.plan.run_id);
          a.set_request_id(bytes_of(turn.load_request_id));
          a.set_approve(true);
          txs.push_back(cs.tx(m, pb::TX_LOAD_APPROVAL, a));
        }
        break;
      case chain::TurnPhase::training: {
        const learning::Model& head = cs.head_model(initial);
        const Hash head_sha = *cs.head_sha(initial);
        Hash sha;
        if (partner.behaviour == Behaviour::free_rider) {
          sha = head_sha;
        } else if (partner.behaviour == Behaviour::reseal) {
          sha = reseal_target(run, partner.name, head_sha);
        } else {
          auto cand = train_candidate(partner, head, spec, c, turn.index);
          if (!cand)
            return make_error(partner.name + ", turn " + std::to_string(turn.index) + ": " +
                              cand.error().message);
          sha = learning::model_hash(*cand);
          cs.keep(sha, std::move(*cand));
        }
        if (sha == head_sha) cs.keep(sha, head.clone());
        txs.push_back(cs.tx(partner, pb::TX_SAVE_REQUEST,
                            save_request(run, turn, sha, cs.members(), partner.train.rows)));
        break;
      }
      case chain::TurnPhase::save_voting: {
        const learning::Model& head = cs.head_model(initial);
        const learning::Model& cand = cs.model(turn.save->model_sha256);
        // Voters in an order that rotates every turn: which votes reach the
        // quorum first is the proposer's choice in a real block.
        const std::size_t n = cs.members().size();
        for (std::size_t k = 1; k <= n; ++k) {
          Member& v = cs.members()[(turn.index + k) % n];
          if (v.name == partner.name) continue;
          auto vote = cast_vote(v, partner, head, cand, c.policy);
          if (!vote) continue;
          txs.push_back(cs.tx(v, pb::TX_MODEL_VOTE,
                              model_vote(run.plan.run_id, *turn.save_request_id, *vote)));
        }
        break;
      }
      default:  // done; the simulation plays chained plans only (no rounds)
        break;
    }
  }
  // After a step's transactions (or with none, waiting for a deadline) the
  // next block follows.
  auto applied = cs.append(txs);
  if (!applied) return applied.error();
  return {};
}

SimResult collect(Consortium& cs, const learning::PreparedData& data,
                  const learning::Model& final_model) {
  SimResult r;
  const chain::Run& run = cs.run();
  for (const auto& m : cs.members()) {
    AccountResult a;
    a.name = m.name;
    a.behaviour = m.behaviour;
    if (auto it = run.contributivity_ppm.find(m.name); it != run.contributivity_ppm.end())
      a.tokens_ppm = it->second;
    a.balance = ledger_balance(cs.state(), m.name);
    r.accounts.push_back(a);
  }
  auto account = [&](const std::string& name) -> AccountResult& {
    for (auto& a : r.accounts)
      if (a.name == name) return a;
    std::abort();
  };
  for (const auto& t : run.turns) {
    auto& a = account(t.partner);
    ++a.turns;
    ++r.turns;
    if (t.outcome == chain::TurnOutcome::approved) ++a.approved, ++r.approved;
    if (t.outcome == chain::TurnOutcome::rejected) ++a.rejected, ++r.rejected;
    if (t.outcome == chain::TurnOutcome::expired) ++a.expired, ++r.expired;
    if (t.outcome == chain::TurnOutcome::suspended || t.outcome == chain::TurnOutcome::cannot_pay)
      ++a.skipped;
    if (t.outcome == chain::TurnOutcome::cannot_pay && !a.exhausted_turn)
      a.exhausted_turn = t.index;
  }
  for (const auto& f : run.refusals.recent) {
    ++account(f.sender).refused_txs;
    ++r.refusals[f.reason];
  }
  r.blocks = cs.blocks();
  r.sponsor_balance = ledger_balance(cs.state(), kSponsor);
  auto p = final_model.predict(data.test);
  if (p) r.test_scores = p->scores();
  return r;
}

}  // namespace

Result<SimResult> simulate(const learning::PreparedData& data, const SimConfig& c) {
  if (c.members < 2 || c.members > 16) return make_error("a simulation needs 2 to 16 members");
  if (2 * c.adversaries > c.members)
    return make_error("at most half of the members can be adversaries (members 2, 4, ...)");
  if (data.train.num_classes != 2) return make_error("the simulation needs a binary task");
  if (auto st = learning::validate(c.train); !st) return st.error();
  auto members = make_members(data, c);
  if (!members) return members.error();
  const auto spec = sim_spec(data, c);
  const auto plan = make_plan(data, c, *members);

  chain::Genesis g;
  g.chain_id = "baton-sim";
  g.genesis_time_unix_ms = kGenesisTimeMs;
  for (std::size_t i = 0; i < members->size(); ++i) {
    const Member& m = (*members)[i];
    chain::GenesisMember gm;
    gm.name = m.name;
    gm.ed25519 = m.key.public_key();
    gm.x25519 = m.x25519.public_key();
    gm.p2p_address = "127.0.0.1:0";
    gm.power = 1;
    gm.balance = m.behaviour == Behaviour::honest ? c.honest_balance : c.adversary_balance;
    if (i == 0) gm.roles.push_back("admin");
    gm.roles.push_back("validator");
    gm.roles.push_back("partner");
    g.members.push_back(std::move(gm));
  }
  if (!plan.sponsor.empty()) {
    // Never signs: fixed keys only to make it a genesis member.
    auto key = chain::SigningKey::from_seed(chain::Bytes(32, 0x3f));
    auto x = chain::X25519SecretKey::from_bytes(chain::Bytes(32, 0x5f));
    if (!key || !x) return make_error("cannot derive the simulated sponsor's keys");
    chain::GenesisMember gm;
    gm.name = kSponsor;
    gm.ed25519 = key->public_key();
    gm.x25519 = x->public_key();
    gm.p2p_address = "127.0.0.1:0";
    gm.power = 0;
    gm.roles.push_back("sponsor");
    g.members.push_back(std::move(gm));
  }
  g.training_plan = plan;
  if (auto st = chain::validate_genesis(g); !st) return st.error();
  auto spec_chain = chain::load_chain_spec(chain::encode_genesis(g));
  if (!spec_chain) return spec_chain.error();

  auto initial = learning::Model::create(spec, c.seed);
  if (!initial) return initial.error();
  Consortium cs(std::move(*members), std::move(*spec_chain));
  if (auto b = cs.append({}); !b) return b.error();  // block 1 starts the genesis run
  std::map<std::uint64_t, bool> acted;
  // Every phase ends by its deadline (members.size() blocks), so a run takes
  // at most 3 deadlines + 3 blocks per turn.
  const std::size_t limit = plan.total_turns() * (3 * c.members + 6) + 10;
  while (cs.state().training.active() != nullptr) {
    if (cs.blocks() > limit) return make_error("the simulated run did not finish (a bug)");
    if (auto st = play_turn(cs, *initial, spec, c, acted); !st) return st.error();
  }
  // The last approved turns' gains settle at their vote deadlines (a few
  // blocks after the run ended): the tokens are final only then.
  // A sponsored escrow (the submission costs) is paid out by tokens at its
  // release deadline, after the gains settled: balances are final then.
  auto settling = [&] {
    const auto& e = cs.run().escrow;
    return !chain::gains_settled(cs.run()) || (e && e->state == chain::EscrowState::open);
  };
  while (settling()) {
    if (cs.blocks() > limit + 2 * c.members + 4)
      return make_error("the gains or the escrow did not settle (a bug)");
    if (auto b = cs.append({}); !b) return b.error();
  }
  SimResult r = collect(cs, data, cs.head_model(*initial));
  auto ci = learning::delong_auc(data.test.y, r.test_scores);
  if (!ci) return ci.error();
  r.auc = ci->auc;
  r.ci_low = ci->ci_low;
  r.ci_high = ci->ci_high;
  r.state = cs.state();
  return r;
}

}  // namespace baton::agent

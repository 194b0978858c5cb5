// Tendermint, Algorithm 1 of arXiv:1807.04938. Line numbers in comments
// (L22, L28, ...) refer to that algorithm. The engine evaluates the
// upon-rules in a loop after every input until none fires, so the order in
// which messages arrive does not matter beyond what the paper allows.
#include "consensus/engine.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "consensus/round_state.h"

namespace baton::consensus {
namespace {

// Messages kept for the next height (a node one step behind its peers),
// per validator; proposals (up to max_block_bytes each) fewer.
constexpr std::size_t kMaxBufferedPerValidator = 8;
constexpr std::size_t kMaxBufferedProposalsPerValidator = 2;
// A correct proposer sends one proposal per round; a Byzantine one may send
// several. A few are kept so that whichever gathers a quorum can be decided.
constexpr std::size_t kMaxProposalsPerRound = 3;

std::string id_bytes(const chain::Hash& h) { return std::string(h.bytes.begin(), h.bytes.end()); }

std::uint32_t grow(std::uint32_t base, std::uint32_t delta, std::uint32_t round) {
  const std::uint64_t d = std::uint64_t{base} + std::uint64_t{delta} * round;
  return static_cast<std::uint32_t>(
      std::min<std::uint64_t>(d, std::numeric_limits<std::uint32_t>::max()));
}

std::optional<chain::PublicKey> key_of(const std::string& bytes) {
  auto k = chain::PublicKey::from_bytes(chain::as_bytes(bytes));
  if (!k) return std::nullopt;
  return *k;
}

}  // namespace

const char* to_string(Step step) {
  switch (step) {
    case Step::new_height:
      return "new_height";
    case Step::propose:
      return "propose";
    case Step::prevote:
      return "prevote";
    case Step::precommit:
      return "precommit";
  }
  return "unknown";
}

struct Engine::State {
  State(EngineOptions o, ValidatorSet v, Application& a, Signer* s)
      : options(std::move(o)), validators(std::move(v)), app(a), signer(s) {}

  EngineOptions options;
  ValidatorSet validators;
  Application& app;
  Signer* signer;
  std::optional<std::size_t> my_index;

  // Tendermint's per-height state.
  std::uint64_t height = 1;
  std::uint32_t round = 0;
  Step step = Step::new_height;
  std::int32_t locked_round = -1;
  std::string locked_block;
  chain::Hash locked_id;
  std::int32_t valid_round = -1;
  std::string valid_block;
  chain::Hash valid_id;
  std::map<std::uint32_t, RoundState> rounds;
  std::map<chain::Hash, bool> validity;  // app verdicts at this height
  bool started = false;
  Step restored_step = Step::new_height;  // from the checkpoint's own messages

  std::vector<pb::ConsensusMessage> own;  // signed by me at this height
  // own[0, own_released) have left in an Output (their signer record with them).
  std::size_t own_released = 0;
  std::vector<pb::ConsensusMessage> last_decision;  // proposal + precommits of height-1
  // Messages of a height whose set is not settled (see Engine::on_message),
  // by signer key; checked against their height's set when it starts.
  std::vector<std::pair<chain::PublicKey, pb::ConsensusMessage>> held;
  std::vector<std::string> pending_evidence;  // serialized DuplicateVoteEvidence
  std::set<std::tuple<std::size_t, std::uint64_t, std::uint32_t, int>> evidence_seen;

  Output out;
  bool checkpoint_dirty = false;

  RoundState& round_state(std::uint32_t r) {
    auto it = rounds.find(r);
    if (it == rounds.end()) it = rounds.emplace(r, RoundState(validators.size())).first;
    return it->second;
  }
  RoundState* find_round(std::uint32_t r) {
    auto it = rounds.find(r);
    return it == rounds.end() ? nullptr : &it->second;
  }

  bool is_valid(ProposalRecord& p) {
    if (p.valid) return *p.valid;
    auto it = validity.find(p.id);
    if (it == validity.end()) {
      const bool ok = p.message.block().size() <= options.max_block_bytes &&
                      app.check_block(height, p.message.block()).ok();
      it = validity.emplace(p.id, ok).first;
    }
    p.valid = it->second;
    return it->second;
  }

  void schedule(Step s, std::uint32_t duration) {
    out.timeouts.push_back(Timeout{height, round, s, duration});
  }

  void broadcast_own(pb::ConsensusMessage m) {
    own.push_back(m);
    checkpoint_dirty = true;
    out.messages.push_back(std::move(m));
  }

  // ---- signing (the signer may refuse: then it is as if the message was lost)
  void vote(chain::pb::VoteType type, const BlockIdOrNil& id) {
    if (!signer || !my_index) return;
    auto v = signer->sign_vote(type, height, round, id);
    if (!v) return;
    RoundState& rs = round_state(round);
    auto& set = type == chain::pb::PREVOTE ? rs.prevotes : rs.precommits;
    (void)set.add(*my_index, validators.at(*my_index).power, *v);
    rs.seen[*my_index] = true;
    pb::ConsensusMessage m;
    *m.mutable_vote() = std::move(*v);
    broadcast_own(std::move(m));
  }

  // ---- StartRound (L11)
  void start_round(std::uint32_t r) {
    round = r;
    step = Step::propose;
    if (r > 0) checkpoint_dirty = true;  // a restart resumes in this round
    const auto& t = options.timeouts;
    if (my_index && signer && validators.proposer(height, round) == *my_index) propose();
    schedule(Step::propose, grow(t.propose_base_ms, t.propose_delta_ms, round));
  }

  void propose() {
    std::string block;
    chain::Hash id;
    std::int32_t pol = -1;
    if (valid_round >= static_cast<std::int32_t>(round))
      return;  // only after a restart inside that round
    if (valid_round >= 0 && !options.unsafe_ignore_lock_for_tests) {
      block = valid_block;
      id = valid_id;
      pol = valid_round;
    } else {
      auto made = app.make_block(height, round, pending_evidence);
      if (!made) return;
      auto made_id = block_id_of(*made);
      if (!made_id) return;
      block = std::move(*made);
      id = *made_id;
    }
    auto p = signer->sign_proposal(height, round, pol, id, std::move(block));
    if (!p) return;
    RoundState& rs = round_state(round);
    rs.seen[*my_index] = true;
    if (!rs.find(id) && rs.proposals.size() < kMaxProposalsPerRound)
      rs.proposals.push_back(ProposalRecord{*p, id, std::nullopt});
    pb::ConsensusMessage m;
    *m.mutable_proposal() = std::move(*p);
    broadcast_own(std::move(m));
  }

  // ---- the upon-rules; returns true if one fired
  bool apply_rules() {
    // While the commit pause runs, the application may not hold the decided
    // block yet, so nothing that would ask it (valid(v), getValue) may fire.
    if (step == Step::new_height) return false;
    if (rules_for_current_round()) return true;
    if (try_decide()) return true;
    return try_round_skip();
  }

  bool rules_for_current_round() {
    RoundState& rs = round_state(round);
    // L22 / L28: the proposal of this round, while in propose.
    for (std::size_t i = 0; step == Step::propose && i < rs.proposals.size(); ++i) {
      ProposalRecord& p = rs.proposals[i];
      const std::int32_t vr = p.message.pol_round();
      if (vr == -1) {
        const bool lock_ok =
            locked_round == -1 || locked_id == p.id || options.unsafe_ignore_lock_for_tests;
        vote(chain::pb::PREVOTE, is_valid(p) && lock_ok ? BlockIdOrNil(p.id) : std::nullopt);
        step = Step::prevote;
        return true;
      }
      if (vr >= 0 && static_cast<std::uint32_t>(vr) < round) {
        RoundState* pol = find_round(static_cast<std::uint32_t>(vr));
        if (pol && validators.is_quorum(pol->prevotes.power_for(p.id))) {
          const bool lock_ok =
              locked_round <= vr || locked_id == p.id || options.unsafe_ignore_lock_for_tests;
          vote(chain::pb::PREVOTE, is_valid(p) && lock_ok ? BlockIdOrNil(p.id) : std::nullopt);
          step = Step::prevote;
          return true;
        }
      }
    }
    // L34: 2f+1 prevotes of any kind.
    if (step == Step::prevote && !rs.prevote_timeout_scheduled &&
        validators.is_quorum(rs.prevotes.total_power())) {
      rs.prevote_timeout_scheduled = true;
      const auto& t = options.timeouts;
      schedule(Step::prevote, grow(t.prevote_base_ms, t.prevote_delta_ms, round));
      return true;
    }
    // L36: the proposal and 2f+1 prevotes for it.
    ProposalRecord* polka = nullptr;
    if (step >= Step::prevote && !rs.valid_value_updated) {
      for (auto& p : rs.proposals) {
        if (validators.is_quorum(rs.prevotes.power_for(p.id)) && is_valid(p)) {
          polka = &p;
          break;
        }
      }
    }
    if (polka) {
      rs.valid_value_updated = true;
      const ProposalRecord& p = *polka;
      if (step == Step::prevote) {
        locked_block = p.message.block();
        locked_id = p.id;
        locked_round = static_cast<std::int32_t>(round);
        checkpoint_dirty = true;
        vote(chain::pb::PRECOMMIT, p.id);
        step = Step::precommit;
      }
      valid_block = p.message.block();
      valid_id = p.id;
      valid_round = static_cast<std::int32_t>(round);
      checkpoint_dirty = true;
      return true;
    }
    // L44: 2f+1 prevotes for nil.
    if (step == Step::prevote && validators.is_quorum(rs.prevotes.power_for(std::nullopt))) {
      vote(chain::pb::PRECOMMIT, std::nullopt);
      step = Step::precommit;
      return true;
    }
    // L47: 2f+1 precommits of any kind.
    if (!rs.precommit_timeout_scheduled && validators.is_quorum(rs.precommits.total_power())) {
      rs.precommit_timeout_scheduled = true;
      const auto& t = options.timeouts;
      schedule(Step::precommit, grow(t.precommit_base_ms, t.precommit_delta_ms, round));
      return true;
    }
    return false;
  }

  // L49: a proposal of any round with 2f+1 precommits for it.
  bool try_decide() {
    for (auto& [r, rs] : rounds) {
      for (auto& p : rs.proposals) {
        if (!validators.is_quorum(rs.precommits.power_for(p.id))) continue;
        if (!is_valid(p)) continue;
        decide(r, rs, p);
        return true;
      }
    }
    return false;
  }

  // L55: f+1 validators are in a higher round.
  bool try_round_skip() {
    for (auto it = rounds.rbegin(); it != rounds.rend(); ++it) {
      if (it->first <= round) break;
      std::uint64_t power = 0;
      for (std::size_t i = 0; i < validators.size(); ++i) {
        if (it->second.seen[i]) power += validators.at(i).power;
      }
      if (validators.is_one_third(power)) {
        start_round(it->first);
        return true;
      }
    }
    return false;
  }

  void decide(std::uint32_t r, RoundState& rs, const ProposalRecord& p) {
    Decision d;
    d.height = height;
    d.round = r;
    d.block_id = p.id;
    d.block = p.message.block();
    d.commit.set_height(height);
    d.commit.set_round(r);
    d.commit.set_block_id(id_bytes(d.block_id));
    last_decision.clear();
    pb::ConsensusMessage pm;
    *pm.mutable_proposal() = p.message;
    last_decision.push_back(std::move(pm));
    for (const auto& v : rs.precommits.votes_for(d.block_id)) {
      auto* sig = d.commit.add_signatures();
      sig->set_validator(v.validator());
      sig->set_signature(v.signature());
      pb::ConsensusMessage vm;
      *vm.mutable_vote() = v;
      last_decision.push_back(std::move(vm));
    }
    forget_committed_evidence(d.block);
    out.decision = std::move(d);
    enter_height(height + 1);
  }

  void forget_committed_evidence(const std::string& block) {
    chain::pb::Block parsed;
    if (!parsed.ParseFromString(block)) return;
    for (const auto& e : parsed.evidence()) {
      pending_evidence.erase(std::remove(pending_evidence.begin(), pending_evidence.end(), e),
                             pending_evidence.end());
    }
  }

  // Resets the per-height state and waits for the commit pause (L54 + the
  // usual timeout_commit).
  void enter_height(std::uint64_t h) {
    height = h;
    round = 0;
    step = Step::new_height;
    locked_round = valid_round = -1;
    locked_block.clear();
    valid_block.clear();
    locked_id = valid_id = chain::Hash{};
    rounds.clear();
    validity.clear();
    own.clear();
    own_released = 0;
    schedule(Step::new_height, options.timeouts.commit_ms);
    std::erase_if(held, [&](const auto& e) { return height_of(e.second) < height; });
  }

  void set_validators(ValidatorSet next) {
    validators = std::move(next);
    my_index = signer ? validators.index_of(signer->public_key()) : std::nullopt;
  }

  // The held messages of this height, now that its set is settled: each is
  // checked again against it (a validator removed here is dropped, the
  // proposer is this set's). Their signatures were checked when they came.
  void replay_held() {
    auto mine = std::move(held);
    held.clear();
    for (auto& [key, m] : mine) {
      if (height_of(m) != height) {
        held.emplace_back(key, std::move(m));
        continue;
      }
      const auto index = validators.index_of(key);
      if (!index) continue;
      if (m.has_vote()) {
        (void)add_vote(*index, m.vote());
      } else if (validators.proposer(height, m.proposal().round()) == *index) {
        if (auto id = block_id_of(m.proposal().block())) {
          (void)add_proposal(*index, m.proposal(), *id);
        }
      }
    }
  }

  // ---- inputs after verification
  MessageVerdict add_proposal(std::size_t index, const pb::Proposal& p, const chain::Hash& id) {
    RoundState& rs = round_state(p.round());
    rs.seen[index] = true;
    if (rs.find(id)) return MessageVerdict::duplicate;
    const bool second = !rs.proposals.empty();
    if (rs.proposals.size() >= kMaxProposalsPerRound) return MessageVerdict::equivocation;
    rs.proposals.push_back(ProposalRecord{p, id, std::nullopt});
    // Ask the application now, so an invalid block is reported to the caller;
    // not while a decided block may still be on its way to the store.
    if (step != Step::new_height && !is_valid(rs.proposals.back()))
      return MessageVerdict::invalid_block;
    return second ? MessageVerdict::equivocation : MessageVerdict::accepted;
  }

  MessageVerdict add_vote(std::size_t index, const chain::pb::Vote& v) {
    RoundState& rs = round_state(v.round());
    auto& set = v.type() == chain::pb::PREVOTE ? rs.prevotes : rs.precommits;
    switch (set.add(index, validators.at(index).power, v)) {
      case VoteSet::AddResult::added:
        rs.seen[index] = true;
        return MessageVerdict::accepted;
      case VoteSet::AddResult::duplicate:
        return MessageVerdict::duplicate;
      case VoteSet::AddResult::conflicting:
        record_evidence(index, *set.first(index), v);
        return MessageVerdict::equivocation;
    }
    std::abort();
  }

  void record_evidence(std::size_t index, const chain::pb::Vote& a, const chain::pb::Vote& b) {
    const auto key = std::make_tuple(index, a.height(), a.round(), static_cast<int>(a.type()));
    if (!evidence_seen.insert(key).second) return;
    // A canonical order (by block id bytes) so every node builds the same bytes.
    const bool a_first = a.block_id() < b.block_id();
    chain::pb::DuplicateVoteEvidence e = chain::make_evidence(a_first ? a : b, a_first ? b : a);
    if (pending_evidence.size() < options.max_pending_evidence)
      pending_evidence.push_back(e.SerializeAsString());
    out.evidence.push_back(std::move(e));
  }

  void run_rules() {
    // Each rule changes step, round or a once-only flag, so this ends; the
    // bound is a guard against a bug, which must halt rather than spin.
    for (int i = 0; i < 10000; ++i) {
      if (!apply_rules()) return;
    }
    std::abort();
  }

  // The proposal of the valid value and the prevotes that made it valid.
  template <class Votes>
  void append_pol(pb::Proposal* proposal, Votes* votes) const {
    auto it = rounds.find(static_cast<std::uint32_t>(valid_round));
    if (it == rounds.end()) return;
    if (const ProposalRecord* p = it->second.find(valid_id)) *proposal = p->message;
    for (auto& v : it->second.prevotes.votes_for(valid_id)) *votes->Add() = std::move(v);
  }

  // Loads the proof-of-lock from a checkpoint (our own file, but checked like
  // network input all the same).
  void restore_pol(const pb::EngineCheckpoint& c) {
    if (c.has_valid_proposal()) {
      pb::ConsensusMessage m;
      *m.mutable_proposal() = c.valid_proposal();
      if (check_well_formed(m) == MessageVerdict::accepted &&
          c.valid_proposal().height() == height &&
          static_cast<std::int32_t>(c.valid_proposal().round()) == valid_round) {
        auto key = key_of(c.valid_proposal().proposer());
        auto index = key ? validators.index_of(*key) : std::nullopt;
        if (index && validators.proposer(height, c.valid_proposal().round()) == *index &&
            verify_proposal_signature(options.network, c.valid_proposal(), valid_id) &&
            c.valid_proposal().block() == valid_block) {
          round_state(c.valid_proposal().round())
              .proposals.push_back(ProposalRecord{c.valid_proposal(), valid_id, std::nullopt});
        }
      }
    }
    for (const auto& v : c.valid_pol()) {
      auto key = key_of(v.validator());
      auto index = key ? validators.index_of(*key) : std::nullopt;
      if (!index || v.height() != height || static_cast<std::int32_t>(v.round()) != valid_round ||
          v.type() != chain::pb::PREVOTE || !verify_vote_signature(options.network, v)) {
        continue;
      }
      RoundState& rs = round_state(v.round());
      (void)rs.prevotes.add(*index, validators.at(*index).power, v);
      rs.seen[*index] = true;
    }
  }

  static std::uint32_t round_of(const pb::ConsensusMessage& m) {
    return m.has_vote() ? m.vote().round() : m.proposal().round();
  }
  static std::uint64_t height_of(const pb::ConsensusMessage& m) {
    return m.has_vote() ? m.vote().height() : m.proposal().height();
  }

  // Re-adopts this validator's own messages from a checkpoint; sets round and
  // step to where they leave off.
  void restore_own(const pb::EngineCheckpoint& c) {
    if (!my_index) return;
    const auto& me = validators.at(*my_index).key;
    const std::string me_bytes(me.bytes.begin(), me.bytes.end());
    std::vector<std::pair<std::uint32_t, Step>> reached_at;
    for (const auto& m : c.own()) {
      if (check_well_formed(m) != MessageVerdict::accepted) continue;
      const std::uint32_t r = round_of(m);
      if (r + 1 < round || r > round + options.max_round_ahead) continue;
      Step reached = Step::propose;
      if (m.has_vote()) {
        const auto& v = m.vote();
        if (v.height() != height || v.validator() != me_bytes ||
            !verify_vote_signature(options.network, v))
          continue;
        RoundState& rs = round_state(r);
        (void)(v.type() == chain::pb::PREVOTE ? rs.prevotes : rs.precommits)
            .add(*my_index, validators.at(*my_index).power, v);
        rs.seen[*my_index] = true;
        reached = v.type() == chain::pb::PREVOTE ? Step::prevote : Step::precommit;
      } else {
        const auto& p = m.proposal();
        auto id = block_id_of(p.block());
        if (p.height() != height || p.proposer() != me_bytes || !id ||
            !verify_proposal_signature(options.network, p, *id)) {
          continue;
        }
        RoundState& rs = round_state(r);
        if (!rs.find(*id)) rs.proposals.push_back(ProposalRecord{p, *id, std::nullopt});
        rs.seen[*my_index] = true;
      }
      own.push_back(m);
      reached_at.emplace_back(r, reached);
    }
    own_released = own.size();  // sent (or not) before the restart; resent as they are
    for (const auto& [r, reached] : reached_at) round = std::max(round, r);
    for (const auto& [r, reached] : reached_at) {
      if (r == round) restored_step = std::max(restored_step, reached);
    }
  }

  pb::EngineCheckpoint checkpoint() const {
    pb::EngineCheckpoint c;
    c.set_height(height);
    c.set_round(round);
    c.set_locked_round(locked_round);
    if (locked_round >= 0) c.set_locked_block(locked_block);
    c.set_valid_round(valid_round);
    if (valid_round >= 0) {
      c.set_valid_block(valid_block);
      append_pol(c.mutable_valid_proposal(), c.mutable_valid_pol());
    }
    for (const auto& m : own) {
      if (round_of(m) + 1 >= round) *c.add_own() = m;
    }
    return c;
  }
};

Engine::Engine(EngineOptions options, ValidatorSet validators, Application& app, Signer* signer,
               std::uint64_t height, std::optional<pb::EngineCheckpoint> checkpoint)
    : s_(std::make_unique<State>(std::move(options), std::move(validators), app, signer)) {
  if (height == 0) std::abort();
  s_->height = height;
  if (signer) s_->my_index = s_->validators.index_of(signer->public_key());
  if (checkpoint && checkpoint->height() == height) {
    s_->round = checkpoint->round();
    if (checkpoint->locked_round() >= 0) {
      if (auto id = block_id_of(checkpoint->locked_block())) {
        s_->locked_round = checkpoint->locked_round();
        s_->locked_block = checkpoint->locked_block();
        s_->locked_id = *id;
      }
    }
    if (checkpoint->valid_round() >= 0) {
      if (auto id = block_id_of(checkpoint->valid_block())) {
        s_->valid_round = checkpoint->valid_round();
        s_->valid_block = checkpoint->valid_block();
        s_->valid_id = *id;
        s_->restore_pol(*checkpoint);
      }
    }
  }
  if (checkpoint && checkpoint->height() == height) s_->restore_own(*checkpoint);
  // Never restart below the round the signer last signed in: the signer
  // would refuse everything there anyway.
  if (signer && signer->last().height() == height && signer->last().round() > s_->round) {
    s_->round = signer->last().round();
    s_->restored_step = Step::new_height;
  }
}

Engine::~Engine() = default;

void Engine::start() {
  if (s_->started) std::abort();
  s_->started = true;
  s_->replay_held();  // input before start() breaks the contract; kept all the same
  if (s_->restored_step == Step::prevote || s_->restored_step == Step::precommit) {
    // Restarted after voting in this round: carry on from there (the
    // timeouts of these steps are scheduled by L34/L47 as votes arrive).
    s_->step = s_->restored_step;
  } else {
    s_->start_round(s_->round);
  }
  s_->run_rules();
}

MessageVerdict Engine::on_message(const pb::ConsensusMessage& message) {
  State& s = *s_;
  if (const auto v = check_well_formed(message); v != MessageVerdict::accepted) return v;
  const bool is_vote = message.has_vote();
  const std::uint64_t h = is_vote ? message.vote().height() : message.proposal().height();
  const std::uint32_t r = is_vote ? message.vote().round() : message.proposal().round();
  const std::string& signer_bytes =
      is_vote ? message.vote().validator() : message.proposal().proposer();
  const auto key = key_of(signer_bytes);
  if (!key) return MessageVerdict::malformed;
  const auto index = s.validators.index_of(*key);
  if (!index) {
    // At a height whose set is not settled the signer may be a validator
    // there (a newcomer): neither held nor held against the sender; the
    // signer sends it again (rebroadcast) once this engine is there.
    const bool unsettled = h == s.height + 1 || (h == s.height && s.step == Step::new_height);
    return unsettled ? MessageVerdict::future_height : MessageVerdict::unknown_validator;
  }
  if (h < s.height) return MessageVerdict::stale;
  if (h > s.height + 1) return MessageVerdict::future_height;
  if (r > s.round + s.options.max_round_ahead && h == s.height)
    return MessageVerdict::round_too_far;
  if (h == s.height + 1 && r > s.options.max_round_ahead) return MessageVerdict::round_too_far;

  // An exact copy of a vote already counted (gossip repeats them) needs no
  // second signature check.
  if (is_vote && h == s.height) {
    if (RoundState* rs = s.find_round(r)) {
      const auto& set = message.vote().type() == chain::pb::PREVOTE ? rs->prevotes : rs->precommits;
      if (set.contains(*index, message.vote())) return MessageVerdict::duplicate;
    }
  }
  if (!is_vote && h == s.height) {
    if (RoundState* rs = s.find_round(r); rs && rs->holds_identical(message.proposal())) {
      return MessageVerdict::duplicate;
    }
  }

  std::optional<chain::Hash> proposal_id;
  if (is_vote) {
    if (!verify_vote_signature(s.options.network, message.vote()))
      return MessageVerdict::bad_signature;
  } else {
    const auto& p = message.proposal();
    // The proposer of a height whose set is not settled is checked when it is.
    if (h == s.height && s.step != Step::new_height && s.validators.proposer(h, r) != *index)
      return MessageVerdict::wrong_proposer;
    if (p.block().size() > s.options.max_block_bytes) return MessageVerdict::oversized;
    auto id = block_id_of(p.block());
    if (!id) return MessageVerdict::malformed;
    if (!verify_proposal_signature(s.options.network, p, *id)) return MessageVerdict::bad_signature;
    proposal_id = *id;
  }

  if (h == s.height + 1 || s.step == Step::new_height) {
    std::size_t count = 0, proposals = 0;
    for (const auto& [k, m] : s.held) {
      if (k != *key) continue;
      if (m.SerializeAsString() == message.SerializeAsString()) return MessageVerdict::duplicate;
      ++count;
      if (m.has_proposal()) ++proposals;
    }
    if (count >= kMaxBufferedPerValidator ||
        (!is_vote && proposals >= kMaxBufferedProposalsPerValidator)) {
      return MessageVerdict::future_height;
    }
    s.held.emplace_back(*key, message);
    return MessageVerdict::accepted;
  }

  const MessageVerdict verdict = is_vote ? s.add_vote(*index, message.vote())
                                         : s.add_proposal(*index, message.proposal(), *proposal_id);
  if (s.started && verdict != MessageVerdict::duplicate) s.run_rules();
  return verdict;
}

void Engine::on_timeout(const Timeout& t) {
  State& s = *s_;
  if (!s.started || t.height != s.height) return;
  switch (t.step) {
    case Step::new_height:
      if (s.step == Step::new_height) {
        s.replay_held();
        s.start_round(0);
      }
      break;
    case Step::propose:  // OnTimeoutPropose (L57)
      if (t.round == s.round && s.step == Step::propose) {
        s.vote(chain::pb::PREVOTE, std::nullopt);
        s.step = Step::prevote;
      }
      break;
    case Step::prevote:  // OnTimeoutPrevote (L61)
      if (t.round == s.round && s.step == Step::prevote) {
        s.vote(chain::pb::PRECOMMIT, std::nullopt);
        s.step = Step::precommit;
      }
      break;
    case Step::precommit:  // OnTimeoutPrecommit (L65)
      if (t.round == s.round && s.step != Step::new_height) s.start_round(s.round + 1);
      break;
  }
  s.run_rules();
}

void Engine::on_block_committed(std::uint64_t height, std::optional<ValidatorSet> next) {
  State& s = *s_;
  if (height + 1 < s.height) return;
  if (height + 1 == s.height) {
    // Decided here: the set of the height this engine waits to start.
    if (!next || *next == s.validators) return;
    const bool started_round = s.step != Step::new_height;
    s.set_validators(std::move(*next));
    // Normally the commit pause still runs and nothing was counted at this
    // height. If a round already ran on the old set (the decided block was
    // stored only later, by block sync), the height starts over on the new
    // one; the signer still refuses anything that would conflict.
    if (started_round) {
      s.enter_height(s.height);
      if (s.started) s.run_rules();
    }
    return;
  }
  s.last_decision.clear();
  if (next) s.set_validators(std::move(*next));
  s.enter_height(height + 1);
  if (s.started) s.run_rules();
}

Output Engine::take_output() {
  State& s = *s_;
  // The signer's record covers every message of this output; the caller
  // writes it (and the checkpoint) before it sends any of them.
  if (s.signer) s.out.signer_state = s.signer->take_unsaved();
  if (s.checkpoint_dirty) {
    s.out.checkpoint = s.checkpoint();
    s.checkpoint_dirty = false;
  }
  s.own_released = s.own.size();
  Output out = std::move(s.out);
  s.out = Output{};
  return out;
}

std::vector<pb::ConsensusMessage> Engine::messages_to_rebroadcast() const {
  const State& s = *s_;
  std::vector<pb::ConsensusMessage> out;
  // Only what an Output already carried: its signer record is written.
  for (std::size_t i = 0; i < s.own_released; ++i) {
    const auto& m = s.own[i];
    const std::uint32_t r = m.has_vote() ? m.vote().round() : m.proposal().round();
    if (r + 1 >= s.round) out.push_back(m);
  }
  // The proposal we are locked on (or hold as valid), so peers that missed it
  // can still lock on or decide it.
  if (s.valid_round >= 0) {
    pb::ConsensusMessage proposal;
    google::protobuf::RepeatedPtrField<chain::pb::Vote> pol;
    s.append_pol(proposal.mutable_proposal(), &pol);
    if (proposal.proposal().height() != 0) out.push_back(std::move(proposal));
    for (auto& v : pol) {
      pb::ConsensusMessage m;
      *m.mutable_vote() = std::move(v);
      out.push_back(std::move(m));
    }
  }
  out.insert(out.end(), s.last_decision.begin(), s.last_decision.end());
  return out;
}

EngineStatus Engine::status() const {
  const State& s = *s_;
  return EngineStatus{s.height,       s.round,       s.step,
                      s.locked_round, s.valid_round, s.validators.proposer(s.height, s.round)};
}

const ValidatorSet& Engine::validators() const { return s_->validators; }

}  // namespace baton::consensus

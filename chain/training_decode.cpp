#include "chain/training_decode.h"

#include <algorithm>
#include <string>

#include "chain/encoding.h"
#include "chain/training_plan.h"

namespace baton::chain {
namespace {

// A cursor over the bytes; the first failure sticks and later reads return
// zeros, so the decoder checks ok() once per structure.
class Reader {
 public:
  explicit Reader(ByteView bytes) : bytes_(bytes) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool at_end() const { return pos_ == bytes_.size(); }
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why) + " at byte " + std::to_string(pos_);
  }

  std::uint8_t u8() {
    if (!need(1)) return 0;
    return bytes_[pos_++];
  }
  std::uint32_t u32() {
    if (!need(4)) return 0;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | bytes_[pos_++];
    return v;
  }
  std::uint64_t u64() {
    if (!need(8)) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | bytes_[pos_++];
    return v;
  }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  bool flag() {
    const std::uint8_t b = u8();
    if (b > 1) fail("a presence byte is neither 0 nor 1");
    return b == 1;
  }
  std::string str() {
    const std::uint32_t n = u32();
    if (!need(n)) return {};
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  Hash hash() {
    Hash h;
    if (!need(h.bytes.size())) return h;
    std::copy(bytes_.begin() + pos_, bytes_.begin() + pos_ + h.bytes.size(), h.bytes.begin());
    pos_ += h.bytes.size();
    return h;
  }
  std::optional<Hash> opt_hash() {
    if (!flag()) return std::nullopt;
    return hash();
  }
  // A count of entries, each at least `min_entry_bytes` long: refused when
  // the bytes left cannot hold them (nothing is reserved from a lie).
  std::uint32_t count(std::size_t min_entry_bytes) {
    const std::uint32_t n = u32();
    if (ok() && static_cast<std::uint64_t>(n) * min_entry_bytes > bytes_.size() - pos_) {
      fail("a count of " + std::to_string(n) + " entries is more than the bytes left hold");
      return 0;
    }
    return n;
  }

 private:
  bool need(std::size_t n) {
    if (!ok()) return false;
    if (bytes_.size() - pos_ < n) {
      fail("the bytes end early");
      return false;
    }
    return true;
  }
  ByteView bytes_;
  std::size_t pos_ = 0;
  std::string error_;
};

template <class E>
E enum_in(Reader& r, std::uint8_t lo, std::uint8_t hi, const char* what) {
  const std::uint8_t b = r.u8();
  if (b < lo || b > hi) r.fail(std::string("an unknown ") + what + " " + std::to_string(b));
  return static_cast<E>(b);
}

RefusalLog read_refusals(Reader& r) {
  RefusalLog log;
  log.total = r.u64();
  const std::uint32_t n = r.count(8 + 32 + 4 + 4 + 1 + 4 + 1);
  if (n > kMaxRefusalsKept) r.fail("a refusal log keeps more than kMaxRefusalsKept entries");
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    Refusal f;
    f.height = r.u64();
    f.tx_hash = r.hash();
    f.sender = r.str();
    f.type = static_cast<pb::TxType>(r.u32());
    f.reason = enum_in<ProtocolRejected>(r, 1, 255, "refusal reason");
    f.run_id = r.str();
    if (r.flag()) f.turn = r.u64();
    log.recent.push_back(std::move(f));
  }
  return log;
}

template <class V>
bool insert_in_order(Reader& r, std::map<std::string, V>& m, std::string key, V value) {
  if (!m.empty() && !(m.rbegin()->first < key)) {
    r.fail("map keys are not in ascending order");
    return false;
  }
  m.emplace_hint(m.end(), std::move(key), std::move(value));
  return true;
}

Turn read_turn(Reader& r) {
  Turn t;
  t.index = r.u64();
  t.cycle = r.u64();
  t.partner = r.str();
  t.start_height = r.u64();
  t.phase = enum_in<TurnPhase>(r, 1, 9, "turn phase");
  t.deadline_height = r.u64();
  t.outcome = enum_in<TurnOutcome>(r, 0, 9, "turn outcome");
  t.end_height = r.u64();
  t.load_request_id = r.opt_hash();
  t.load_request_height = r.u64();
  for (std::uint32_t i = 0, n = r.count(4 + 1 + 4 + 8); i < n && r.ok(); ++i) {
    std::string name = r.str();
    ApprovalRecord a;
    a.approve = r.flag();
    a.reason = r.str();
    a.height = r.u64();
    insert_in_order(r, t.load_approvals, std::move(name), std::move(a));
  }
  t.load_token_id = r.opt_hash();
  t.load_token_height = r.u64();
  t.save_request_id = r.opt_hash();
  t.save_request_height = r.u64();
  // 0: no save, 1: a save, 2: a save with a reproducibility record.
  const std::uint8_t save_byte = r.u8();
  if (save_byte > 2) r.fail("a save's presence byte is neither 0, 1 nor 2");
  if (r.ok() && save_byte != 0) {
    SaveRecord s;
    s.parent_model_id = r.opt_hash();
    s.object_key = r.str();
    s.ciphertext_sha256 = r.hash();
    s.model_sha256 = r.hash();
    s.key_commitment = r.hash();
    for (std::uint32_t i = 0, n = r.count(8); i < n && r.ok(); ++i) {
      std::string name = r.str();
      std::string env = r.str();
      insert_in_order(r, s.wrapped_keys, std::move(name), std::move(env));
    }
    s.train_samples = r.u64();
    s.metrics_json = r.str();
    if (save_byte == 2) {
      ReproRecord rec;
      rec.train_seed = r.u64();
      rec.torch_threads = r.u32();
      rec.baton_version = r.str();
      rec.baton_commit = r.str();
      rec.libtorch_version = r.str();
      rec.device = r.str();
      rec.train_rows_sha256 = r.opt_hash();
      rec.schema_sha256 = r.opt_hash();
      s.repro = std::move(rec);
    }
    t.save = std::move(s);
  }
  for (std::uint32_t i = 0, n = r.count(4 + 1 + 4 + 4 + 8 + 4 + 4 + 8 + 8 + 8); i < n && r.ok();
       ++i) {
    std::string name = r.str();
    ModelVoteRecord v;
    v.approve = r.flag();
    v.auc_candidate_ppm = r.u32();
    v.auc_head_ppm = r.u32();
    v.validation_size = r.u64();
    v.p_worse_ppm = r.u32();
    v.reason = r.str();
    v.height = r.u64();
    v.loss_candidate_micro = r.u64();
    v.loss_head_micro = r.u64();
    insert_in_order(r, t.model_votes, std::move(name), std::move(v));
  }
  t.save_token_id = r.opt_hash();
  t.save_token_height = r.u64();
  t.head_before = r.opt_hash();
  if (t.outcome == TurnOutcome::abandoned) {
    AbandonRecord a;
    a.reason = enum_in<LoadFailure>(r, 1, kMaxLoadFailure, "abandon reason");
    a.detail = r.str();
    t.abandon = std::move(a);
  }
  return t;
}

Stake read_stake(Reader& r) {
  Stake s;
  s.deposit = r.u64();
  s.cost = r.u64();
  s.settled = r.flag();
  s.refunded = r.u64();
  s.escrowed = r.u64();
  for (std::uint32_t i = 0, n = r.count(4 + 8); i < n && r.ok(); ++i) {
    std::string name = r.str();
    const std::uint64_t credits = r.u64();
    insert_in_order(r, s.forfeits, std::move(name), credits);
  }
  return s;
}

// A federated turn's round (docs/PROTOCOL.md §21.3). Lists by partner rank
// are as long as the plan's partners, at most kMaxFederatedPartners.
RoundRecord read_round(Reader& r, std::size_t partners) {
  RoundRecord out;
  const auto list_ok = [&](std::uint32_t n) {
    if (r.ok() && n != partners) r.fail("a round's list by partner rank has the wrong length");
    return r.ok();
  };
  for (std::uint32_t i = 0, n = r.count(4 + 32 + 32 + 4 + 4 + 4 + 8); i < n && r.ok(); ++i) {
    std::string name = r.str();
    RoundShareRecord s;
    s.ephemeral_public = r.hash();
    s.self_seed_commitment = r.hash();
    const std::uint32_t boxes = r.count(4 + kShareBoxBytes);
    if (!list_ok(boxes)) break;
    for (std::uint32_t k = 0; k < boxes && r.ok(); ++k) s.share_boxes.push_back(r.str());
    for (auto* list : {&s.self_share_commitments, &s.key_share_commitments}) {
      const std::uint32_t commitments = r.count(32);
      if (!list_ok(commitments)) break;
      for (std::uint32_t k = 0; k < commitments && r.ok(); ++k) list->push_back(r.hash());
    }
    s.height = r.u64();
    insert_in_order(r, out.shares, std::move(name), std::move(s));
  }
  for (std::uint32_t i = 0, n = r.count(4 + 1 + 4 + 32 + 8 + 8); i < n && r.ok(); ++i) {
    std::string name = r.str();
    RoundUploadRecord u;
    u.head_model_id = r.opt_hash();
    u.object_key = r.str();
    u.masked_sha256 = r.hash();
    u.weight = r.u64();
    u.height = r.u64();
    insert_in_order(r, out.uploads, std::move(name), std::move(u));
  }
  for (std::uint32_t i = 0, n = r.count(4 + 4 + 8); i < n && r.ok(); ++i) {
    std::string name = r.str();
    RoundUnmaskRecord u;
    const std::uint32_t shares = r.count(4);
    if (!list_ok(shares)) break;
    for (std::uint32_t k = 0; k < shares && r.ok(); ++k) u.shares.push_back(r.str());
    u.height = r.u64();
    insert_in_order(r, out.unmasks, std::move(name), std::move(u));
  }
  for (auto* secrets : {&out.self_seeds, &out.ephemeral_secrets}) {
    for (std::uint32_t i = 0, n = r.count(4 + 32); i < n && r.ok(); ++i) {
      std::string name = r.str();
      const Hash secret = r.hash();
      insert_in_order(r, *secrets, std::move(name), secret);
    }
  }
  out.failed_dealer = r.str();
  for (std::uint32_t i = 0, n = r.count(4 + 1 + 4); i < n && r.ok(); ++i) {
    std::string name = r.str();
    AbandonRecord a;
    a.reason = enum_in<LoadFailure>(r, 1, kMaxLoadFailure, "complaint reason");
    a.detail = r.str();
    insert_in_order(r, out.complaints, std::move(name), std::move(a));
  }
  return out;
}

PrivacySpend read_spend(Reader& r) {
  PrivacySpend s;
  s.steps_total = r.u64();
  s.epsilon_turn_micro = r.u64();
  s.epsilon_total_micro = r.u64();
  return s;
}

// §22.4: the readiness answers of a plan with a readiness phase; at most
// one per partner of the plan.
void read_readiness(Reader& r, Run& run) {
  run.ready_since = r.u64();
  for (std::uint32_t j = 0, n = r.count(4 + 1 + 1 + 8 + 1 + 4 + 8); j < n && r.ok(); ++j) {
    std::string name = r.str();
    ReadinessRecord rec;
    rec.ready = r.flag();
    rec.schema_sha256 = r.opt_hash();
    rec.train_rows = r.u64();
    rec.reason = r.u8();
    rec.detail = r.str();
    rec.height = r.u64();
    const auto& partners = run.plan.partners;
    if (r.ok() && std::find(partners.begin(), partners.end(), name) == partners.end())
      r.fail("a readiness answer belongs to no partner of the run");
    if (r.ok() && (rec.reason > kMaxReadinessFailure || (rec.ready != (rec.reason == 0))))
      r.fail("a readiness answer's reason is out of range");
    if (r.ok() && rec.detail.size() > kMaxRunControlTextBytes)
      r.fail("a readiness answer's detail is too long");
    insert_in_order(r, run.readiness, std::move(name), std::move(rec));
  }
}

void read_schemas(Reader& r, TrainingState& state, const Genesis& genesis) {
  const std::uint32_t ids = r.count(4 + 1 + 4);
  if (r.ok() && ids == 0) r.fail("an empty list of schemas is encoded");
  for (std::uint32_t i = 0; i < ids && r.ok(); ++i) {
    std::string id = r.str();
    ConsortiumSchema schema;
    schema.frozen = r.flag();
    const std::uint32_t n = r.count(4 + 8 + 4);
    if (r.ok() && n == 0) r.fail("a schema without summaries is encoded");
    for (std::uint32_t j = 0; j < n && r.ok(); ++j) {
      std::string member = r.str();
      const std::uint64_t height = r.u64();
      const std::string bytes = r.str();
      if (!r.ok()) break;
      if (genesis.find_member(member) == nullptr) r.fail("a data summary of no genesis member");
      pb::DataSummary m;
      if (r.ok() && (!parse_canonical(bytes, m) || m.schema_id() != id)) {
        r.fail("a data summary does not decode");
        break;
      }
      auto record = summary_from_proto(m);
      if (!record) {
        r.fail(record.error().message);
        break;
      }
      record->height = height;
      if (!schema.summaries.empty() && !same_layout(schema.summaries.begin()->second, *record))
        r.fail("the data summaries of one schema id differ in layout");
      insert_in_order(r, schema.summaries, std::move(member), std::move(*record));
    }
    if (r.ok()) insert_in_order(r, state.schemas, std::move(id), std::move(schema));
  }
}

}  // namespace

Result<TrainingState> decode_training_state(ByteView bytes, const Genesis& genesis) {
  Reader r(bytes);
  TrainingState state;
  const std::uint32_t runs = r.count(4 + 4 + 4 + 8 + 1 + 8 + 1 + 4 + 4 + 4 + 8 + 4);
  for (std::uint32_t i = 0; i < runs && r.ok(); ++i) {
    std::string id = r.str();
    const std::string plan_bytes = r.str();
    if (!r.ok()) break;
    pb::TrainingPlan p;
    if (!parse_canonical(plan_bytes, p)) {
      r.fail("the plan of run \"" + id.substr(0, 64) + "\" is not a canonical TrainingPlan");
      break;
    }
    auto plan = plan_from_proto(genesis, p);
    if (!plan) {
      r.fail("the plan of run \"" + id.substr(0, 64) + "\" is invalid: " + plan.error().message);
      break;
    }
    if (plan->run_id != id) {
      r.fail("run \"" + id.substr(0, 64) + "\" holds the plan of another run id");
      break;
    }
    Run run;
    run.plan = std::move(*plan);
    run.started_by = r.str();
    run.start_height = r.u64();
    run.status = enum_in<RunStatus>(r, 1, 7, "run status");
    run.end_height = r.u64();
    run.head = r.opt_hash();
    for (std::uint32_t j = 0, n = r.count(4 + 8); j < n && r.ok(); ++j) {
      std::string name = r.str();
      const std::int64_t c = r.i64();
      insert_in_order(r, run.contributivity_ppm, std::move(name), c);
    }
    const std::uint32_t turns = r.count(8 + 8 + 4 + 8 + 1 + 8 + 1 + 8);
    if (turns > kMaxPlanTurns) r.fail("a run holds more turns than kMaxPlanTurns");
    for (std::uint32_t j = 0; j < turns && r.ok(); ++j) {
      run.turns.push_back(read_turn(r));
      if (run.plan.has_stakes()) run.turns.back().stake = read_stake(r);
      if (run.plan.privacy.enabled() && run.turns.back().save)
        run.turns.back().save->privacy = read_spend(r);
      if (run.plan.federated()) run.turns.back().round = read_round(r, run.plan.partners.size());
    }
    for (std::uint32_t j = 0, n = r.count(32 + 1 + 4 + 8 + 8 + 32 + 4 + 32 + 32 + 8 + 1);
         j < n && r.ok(); ++j) {
      ModelRecord m;
      m.id = r.hash();
      m.parent = r.opt_hash();
      m.contributor = r.str();
      m.turn = r.u64();
      m.height = r.u64();
      m.load_token_id = r.hash();
      m.object_key = r.str();
      m.ciphertext_sha256 = r.hash();
      m.model_sha256 = r.hash();
      m.median_gain_ppm = r.i64();
      m.gain_settled = r.flag();
      if (run.plan.federated()) {
        for (std::uint32_t k = 0, c = r.count(4); k < c && r.ok(); ++k) {
          std::string name = r.str();
          if (r.ok() && !m.contributors.empty() && !(m.contributors.back() < name))
            r.fail("a model's contributors are not in ascending order");
          m.contributors.push_back(std::move(name));
        }
      }
      run.models.push_back(std::move(m));
    }
    run.refusals = read_refusals(r);
    if (!run.plan.sponsor.empty()) {
      Escrow e;
      e.funded = r.u64();
      e.state = enum_in<EscrowState>(r, 1, 4, "escrow state");
      e.settled_height = r.u64();
      for (std::uint32_t j = 0, n = r.count(4 + 8); j < n && r.ok(); ++j) {
        std::string name = r.str();
        const std::uint64_t credits = r.u64();
        insert_in_order(r, e.payouts, std::move(name), credits);
      }
      for (std::uint32_t j = 0, n = r.count(4 + 4); j < n && r.ok(); ++j) {
        std::string name = r.str();
        std::string sealed = r.str();
        if (r.ok() && sealed.size() != kWrappedKeyBytes) r.fail("a key grant is not a sealed key");
        insert_in_order(r, e.key_grants, std::move(name), std::move(sealed));
      }
      run.escrow = std::move(e);
    }
    if (run.plan.privacy.enabled()) {
      // At most one entry per partner of the plan (in order, so distinct).
      for (std::uint32_t j = 0, n = r.count(4 + 8 + 8 + 8); j < n && r.ok(); ++j) {
        std::string name = r.str();
        const PrivacySpend spend = read_spend(r);
        const auto& partners = run.plan.partners;
        if (r.ok() && std::find(partners.begin(), partners.end(), name) == partners.end())
          r.fail("a privacy spend belongs to no partner of the run");
        insert_in_order(r, run.privacy_spent, std::move(name), spend);
      }
    }
    if (run.plan.readiness_deadline_blocks > 0) read_readiness(r, run);
    if (run.status == RunStatus::cancelled || run.status == RunStatus::not_ready) {
      RunStop stop;
      stop.cause = enum_in<RunStopCause>(r, 1, 4, "run stop cause");
      stop.member = r.str();
      stop.reason = r.str();
      run.stop = std::move(stop);
    }
    if (r.ok()) insert_in_order(r, state.runs, std::move(id), std::move(run));
  }
  if (r.flag()) {
    state.active_run = r.str();
    if (r.ok() && !state.runs.contains(*state.active_run))
      r.fail("the active run is not among the runs");
  }
  state.refusals = read_refusals(r);
  // The accounts follow only when some balance is held (chain/accounts.h).
  if (r.ok() && !r.at_end()) {
    for (std::uint32_t i = 0, n = r.count(4 + 8); i < n && r.ok(); ++i) {
      std::string name = r.str();
      const std::uint64_t balance = r.u64();
      if (balance == 0) r.fail("an account with a zero balance is listed");
      if (r.ok() && genesis.find_member(name) == nullptr)
        r.fail("an account belongs to no genesis member");
      insert_in_order(r, state.accounts.balances, std::move(name), balance);
    }
    if (r.ok() && state.accounts.empty() && r.at_end())
      r.fail("an empty list of accounts is encoded");
  }
  // §23: the data summaries follow the accounts.
  if (r.ok() && !r.at_end()) read_schemas(r, state, genesis);
  if (r.ok() && !r.at_end()) r.fail("trailing bytes follow the training state");
  if (!r.ok()) return make_error("the training state does not decode: " + r.error());
  // Canonical: one state, one encoding (catches e.g. a count of refusals
  // that disagrees with the log, or fields the encoder would not write).
  if (training_encoding(state) != Bytes(bytes.begin(), bytes.end()))
    return make_error("the training state's bytes are not its canonical encoding");
  return state;
}

}  // namespace baton::chain

#include "chain/round_steps.h"

#include <algorithm>
#include <cstdlib>
#include <utility>
#include <vector>

#include "chain/privacy_steps.h"
#include "chain/protocol.h"

namespace baton::chain {

namespace {

Hash hash_of(const std::string& bytes) {
  return Hash::from_bytes(as_bytes(bytes)).value();  // callers check the length first
}

std::optional<Hash> opt_hash_of(const std::string& bytes) {
  if (bytes.empty()) return std::nullopt;
  return hash_of(bytes);
}

bool valid_opt_hash(const std::string& bytes) { return bytes.empty() || bytes.size() == 32; }

// The active federated run named by `run_id` and its current round, or why not.
std::optional<ProtocolRejected> find_round(const TrainingState& ts, const std::string& run_id,
                                           const Run*& out) {
  out = ts.active();
  if (out == nullptr) return ProtocolRejected::run_not_active;
  if (out->plan.run_id != run_id) return ProtocolRejected::wrong_run;
  if (out->current_turn() == nullptr) return ProtocolRejected::wrong_phase;  // awaiting funding
  if (!out->plan.federated()) return ProtocolRejected::not_federated;
  return std::nullopt;
}

// The current round a check accepted.
Run& round_run(TrainingState& ts) {
  Run* run = ts.active();
  if (run == nullptr || run->current_turn() == nullptr || !run->current_turn()->round) std::abort();
  return *run;
}

RoundRecord& record_of(Turn& t) {
  if (!t.round) std::abort();  // begin_round sets it on every federated turn
  return *t.round;
}

bool all_hashes(const google::protobuf::RepeatedPtrField<std::string>& list, std::size_t n) {
  if (static_cast<std::size_t>(list.size()) != n) return false;
  return std::all_of(list.begin(), list.end(), [](const std::string& b) { return b.size() == 32; });
}

std::vector<Hash> hashes_of(const google::protobuf::RepeatedPtrField<std::string>& list) {
  std::vector<Hash> out;
  out.reserve(list.size());
  for (const auto& b : list) out.push_back(hash_of(b));
  return out;
}

void begin_uploading(const Run& run, Turn& t, std::uint64_t height) {
  t.phase = TurnPhase::round_uploading;
  t.deadline_height = deadline_after(height, run.plan.save_deadline_blocks);
}

void begin_unmasking(const Run& run, Turn& t, std::uint64_t height) {
  t.phase = TurnPhase::round_unmasking;
  t.deadline_height = deadline_after(height, run.plan.vote_deadline_blocks);
}

// Every dealer's secret from the unmasks (§21.2), in rank order; the name of
// the first whose secret is not the one it committed to, or "" when all are.
std::string reconstruct(const ChainSpec& spec, const Run& run, RoundRecord& r) {
  const RoundBinding binding = round_binding(spec, run, run.turns.back().index);
  // The revealers in rank order (their number is t when this runs).
  std::vector<std::pair<std::uint32_t, const RoundUnmaskRecord*>> revealers;
  for (const auto& [name, unmask] : r.unmasks)
    revealers.emplace_back(*partner_rank(run.plan, name), &unmask);
  std::sort(revealers.begin(), revealers.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  if (revealers.size() > run.plan.secagg_threshold) revealers.resize(run.plan.secagg_threshold);
  for (std::uint32_t d = 0; d < run.plan.partners.size(); ++d) {
    const std::string& dealer = run.plan.partners[d];
    auto shared = r.shares.find(dealer);
    if (shared == r.shares.end()) continue;  // not in U1: nothing to reveal
    std::vector<std::pair<std::uint32_t, Hash>> points;
    for (const auto& [rank, unmask] : revealers)
      points.emplace_back(rank, hash_of(unmask->shares[d]));
    const std::optional<Hash> secret = shamir_combine(points);
    if (r.uploads.contains(dealer)) {
      if (!secret || seed_commitment(binding, d, *secret) != shared->second.self_seed_commitment)
        return dealer;
      r.self_seeds[dealer] = *secret;
    } else {
      const std::optional<Hash> pub = secret ? x25519_public_of(*secret) : std::nullopt;
      if (!pub || *pub != shared->second.ephemeral_public) return dealer;
      r.ephemeral_secrets[dealer] = *secret;
    }
  }
  return {};
}

}  // namespace

std::uint32_t round_need(const TrainingPlan& plan) {
  return std::max(plan.min_partners, plan.secagg_threshold);
}

std::optional<std::uint32_t> partner_rank(const TrainingPlan& plan, std::string_view name) {
  for (std::size_t i = 0; i < plan.partners.size(); ++i)
    if (plan.partners[i] == name) return static_cast<std::uint32_t>(i);
  return std::nullopt;
}

RoundBinding round_binding(const ChainSpec& spec, const Run& run, std::uint64_t round) {
  return RoundBinding{spec.genesis.chain_id, run.plan.run_id, round};
}

std::uint64_t RoundRecord::total_weight() const {
  std::uint64_t sum = 0;  // at most kMaxFederatedPartners x kMaxRoundWeight
  for (const auto& [name, u] : uploads) sum += u.weight;
  return sum;
}

// ---- RoundShare ----

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec&, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::RoundShare& s) {
  const Run* run = nullptr;
  if (auto bad = find_round(ts, s.run_id(), run)) return *bad;
  const Turn& t = *run->current_turn();
  if (!partner_rank(run->plan, sender.name)) return ProtocolRejected::out_of_turn;
  if (s.round() != t.index) return ProtocolRejected::wrong_round;
  if (t.phase != TurnPhase::round_sharing) return ProtocolRejected::wrong_phase;
  if (t.round->shares.contains(sender.name)) return ProtocolRejected::already_shared;
  const std::size_t n = run->plan.partners.size();
  const bool boxes_ok =
      static_cast<std::size_t>(s.share_boxes_size()) == n &&
      std::all_of(s.share_boxes().begin(), s.share_boxes().end(),
                  [](const std::string& b) { return b.size() == kShareBoxBytes; });
  if (s.ephemeral_public().size() != 32 || s.self_seed_commitment().size() != 32 || !boxes_ok ||
      !all_hashes(s.self_share_commitments(), n) || !all_hashes(s.key_share_commitments(), n))
    return ProtocolRejected::malformed_request;
  return CheckedTx{};
}

void apply_round_share(const ChainSpec&, TrainingState& ts, const ProtocolSender& sender,
                       const pb::RoundShare& s, std::uint64_t height) {
  Run& run = round_run(ts);
  Turn& t = *run.current_turn();
  RoundShareRecord rec;
  rec.ephemeral_public = hash_of(s.ephemeral_public());
  rec.self_seed_commitment = hash_of(s.self_seed_commitment());
  rec.share_boxes.assign(s.share_boxes().begin(), s.share_boxes().end());
  rec.self_share_commitments = hashes_of(s.self_share_commitments());
  rec.key_share_commitments = hashes_of(s.key_share_commitments());
  rec.height = height;
  RoundRecord& r = record_of(t);
  r.shares[sender.name] = std::move(rec);
  if (r.shares.size() == run.plan.partners.size()) begin_uploading(run, t, height);
}

// ---- RoundUpload ----

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec&, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::RoundUpload& u) {
  const Run* run = nullptr;
  if (auto bad = find_round(ts, u.run_id(), run)) return *bad;
  const Turn& t = *run->current_turn();
  if (u.round() != t.index) return ProtocolRejected::wrong_round;
  if (t.phase != TurnPhase::round_uploading) return ProtocolRejected::wrong_phase;
  if (!t.round->shares.contains(sender.name)) return ProtocolRejected::not_a_sharer;
  if (t.round->uploads.contains(sender.name)) return ProtocolRejected::already_uploaded;
  if (!valid_opt_hash(u.head_model_id()) || u.object_key().empty() ||
      u.object_key().size() > kMaxRoundObjectKeyBytes || u.masked_sha256().size() != 32 ||
      u.weight() < 1 || u.weight() > kMaxRoundWeight)
    return ProtocolRejected::malformed_request;
  if (opt_hash_of(u.head_model_id()) != t.head_before) return ProtocolRejected::wrong_head;
  return CheckedTx{};
}

void apply_round_upload(TrainingState& ts, const ProtocolSender& sender, const pb::RoundUpload& u,
                        std::uint64_t height) {
  Run& run = round_run(ts);
  Turn& t = *run.current_turn();
  RoundRecord& r = record_of(t);
  r.uploads[sender.name] = RoundUploadRecord{opt_hash_of(u.head_model_id()), u.object_key(),
                                             hash_of(u.masked_sha256()), u.weight(), height};
  if (r.uploads.size() == r.shares.size()) begin_unmasking(run, t, height);
}

// ---- RoundUnmask ----

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::RoundUnmask& u) {
  const Run* run = nullptr;
  if (auto bad = find_round(ts, u.run_id(), run)) return *bad;
  const Turn& t = *run->current_turn();
  if (u.round() != t.index) return ProtocolRejected::wrong_round;
  if (t.phase != TurnPhase::round_unmasking) return ProtocolRejected::wrong_phase;
  const RoundRecord& r = *t.round;
  if (!r.shares.contains(sender.name)) return ProtocolRejected::not_a_sharer;
  if (r.unmasks.contains(sender.name)) return ProtocolRejected::already_unmasked;
  const std::size_t n = run->plan.partners.size();
  if (static_cast<std::size_t>(u.shares_size()) != n ||
      !std::all_of(u.shares().begin(), u.shares().end(),
                   [](const std::string& b) { return b.empty() || b.size() == 32; }))
    return ProtocolRejected::malformed_request;
  const RoundBinding binding = round_binding(spec, *run, t.index);
  const std::uint32_t me = *partner_rank(run->plan, sender.name);  // in U1: a partner
  for (std::uint32_t d = 0; d < n; ++d) {
    const std::string& share = u.shares(static_cast<int>(d));
    auto dealer = r.shares.find(run->plan.partners[d]);
    if (dealer == r.shares.end()) {
      if (!share.empty()) return ProtocolRejected::wrong_share;  // nothing was dealt
      continue;
    }
    if (share.empty()) return ProtocolRejected::wrong_share;  // a missing share
    const bool uploaded = r.uploads.contains(dealer->first);
    const ShareKind kind = uploaded ? ShareKind::self_seed : ShareKind::ephemeral_key;
    const Hash& committed = uploaded ? dealer->second.self_share_commitments[me]
                                     : dealer->second.key_share_commitments[me];
    if (share_commitment(binding, kind, d, me, hash_of(share)) != committed)
      return ProtocolRejected::wrong_share;
  }
  return CheckedTx{};
}

void apply_round_unmask(const ChainSpec& spec, TrainingState& ts, const ProtocolSender& sender,
                        const pb::RoundUnmask& u, std::uint64_t height) {
  Run& run = round_run(ts);
  Turn& t = *run.current_turn();
  RoundRecord& r = record_of(t);
  r.unmasks[sender.name] = RoundUnmaskRecord{{u.shares().begin(), u.shares().end()}, height};
  if (r.unmasks.size() < run.plan.secagg_threshold) return;
  std::string failed = reconstruct(spec, run, r);
  if (failed.empty()) {
    t.phase = TurnPhase::round_aggregating;
    t.deadline_height = deadline_after(height, run.plan.save_deadline_blocks);
    return;
  }
  // The secrets reconstructed before the failing dealer stay public: they
  // were revealed on the ledger anyway (any t shares of it are there).
  r.failed_dealer = std::move(failed);
  finish_turn(ts, run, TurnOutcome::round_failed, height);
}

// ---- The federated branches of the chained transactions ----

Verdict<CheckedTx, ProtocolRejected> check_round_save(const ChainSpec& spec, const Run& run,
                                                      const ProtocolSender& sender,
                                                      const pb::SaveRequest& r) {
  const Turn& t = *run.current_turn();
  if (r.turn() != t.index) return ProtocolRejected::wrong_round;
  if (!partner_rank(run.plan, sender.name)) return ProtocolRejected::out_of_turn;
  if (t.phase != TurnPhase::round_aggregating) return ProtocolRejected::wrong_phase;
  auto s = save_record_from_proto(spec.genesis, r);
  if (!s) return s.reason();
  if (s->parent_model_id != t.head_before) return ProtocolRejected::wrong_head;
  // The aggregate is the weighted mean of U2's updates: its weight is theirs.
  if (s->train_samples != t.round->total_weight()) return ProtocolRejected::malformed_request;
  if (auto why = check_privacy_spend(run, sender.name, r)) return *why;
  for (const Turn& earlier : run.turns) {
    if (earlier.save && earlier.save->model_sha256 == s->model_sha256)
      return ProtocolRejected::duplicate_model;
  }
  return CheckedTx{std::move(s).value()};
}

void apply_round_save(Run& run, const ProtocolSender& sender, SaveRecord save, const Hash& tx_id,
                      std::uint64_t height) {
  Turn& t = *run.current_turn();
  t.partner = sender.name;
  t.save = std::move(save);
  t.save_request_id = tx_id;
  t.save_request_height = height;
  t.phase = TurnPhase::save_voting;
  t.deadline_height = deadline_after(height, run.plan.vote_deadline_blocks);
}

Verdict<CheckedTx, ProtocolRejected> check_round_abandon(const Run& run,
                                                         const ProtocolSender& sender,
                                                         const pb::TurnAbandon& a) {
  const Turn& t = *run.current_turn();
  if (!partner_rank(run.plan, sender.name)) return ProtocolRejected::out_of_turn;
  if (a.turn() != t.index) return ProtocolRejected::wrong_round;
  if (!valid_opt_hash(a.head_model_id()) || a.reason() < 1 || a.reason() > kMaxLoadFailure ||
      a.detail().size() > kMaxAbandonDetailBytes)
    return ProtocolRejected::malformed_request;
  if (opt_hash_of(a.head_model_id()) != t.head_before) return ProtocolRejected::wrong_head;
  return CheckedTx{};
}

void apply_round_abandon(Run& run, const ProtocolSender& sender, const pb::TurnAbandon& a) {
  record_of(*run.current_turn()).complaints[sender.name] =
      AbandonRecord{static_cast<LoadFailure>(a.reason()), a.detail()};
}

void begin_round(Run& run, std::uint64_t index, std::uint64_t height) {
  Turn t;
  t.index = index;
  t.cycle = index;
  t.start_height = height;
  t.phase = TurnPhase::round_sharing;
  t.deadline_height = deadline_after(height, run.plan.load_deadline_blocks);
  t.head_before = run.head;
  t.round = RoundRecord{};
  run.turns.push_back(std::move(t));
}

bool round_moves_on_at_deadline(Run& run, std::uint64_t height) {
  Turn& t = *run.current_turn();
  const RoundRecord& r = record_of(t);
  const std::uint32_t need = round_need(run.plan);
  if (t.phase == TurnPhase::round_sharing && r.shares.size() >= need) {
    begin_uploading(run, t, height);
    return true;
  }
  if (t.phase == TurnPhase::round_uploading && r.uploads.size() >= need) {
    begin_unmasking(run, t, height);
    return true;
  }
  return false;
}

void credit_round_gain(Run& run, const ModelRecord& m) {
  if (m.contributors.empty()) std::abort();  // callers check
  const auto count = static_cast<std::int64_t>(m.contributors.size());
  for (const auto& name : m.contributors) run.contributivity_ppm[name] += m.median_gain_ppm / count;
}

}  // namespace baton::chain

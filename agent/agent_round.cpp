// The partner agent's part in a federated round (issue 15, agent/round_step.h,
// docs/PROTOCOL.md §21): share, train and upload a masked update, reveal
// shares, aggregate.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "chain/protocol.h"
#include "learning/model.h"
#include "learning/train.h"
#include "agent/agent.h"
#include "agent/agent_keys.h"
#include "agent/agent_util.h"
#include "agent/repro.h"
#include "agent/round_step.h"
#include "agent/save_vote.h"
#include "secagg/secagg.h"

namespace baton::agent {
namespace {

using nlohmann::json;
using namespace agent_detail;

// Where a partner's masked update of a round lives.
std::string masked_object_key(const std::string& run_id, std::uint64_t round,
                              const std::string& member) {
  return "runs/" + run_id + "/rounds/" + std::to_string(round) + "/" + member + ".masked";
}

}  // namespace

chain::RoundBinding PartnerAgent::round_binding(const chain::Run& run, std::uint64_t round) const {
  return {options_.chain_id, run.plan.run_id, round};
}

Result<std::vector<chain::X25519PublicKey>> PartnerAgent::partner_keys(
    const chain::TrainingPlan& plan) const {
  std::vector<chain::X25519PublicKey> keys;
  for (const auto& name : plan.partners) {
    auto it = std::find_if(members_.begin(), members_.end(),
                           [&](const auto& m) { return m.name == name; });
    if (it == members_.end())
      return make_error("partner " + name + " is not a member of the ledger");
    keys.push_back(it->x25519);
  }
  return keys;
}

PartnerAgent::Acted PartnerAgent::share_round(const Step& s) {
  const std::string& run_id = s.run.plan.run_id;
  const std::uint64_t round = s.turn.index;
  const JournalRound* j = journal_.round(run_id, round, "share");
  if (j == nullptr) {
    const auto t_share = Clock::now();
    const auto rank = partner_rank(s.run.plan, options_.member_name);
    auto keys = partner_keys(s.run.plan);
    if (!rank || !keys) return Acted::done;  // the ledger validated the plan: not reached
    const chain::RoundBinding binding = round_binding(s.run, round);
    const secagg::RoundSecrets secrets = secagg::derive_round_secrets(*options_.x25519, binding);
    const secagg::DealtShares dealt = secagg::deal(secrets, {binding, s.run.plan.partners}, *rank,
                                                   s.run.plan.secagg_threshold, *keys);
    chain::pb::RoundShare r;
    r.set_run_id(run_id);
    r.set_round(round);
    r.set_ephemeral_public(id_bytes(dealt.ephemeral_public));
    r.set_self_seed_commitment(id_bytes(dealt.self_seed_commitment));
    for (const auto& box : dealt.share_boxes) r.add_share_boxes(box);
    for (const auto& c : dealt.self_share_commitments) r.add_self_share_commitments(id_bytes(c));
    for (const auto& c : dealt.key_share_commitments) r.add_key_share_commitments(id_bytes(c));
    metrics_.step(api::AgentStep::share, seconds_since(t_share));
    if (auto st = journal_.put_round({"share", run_id, round, "", r.SerializeAsString()}); !st) {
      journal_failed("cannot write the agent journal: " + st.error().message);
      return Acted::done;
    }
    j = journal_.round(run_id, round, "share");
  }
  submit(s, "share/" + run_id + "/" + std::to_string(round), chain::pb::TX_ROUND_SHARE, j->payload,
         s.tag() +
             ": shared its round secrets (t = " + std::to_string(s.run.plan.secagg_threshold) +
             " of " + std::to_string(s.run.plan.partners.size()) + ")");
  return Acted::done;
}

PartnerAgent::Acted PartnerAgent::train_round(const Step& s) {
  const std::string& run_id = s.run.plan.run_id;
  const std::uint64_t round = s.turn.index;
  const std::string turn_key = run_id + "/" + std::to_string(round);
  const JournalRound* j = journal_.round(run_id, round, "upload");
  if (j == nullptr) {
    const std::uint64_t t_start = wall_ms();
    const auto parsed = run_plan(s.run.plan);
    if (!parsed) return Acted::failed;
    const LocalData* data = local_data(s.run.plan);
    if (data == nullptr) return Acted::failed;
    const auto rank = partner_rank(s.run.plan, options_.member_name);
    if (!rank) return Acted::done;
    LoadTimings fetch;
    auto model = load_head(s.run, &fetch);
    if (!model) {
      head_load_failed(s, model.error());
      return Acted::failed;
    }
    const chain::Bytes head_bytes = learning::serialize(*model);
    auto head = secagg::blob_floats(head_bytes);
    learning::TrainSettings settings = parsed->training;
    settings.epochs = static_cast<int>(s.run.plan.epochs);
    settings.seed = s.run.plan.seed + round;
    settings.threads = options_.training.torch_threads;
    const auto t_train = Clock::now();
    auto report = head ? learning::train(*model, data->train, settings)
                       : Result<learning::TrainReport>(head.error());
    const double train_s = seconds_since(t_train);
    auto trained = report ? secagg::blob_floats(learning::serialize(*model))
                          : Result<std::vector<float>>(report.error());
    if (!trained) {
      metrics_.error(api::AgentErrorKind::training);
      log_once("train/" + s.tag(), spdlog::level::err,
               s.tag() + ": training failed: " + trained.error().message);
      failures_[turn_key] = TurnFailure{chain::LoadFailure::training_failed,
                                        "training failed: " + trained.error().message, false, 1};
      return Acted::failed;
    }
    // FedAvg weight: its training rows, within the ledger's bound.
    const std::uint64_t weight =
        std::clamp<std::uint64_t>(data->train.rows, 1, chain::kMaxRoundWeight);
    const auto t_mask = Clock::now();
    secagg::EncodedUpdate encoded = secagg::encode_update(*head, *trained, weight);
    std::map<std::uint32_t, chain::Hash> sharers;
    for (const auto& [name, share] : s.turn.round->shares)
      if (auto r = partner_rank(s.run.plan, name)) sharers[*r] = share.ephemeral_public;
    const chain::RoundBinding binding = round_binding(s.run, round);
    auto masked =
        secagg::mask_update(encoded.values, secagg::derive_round_secrets(*options_.x25519, binding),
                            *rank, sharers, binding);
    if (!masked) {
      failures_[turn_key] =
          TurnFailure{chain::LoadFailure::training_failed,
                      "cannot mask the update: " + masked.error().message, false, 1};
      return Acted::failed;
    }
    const chain::Bytes object = secagg::encode_masked_upload(*masked);
    const double mask_s = seconds_since(t_mask);
    const std::string key = masked_object_key(run_id, round, options_.member_name);
    const auto t_store = Clock::now();
    if (auto st = store_->put(key, object); !st) {
      metrics_.error(api::AgentErrorKind::store);
      const std::uint32_t attempts = ++store_failures_["upload/" + turn_key];
      failures_[turn_key] =
          TurnFailure{chain::LoadFailure::store_unreachable,
                      "cannot store the masked update: " + st.error().message, true, attempts};
      log_once("upload/" + s.tag() + st.error().message, spdlog::level::warn,
               s.tag() + ": cannot store the masked update: " + st.error().message);
      return Acted::failed;
    }
    const double store_s = seconds_since(t_store);
    chain::pb::RoundUpload r;
    r.set_run_id(run_id);
    r.set_round(round);
    r.set_head_model_id(id_bytes(s.turn.head_before));
    r.set_object_key(key);
    r.set_masked_sha256(id_bytes(chain::sha256(chain::ByteView(object))));
    r.set_weight(weight);
    if (auto st = journal_.put_round({"upload", run_id, round, key, r.SerializeAsString()}); !st) {
      journal_failed("cannot write the agent journal: " + st.error().message);
      return Acted::done;
    }
    append_timing(json{{"run", run_id},
                       {"turn", round},
                       {"role", "trainer"},
                       {"phase", "train_round"},
                       {"node", options_.member_name},
                       {"t_start_ms", t_start},
                       {"t_end_ms", wall_ms()},
                       {"fetch_store_s", fetch.fetch.store_s},
                       {"fetch_crypto_s", fetch.fetch.crypto_s},
                       {"train_s", train_s},
                       {"mask_s", mask_s},
                       {"store_s", store_s},
                       {"upload_bytes", object.size()},
                       {"train_rows", data->train.rows},
                       {"clipped", encoded.clipped},
                       {"non_finite", encoded.non_finite}}
                      .dump());
    record_load(fetch);
    metrics_.step(api::AgentStep::train, train_s);
    metrics_.step(api::AgentStep::seal, mask_s);
    metrics_.step(api::AgentStep::upload, store_s);
    log_->info("{}: trained {} epochs on {} rows in {:.2f} s, masked {} values in {:.2f} s{}",
               s.tag(), settings.epochs, data->train.rows, train_s, encoded.values.size(), mask_s,
               encoded.clipped + encoded.non_finite > 0
                   ? " (" + std::to_string(encoded.clipped) + " clipped, " +
                         std::to_string(encoded.non_finite) + " not finite)"
                   : std::string());
    j = journal_.round(run_id, round, "upload");
  }
  submit(s, "upload/" + run_id + "/" + std::to_string(round), chain::pb::TX_ROUND_UPLOAD,
         j->payload, s.tag() + ": uploaded its masked update " + j->object_key);
  return Acted::done;
}

PartnerAgent::Acted PartnerAgent::reveal_shares(const Step& s) {
  const std::string& run_id = s.run.plan.run_id;
  const std::uint64_t round = s.turn.index;
  const std::string turn_key = run_id + "/" + std::to_string(round);
  const JournalRound* j = journal_.round(run_id, round, "unmask");
  if (j == nullptr) {
    const auto t_unmask = Clock::now();
    const auto rank = partner_rank(s.run.plan, options_.member_name);
    if (!rank) return Acted::done;
    const chain::RoundRecord& rr = *s.turn.round;
    const chain::RoundBinding binding = round_binding(s.run, round);
    chain::pb::RoundUnmask r;
    r.set_run_id(run_id);
    r.set_round(round);
    for (std::uint32_t d = 0; d < s.run.plan.partners.size(); ++d) {
      const std::string& dealer = s.run.plan.partners[d];
      auto it = rr.shares.find(dealer);
      if (it == rr.shares.end()) {
        r.add_shares("");
        continue;
      }
      const chain::RoundShareRecord& share = it->second;
      auto opened = secagg::open_share_box(*options_.x25519, share.share_boxes.at(*rank), binding,
                                           d, *rank, share.self_share_commitments.at(*rank),
                                           share.key_share_commitments.at(*rank));
      if (!opened) {
        // Nothing valid to reveal for this dealer: say so on the ledger.
        failures_[turn_key] = TurnFailure{
            chain::LoadFailure::training_failed,
            "the shares dealt by " + dealer + " do not open: " + opened.error().message, false, 1};
        return Acted::failed;
      }
      // Never both: the self-mask seed's share of a dealer that uploaded, the
      // ephemeral key's share of one that did not.
      r.add_shares(id_bytes(rr.uploads.contains(dealer) ? opened->self_share : opened->key_share));
    }
    metrics_.step(api::AgentStep::unmask, seconds_since(t_unmask));
    if (auto st = journal_.put_round({"unmask", run_id, round, "", r.SerializeAsString()}); !st) {
      journal_failed("cannot write the agent journal: " + st.error().message);
      return Acted::done;
    }
    j = journal_.round(run_id, round, "unmask");
  }
  submit(
      s, "unmask/" + run_id + "/" + std::to_string(round), chain::pb::TX_ROUND_UNMASK, j->payload,
      s.tag() + ": revealed its shares for " + std::to_string(s.turn.round->uploads.size()) +
          " uploads and " +
          std::to_string(s.turn.round->shares.size() - s.turn.round->uploads.size()) + " dropouts");
  return Acted::done;
}

Result<PartnerAgent::RoundAggregate> PartnerAgent::compute_round_aggregate(const Step& s) {
  const chain::RoundRecord& rr = *s.turn.round;
  auto model = load_head(s.run, nullptr);
  if (!model) return model.error();
  RoundAggregate out;
  const chain::Bytes head_bytes = learning::serialize(*model);
  auto head = secagg::blob_floats(head_bytes);
  if (!head) return make_error("the round's head does not read: " + head.error().message);
  const std::size_t size = secagg::masked_upload_size(head->size());
  std::map<std::uint32_t, std::vector<std::uint64_t>> masked;
  std::map<std::uint32_t, chain::Hash> self_seeds, dropped, sharers;
  const auto t_fetch = Clock::now();
  for (const auto& [name, up] : rr.uploads) {
    const auto rank = partner_rank(s.run.plan, name);
    if (!rank) return make_error("the upload of " + name + " is not a partner's");
    auto object = store_->get_at_most(up.object_key, size);
    if (!object) {
      // Missing, or not the size the plan's model gives: unusable (its
      // partner's, or the store's, fault). Anything else may pass.
      const int code = object.error().code;
      const bool unusable = code == static_cast<int>(storage::StoreErrc::not_found) ||
                            code == static_cast<int>(storage::StoreErrc::too_large);
      return Error{"the masked update of " + name + " (" + up.object_key +
                       ") cannot be used: " + object.error().message,
                   unusable ? 1 : 2};
    }
    if (chain::sha256(chain::ByteView(*object)) != up.masked_sha256)
      return Error{"the masked update of " + name + " does not match its RoundUpload hash", 1};
    auto values = secagg::decode_masked_upload(*object, head->size());
    if (!values) return Error{"the masked update of " + name + ": " + values.error().message, 1};
    out.upload_bytes += object->size();
    masked.emplace(*rank, std::move(*values));
  }
  out.fetch_s = seconds_since(t_fetch);
  for (const auto& [name, seed] : rr.self_seeds)
    if (auto r = partner_rank(s.run.plan, name)) self_seeds[*r] = seed;
  for (const auto& [name, secret] : rr.ephemeral_secrets)
    if (auto r = partner_rank(s.run.plan, name)) dropped[*r] = secret;
  for (const auto& [name, share] : rr.shares)
    if (auto r = partner_rank(s.run.plan, name)) sharers[*r] = share.ephemeral_public;
  const auto t_sum = Clock::now();
  auto sum =
      secagg::unmask_sum(masked, self_seeds, dropped, sharers, round_binding(s.run, s.turn.index));
  if (!sum) return make_error("cannot unmask the round's sum: " + sum.error().message);
  auto bytes =
      secagg::blob_with_floats(head_bytes, secagg::apply_aggregate(*head, *sum, rr.total_weight()));
  if (!bytes) return bytes.error();
  out.unmask_s = seconds_since(t_sum);
  out.model_bytes = std::move(*bytes);
  return out;
}

PartnerAgent::Acted PartnerAgent::aggregate_round(const Step& s) {
  const std::string& run_id = s.run.plan.run_id;
  const std::uint64_t round = s.turn.index;
  const std::string turn_key = run_id + "/" + std::to_string(round);
  const JournalCandidate* c = journal_.candidate(run_id, round);
  if (c == nullptr) {
    const std::uint64_t t_start = wall_ms();
    auto aggregate = compute_round_aggregate(s);
    if (!aggregate) {
      metrics_.error(api::AgentErrorKind::store);
      const int code = aggregate.error().code;
      const std::uint32_t attempts = ++store_failures_["aggregate/" + turn_key];
      failures_[turn_key] = TurnFailure{
          code == 1 ? chain::LoadFailure::upload_unusable : chain::LoadFailure::store_unreachable,
          aggregate.error().message, code != 1, attempts};
      log_once("aggregate/" + s.tag() + aggregate.error().message, spdlog::level::warn,
               s.tag() + ": cannot aggregate: " + aggregate.error().message);
      return Acted::failed;
    }
    const chain::Hash model_sha256 = chain::sha256(chain::ByteView(aggregate->model_bytes));
    if (auto same = repeated_model(s.run, model_sha256, round)) {
      failures_[turn_key] = TurnFailure{chain::LoadFailure::training_failed,
                                        "the aggregate changed nothing: " + *same, false, 1};
      return Acted::failed;
    }
    auto sealed =
        seal_and_upload(*store_, aggregate->model_bytes,
                        binding_for(s.run, round, options_.member_name, s.turn.head_before),
                        candidate_recipients(members_), keeping_handoff());
    if (!sealed) {
      metrics_.error(api::AgentErrorKind::store);
      const std::uint32_t attempts = ++store_failures_["seal/" + turn_key];
      failures_[turn_key] =
          upload_failure(static_cast<HandoffErrc>(sealed.error().code),
                         "cannot upload the aggregate: " + sealed.error().message, attempts);
      return Acted::failed;
    }
    std::vector<std::string> contributors;
    for (const auto& [name, up] : s.turn.round->uploads) contributors.push_back(name);
    const json metrics{{"aggregate", "fedavg"},
                       {"contributors", contributors},
                       {"total_weight", s.turn.round->total_weight()},
                       {"dropouts", s.turn.round->shares.size() - contributors.size()}};
    chain::SaveRecord record =
        save_record_for(*sealed, s.turn.head_before, s.turn.round->total_weight(), metrics.dump());
    // The aggregator's record (issue 16): it trained nothing, so no seed and
    // no data or schema hash; its build and threads, and the CPU it summed on.
    learning::TrainSettings aggregation;
    aggregation.seed = 0;
    aggregation.threads = options_.training.torch_threads;
    record.repro = repro_record(aggregation, nullptr, {}, "cpu");
    const chain::pb::SaveRequest r = chain::save_request_to_proto(run_id, round, record);
    JournalCandidate jc = journal_candidate(run_id, round, *sealed, s.turn.round->total_weight(),
                                            metrics.dump(), r.SerializeAsString());
    if (auto st = journal_.put_candidate(std::move(jc)); !st) {
      journal_failed("cannot write the agent journal, so the aggregate is not submitted: " +
                     st.error().message);
      return Acted::done;
    }
    append_timing(json{{"run", run_id},
                       {"turn", round},
                       {"role", "aggregator"},
                       {"phase", "aggregate_round"},
                       {"node", options_.member_name},
                       {"t_start_ms", t_start},
                       {"t_end_ms", wall_ms()},
                       {"fetch_uploads_s", aggregate->fetch_s},
                       {"unmask_s", aggregate->unmask_s},
                       {"upload_bytes", aggregate->upload_bytes},
                       {"store_s", sealed->timings.store_s},
                       {"crypto_s", sealed->timings.crypto_s},
                       {"blob_bytes", sealed->blob_size}}
                      .dump());
    metrics_.step(api::AgentStep::fetch, aggregate->fetch_s);
    metrics_.step(api::AgentStep::aggregate, aggregate->unmask_s);
    metrics_.step(api::AgentStep::seal, sealed->timings.crypto_s);
    metrics_.step(api::AgentStep::upload, sealed->timings.store_s);
    log_->info("{}: aggregated {} masked updates (total weight {}) in {:.2f} s", s.tag(),
               contributors.size(), s.turn.round->total_weight(),
               aggregate->fetch_s + aggregate->unmask_s);
    c = journal_.candidate(run_id, round);
  }
  submit(s, "save/" + run_id + "/" + std::to_string(round), chain::pb::TX_SAVE_REQUEST, c->payload,
         s.tag() + ": submitted the aggregate " + c->object_key + " (model " +
             c->model_sha256.substr(0, 12) + ")");
  return Acted::done;
}

void PartnerAgent::complain(const Step& s, const Complain& c) {
  const std::string key = s.run.plan.run_id + "/" + std::to_string(s.turn.index);
  complained_[key] = c.what;
  chain::pb::TurnAbandon a;
  a.set_run_id(s.run.plan.run_id);
  a.set_turn(s.turn.index);
  a.set_head_model_id(id_bytes(s.turn.head_before));
  a.set_reason(static_cast<std::uint32_t>(c.what.reason));
  a.set_detail(c.what.detail);
  submit(s, "complain/" + key, chain::pb::TX_TURN_ABANDON, a.SerializeAsString(),
         s.tag() + ": cannot do its part in the round: " +
             std::string(chain::to_string(c.what.reason)) + " (" + c.what.detail + ")");
}

}  // namespace baton::agent

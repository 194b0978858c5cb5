#include "api/training_json.h"

#include <chrono>
#include <filesystem>

#include "chain/payout_tokens.h"
#include "chain/privacy_steps.h"
#include "chain/protocol.h"
#include "api/http_client.h"
#include "storage/ledger_store.h"
#include "storage/ledger_verify.h"

namespace baton::api {
namespace {

using nlohmann::json;

std::string opt_hex(const std::optional<chain::Hash>& h) { return h ? h->hex() : std::string(); }

json model_votes_json(const chain::Turn& t) {
  json votes = json::array();
  for (const auto& [name, v] : t.model_votes) {
    votes.push_back({{"voter", name},
                     {"approve", v.approve},
                     {"auc_candidate_ppm", v.auc_candidate_ppm},
                     {"auc_head_ppm", v.auc_head_ppm},
                     {"validation_size", v.validation_size},
                     {"p_worse_ppm", v.p_worse_ppm},
                     {"reason", v.reason},
                     {"height", v.height},
                     {"loss_candidate_micro", v.loss_candidate_micro},
                     {"loss_head_micro", v.loss_head_micro}});
  }
  return votes;
}

std::string bytes_hex(const std::string& bytes) { return chain::to_hex(chain::as_bytes(bytes)); }

// A federated round (docs/PROTOCOL.md §21): who shared (U1), uploaded (U2)
// and unmasked, with what; the secrets the ledger reconstructed; why it
// failed; the partners' complaints. Share boxes are left out (n x 112 bytes
// per sharer, of use to their recipients only: the agent reads the state).
json round_json(const chain::RoundRecord& r) {
  json shares = json::object();
  for (const auto& [name, s] : r.shares) {
    shares[name] = {{"ephemeral_public", s.ephemeral_public.hex()},
                    {"self_seed_commitment", s.self_seed_commitment.hex()},
                    {"height", s.height}};
  }
  json uploads = json::object();
  for (const auto& [name, u] : r.uploads) {
    uploads[name] = {{"head_model_id", opt_hex(u.head_model_id)},
                     {"object_key", u.object_key},
                     {"masked_sha256", u.masked_sha256.hex()},
                     {"weight", u.weight},
                     {"height", u.height}};
  }
  json unmasks = json::object();
  for (const auto& [name, u] : r.unmasks) {
    json revealed = json::array();
    for (const auto& share : u.shares) revealed.push_back(bytes_hex(share));
    unmasks[name] = {{"shares", revealed}, {"height", u.height}};
  }
  json self_seeds = json::object();
  for (const auto& [name, h] : r.self_seeds) self_seeds[name] = h.hex();
  json ephemeral = json::object();
  for (const auto& [name, h] : r.ephemeral_secrets) ephemeral[name] = h.hex();
  json complaints = json::object();
  for (const auto& [name, c] : r.complaints)
    complaints[name] = {{"reason", chain::to_string(c.reason)}, {"detail", c.detail}};
  return {{"shares", shares},
          {"uploads", uploads},
          {"unmasks", unmasks},
          {"total_weight", r.total_weight()},
          {"self_seeds", self_seeds},
          {"ephemeral_secrets", ephemeral},
          {"failed_dealer", r.failed_dealer},
          {"complaints", complaints}};
}

json turn_json(const chain::Turn& t) {
  json approvals = json::array();
  for (const auto& [name, a] : t.load_approvals) {
    approvals.push_back(
        {{"voter", name}, {"approve", a.approve}, {"reason", a.reason}, {"height", a.height}});
  }
  json j{{"turn", t.index},
         {"cycle", t.cycle},
         {"partner", t.partner},
         {"phase", chain::to_string(t.phase)},
         {"decision", t.outcome == chain::TurnOutcome::pending
                          ? "pending"
                          : std::string(chain::to_string(t.outcome))},
         {"start_height", t.start_height},
         {"deadline_height", t.deadline_height},
         {"end_height", t.end_height},
         {"load_request_id", opt_hex(t.load_request_id)},
         {"load_request_height", t.load_request_height},
         {"load_token_id", opt_hex(t.load_token_id)},
         {"load_token_height", t.load_token_height},
         {"load_approvals", approvals},
         {"save_request_id", opt_hex(t.save_request_id)},
         {"save_request_height", t.save_request_height},
         {"save_token_id", opt_hex(t.save_token_id)},
         {"save_token_height", t.save_token_height},
         {"votes", model_votes_json(t)},
         {"head_before", opt_hex(t.head_before)}};
  if (t.round) j["round"] = round_json(*t.round);
  if (t.abandon) {
    j["abandon"] = {{"reason", chain::to_string(t.abandon->reason)}, {"detail", t.abandon->detail}};
  }
  if (t.save) {
    json wrapped = json::object();
    for (const auto& [name, envelope] : t.save->wrapped_keys)
      wrapped[name] = chain::to_hex(chain::as_bytes(envelope));
    j["save"] = {{"parent_model_id", opt_hex(t.save->parent_model_id)},
                 {"object_key", t.save->object_key},
                 {"ciphertext_sha256", t.save->ciphertext_sha256.hex()},
                 {"model_sha256", t.save->model_sha256.hex()},
                 {"key_commitment", t.save->key_commitment.hex()},
                 {"wrapped_keys", wrapped},
                 {"train_samples", t.save->train_samples},
                 {"metrics_json", t.save->metrics_json}};
    if (t.save->repro) {  // issue 16: SaveRequest fields 15..22
      const chain::ReproRecord& r = *t.save->repro;
      j["save"]["repro"] = {{"train_seed", r.train_seed},
                            {"torch_threads", r.torch_threads},
                            {"baton_version", r.baton_version},
                            {"baton_commit", r.baton_commit},
                            {"libtorch_version", r.libtorch_version},
                            {"device", r.device},
                            {"train_rows_sha256", opt_hex(r.train_rows_sha256)},
                            {"schema_sha256", opt_hex(r.schema_sha256)}};
    }
  }
  return j;
}

json refusals_json(const chain::RefusalLog& log) {
  json recent = json::array();
  for (const auto& r : log.recent) {
    json j{{"height", r.height},
           {"tx_hash", r.tx_hash.hex()},
           {"sender", r.sender},
           {"type", chain::pb::TxType_Name(r.type)},
           {"reason", chain::to_string(r.reason)},
           {"run_id", r.run_id}};
    j["turn"] = r.turn ? json(*r.turn) : json(nullptr);
    recent.push_back(std::move(j));
  }
  return {{"total", log.total}, {"recent", recent}};
}

}  // namespace

json lineage_models_json(const chain::Run& run) {
  json models = json::array();
  for (const auto& m : run.models) {
    json votes = json::array();
    for (const auto& t : run.turns) {
      if (t.save_token_id == m.id) votes = model_votes_json(t);
    }
    models.push_back({{"id", m.id.hex()},
                      {"parent", opt_hex(m.parent)},
                      {"contributor", m.contributor},
                      {"turn", m.turn},
                      {"height", m.height},
                      {"load_token_id", m.load_token_id.hex()},
                      {"save_token_id", m.id.hex()},
                      {"object_key", m.object_key},
                      {"ciphertext_sha256", m.ciphertext_sha256.hex()},
                      {"model_sha256", m.model_sha256.hex()},
                      {"median_gain_ppm", m.median_gain_ppm},
                      {"gain_settled", m.gain_settled},
                      {"votes", votes}});
    if (!m.contributors.empty()) models.back()["contributors"] = m.contributors;
  }
  return models;
}

namespace {

json spend_json(const chain::PrivacySpend& s) {
  return {{"steps_total", s.steps_total},
          {"epsilon_turn_micro", s.epsilon_turn_micro},
          {"epsilon_total_micro", s.epsilon_total_micro}};
}

// The plan's privacy and each partner's spend (docs/PROTOCOL.md §20.2).
json privacy_json(const chain::Run& run) {
  const chain::PrivacyPlan& p = run.plan.privacy;
  json partners = json::object();
  for (const auto& name : run.plan.partners) {
    const chain::PrivacySpend s = chain::privacy_spent_by(run, name);
    bool spent = false;
    for (const auto& t : run.turns)
      spent = spent || (t.partner == name && t.outcome == chain::TurnOutcome::budget_spent);
    partners[name] = {
        {"epsilon_spent_micro", s.epsilon_total_micro},
        {"epsilon_left_micro",
         p.budget_micro > s.epsilon_total_micro ? p.budget_micro - s.epsilon_total_micro : 0},
        {"steps_total", s.steps_total},
        {"budget_spent", spent}};
  }
  return {{"mechanism", p.mechanism == chain::PrivacyMechanism::dp_sgd ? "dp_sgd" : "local"},
          {"epsilon_budget_micro", p.budget_micro},
          {"delta_pico", p.delta_pico},
          {"partners", partners}};
}

}  // namespace

namespace {

// §22: each partner's RunReady, or "no_answer" while it has not answered.
json readiness_json(const chain::Run& run) {
  json partners = json::object();
  for (const auto& p : run.plan.partners) {
    auto it = run.readiness.find(p);
    if (it == run.readiness.end()) {
      partners[p] = {{"answer", "no_answer"}};
      continue;
    }
    const chain::ReadinessRecord& r = it->second;
    partners[p] = {
        {"answer", r.ready ? "ready" : "refused"},
        {"reason",
         r.ready ? std::string()
                 : std::string(chain::to_string(static_cast<chain::ReadinessFailure>(r.reason)))},
        {"detail", r.detail},
        {"schema_sha256", opt_hex(r.schema_sha256)},
        {"train_rows", r.train_rows},
        {"height", r.height}};
  }
  const std::uint64_t blocks = run.plan.readiness_deadline_blocks;
  const std::uint64_t deadline =
      blocks > UINT64_MAX - run.ready_since ? UINT64_MAX : run.ready_since + blocks;
  return {{"since_height", run.ready_since}, {"deadline_height", deadline}, {"partners", partners}};
}

}  // namespace

json run_json(const chain::Run& run) {
  json turns = json::array();
  for (const auto& t : run.turns) {
    turns.push_back(turn_json(t));
    if (run.plan.privacy.enabled() && t.save) turns.back()["privacy"] = spend_json(t.save->privacy);
    if (!run.plan.has_stakes()) continue;
    json forfeits = json::object();
    for (const auto& [name, credits] : t.stake.forfeits) forfeits[name] = credits;
    turns.back()["stake"] = {{"deposit", t.stake.deposit},   {"cost", t.stake.cost},
                             {"settled", t.stake.settled},   {"locked", t.stake.locked()},
                             {"refunded", t.stake.refunded}, {"escrowed", t.stake.escrowed},
                             {"forfeits", forfeits}};
  }
  json contributivity = json::object();
  for (const auto& [name, c] : run.contributivity_ppm) contributivity[name] = c;
  json out{{"run_id", run.plan.run_id},
           {"status", chain::to_string(run.status)},
           {"started_by", run.started_by},
           {"start_height", run.start_height},
           {"end_height", run.end_height},
           {"partners", run.plan.partners},
           {"mode", chain::to_string(run.plan.mode)},
           {"cycles", run.plan.cycles},
           {"head", opt_hex(run.head)},
           {"contributivity_ppm", contributivity},
           {"gains_settled", chain::gains_settled(run)},
           {"turns", turns},
           {"models", lineage_models_json(run)},
           {"refusals", refusals_json(run.refusals)},
           {"plan", chain::plan_to_json(run.plan)}};
  if (run.plan.has_stakes() || run.plan.min_balance > 0) {
    // What each partner must lock at its next LoadRequest (§19.9).
    json next = json::object();
    for (const auto& p : run.plan.partners) next[p] = chain::required_deposit(run, p);
    out["deposits"] = {
        {"submission_cost", run.plan.submission_cost}, {"deposit", run.plan.deposit},
        {"factor", run.plan.deposit_factor},           {"min_balance", run.plan.min_balance},
        {"locked", chain::locked_stakes(run)},         {"next_deposit", next}};
  }
  if (run.plan.privacy.enabled()) out["privacy"] = privacy_json(run);
  if (run.plan.readiness_deadline_blocks > 0) out["readiness"] = readiness_json(run);
  if (run.stop) {
    out["stop"] = {{"cause", chain::to_string(run.stop->cause)},
                   {"member", run.stop->member},
                   {"reason", run.stop->reason}};
  }
  if (run.escrow) {
    json payouts = json::object();
    for (const auto& [name, credits] : run.escrow->payouts) payouts[name] = credits;
    json tokens = json::object();
    for (const auto& [name, t] : chain::payout_tokens(run)) tokens[name] = t;
    // Granter -> its 80-byte sealed box (hex) of the final model's key for the
    // sponsor (docs/PROTOCOL.md §19.8).
    json grants = json::object();
    for (const auto& [name, sealed] : run.escrow->key_grants)
      grants[name] = chain::to_hex(chain::as_bytes(sealed));
    out["escrow"] = {{"sponsor", run.plan.sponsor},
                     {"min_credits", run.plan.min_escrow},
                     {"funded", run.escrow->funded},
                     {"state", chain::to_string(run.escrow->state)},
                     {"settled_height", run.escrow->settled_height},
                     {"payout_tokens", tokens},
                     {"payouts", payouts},
                     {"key_grants", grants}};
  }
  return out;
}

json training_status_json(const chain::LedgerState& state, std::string_view chain_id) {
  const auto& ts = state.training;
  json runs = json::array();
  for (const auto& [id, run] : ts.runs) runs.push_back(run_json(run));
  json open = json::array();
  for (const auto& r : chain::open_requests(ts)) {
    open.push_back({{"kind", r.kind == chain::OpenRequest::Kind::load ? "load" : "save"},
                    {"run_id", r.run_id},
                    {"turn", r.turn},
                    {"requester", r.requester},
                    {"request_id", r.request_id.hex()},
                    {"deadline_height", r.deadline_height}});
  }
  json balances = json::object();
  for (const auto& [name, credits] : ts.accounts.balances) balances[name] = credits;
  json out{{"chain_id", chain_id},
           {"height", state.height},
           {"active_run", ts.active_run ? json(*ts.active_run) : json(nullptr)},
           {"open_requests", open},
           {"runs", runs},
           {"refusals", refusals_json(ts.refusals)},
           {"balances", balances}};
  if (auto view = chain::whose_turn(ts)) {
    out["current_turn"] = {{"run_id", view->run_id},
                           {"turn", view->turn},
                           {"cycle", view->cycle},
                           {"partner", view->partner},
                           {"phase", chain::to_string(view->phase)},
                           {"deadline_height", view->deadline_height},
                           {"head", opt_hex(view->head)}};
  }
  return out;
}

std::string candidate_model_id(const json& run, const json& turn) {
  std::string id = "turn-" + std::to_string(turn.at("turn").get<std::uint64_t>());
  if (run.value("mode", "chained") == "federated")
    id += "-" + turn.at("partner").get<std::string>();
  return id;
}

const json* select_run(const json& status, std::string_view run_id) {
  const json* chosen = nullptr;
  if (!status.contains("runs") || !status["runs"].is_array()) return nullptr;
  const std::string active =
      status.value("active_run", json()).is_string() ? status["active_run"].get<std::string>() : "";
  for (const auto& r : status["runs"]) {
    const std::string id = r.value("run_id", "");
    if (!run_id.empty()) {
      if (id == run_id) return &r;
      continue;
    }
    if (!active.empty()) {
      if (id == active) return &r;
      continue;
    }
    if (chosen == nullptr || r.value("start_height", std::uint64_t{0}) >
                                 (*chosen).value("start_height", std::uint64_t{0}))
      chosen = &r;
  }
  return chosen;
}

namespace {

Error source_error(std::string message, TrainingSourceErrc code) {
  return make_error(std::move(message), static_cast<int>(code));
}

Result<json> from_ledger(const std::string& data_dir) {
  namespace fs = std::filesystem;
  const fs::path dir(data_dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return source_error(data_dir + " is not a directory; give a ledger or node data directory",
                        TrainingSourceErrc::bad_source);
  }
  const bool node_dir =
      !fs::exists(dir / "CURRENT", ec) && fs::exists(dir / "ledger" / "CURRENT", ec);
  auto store = storage::LedgerStore::open_reader(node_dir ? dir / "ledger" : dir);
  if (!store) return source_error(store.error().message, TrainingSourceErrc::bad_source);
  auto spec = storage::stored_chain_spec(**store);
  if (!spec) {
    return source_error(
        "the ledger in " + data_dir + " has no valid genesis copy: " + spec.reason().what,
        TrainingSourceErrc::not_verified);
  }
  auto verdict = storage::verify_ledger(**store, *spec);
  if (!verdict) return source_error(verdict.error().message, TrainingSourceErrc::io);
  if (!verdict->ok()) {
    return source_error("the ledger in " + data_dir + " does not verify at height " +
                            std::to_string(verdict->reason().height) + ": " +
                            verdict->reason().what + "; run `baton ledger verify` for details",
                        TrainingSourceErrc::not_verified);
  }
  return training_status_json(verdict->value().state, spec->chain_id());
}

Result<json> from_node(const std::string& url, const std::string& cert_sha256) {
  auto client = HttpClient::connect_to(url, std::chrono::seconds(10), cert_sha256);
  if (!client) return source_error(client.error().message, TrainingSourceErrc::bad_source);
  auto r = (*client)->get("/training");
  if (!r) return source_error(r.error().message, TrainingSourceErrc::unavailable);
  json j = json::parse(r->body, nullptr, false);
  if (r->status != 200 || j.is_discarded() || !j.is_object() || !j.contains("runs")) {
    const std::string why = !j.is_discarded() && j.is_object() && j.contains("error")
                                ? j["error"].dump()
                                : r->body.substr(0, 200);
    return source_error("the node at " + url + " did not return its training state (HTTP " +
                            std::to_string(r->status) + ")" + (why.empty() ? "" : ": " + why) +
                            (r->status == 404 ? "; is it a batond admin API of this version?" : ""),
                        TrainingSourceErrc::unavailable);
  }
  return j;
}

}  // namespace

Result<json> read_training_status(const TrainingSource& source) {
  if (source.data_dir.empty() == source.node_url.empty()) {
    return source_error("give either --data-dir DIR or --node URL",
                        TrainingSourceErrc::bad_arguments);
  }
  return source.data_dir.empty() ? from_node(source.node_url, source.node_cert_sha256)
                                 : from_ledger(source.data_dir);
}

}  // namespace baton::api

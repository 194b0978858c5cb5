// The JSON form of a training plan (genesis "training_plan", `baton run start
// --plan`): parsing with named-field errors, and encoding. Bounds and
// validation: training_plan.cpp.
#include <cmath>
#include <cstdlib>
#include <set>

#include "chain/privacy_plan.h"
#include "chain/training_plan.h"

namespace baton::chain {

namespace {

using json = nlohmann::json;

Status refuse_unknown(const json& j, const std::set<std::string>& known, const std::string& where) {
  for (const auto& [key, value] : j.items()) {
    if (!known.contains(key))
      return make_error("training plan: unknown field \"" + key + "\" in " + where);
  }
  return {};
}

Result<std::string> get_string(const json& j, const char* key, const std::string& where,
                               std::optional<std::string> def = {}) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (def) return *def;
    return make_error("training plan: " + where + " needs the field \"" + key + "\"");
  }
  if (!it->is_string())
    return make_error("training plan: " + where + "." + key + " must be a string");
  return it->get<std::string>();
}

Result<std::uint64_t> get_uint(const json& j, const char* key, const std::string& where,
                               std::optional<std::uint64_t> def = {}) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (def) return *def;
    return make_error("training plan: " + where + " needs the field \"" + key + "\"");
  }
  if (!it->is_number_unsigned())
    return make_error("training plan: " + where + "." + key + " must be a non-negative integer");
  return it->get<std::uint64_t>();
}

// A decimal number in [0, max] scaled by `scale` and rounded (1e-3 * 1e9 = 1000000).
Result<std::uint64_t> get_scaled(const json& j, const char* key, const std::string& where,
                                 double scale, double max, std::optional<double> def = {}) {
  auto it = j.find(key);
  double v = 0;
  if (it == j.end()) {
    if (!def) return make_error("training plan: " + where + " needs the field \"" + key + "\"");
    v = *def;
  } else {
    if (!it->is_number())
      return make_error("training plan: " + where + "." + key + " must be a number");
    v = it->get<double>();
  }
  if (!(v >= 0 && v <= max))
    return make_error("training plan: " + where + "." + key + " must be between 0 and " +
                      std::to_string(max));
  return static_cast<std::uint64_t>(std::llround(v * scale));
}

Result<std::vector<std::string>> get_strings(const json& j, const char* key,
                                             const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array())
    return make_error("training plan: " + where + "." + key + " must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : *it) {
    if (!e.is_string())
      return make_error("training plan: " + where + "." + key + " must be an array of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

const json& sub(const json& j, const char* key) {
  static const json empty = json::object();
  auto it = j.find(key);
  return it == j.end() ? empty : *it;
}

#define TRY_ASSIGN(lhs, expr)   \
  do {                          \
    auto r_ = (expr);           \
    if (!r_) return r_.error(); \
    lhs = std::move(*r_);       \
  } while (false)

}  // namespace

Result<std::optional<TrainingPlan>> decode_plan_json(const json& j,
                                                     std::uint64_t default_ready_blocks) {
  if (!j.is_object()) return make_error("training plan: must be a JSON object");
  if (j.empty()) return std::optional<TrainingPlan>{};
  if (auto s =
          refuse_unknown(j,
                         {"run_id", "model", "dataset", "partners", "cycles", "training",
                          "vote_policy", "quorum", "deadlines", "token_mode", "turn_order",
                          "suspend_after", "escrow", "deposits", "privacy", "mode", "federated"},
                         "the plan");
      !s)
    return s.error();
  for (const char* k : {"dataset", "training", "vote_policy", "quorum", "deadlines", "escrow",
                        "deposits", "privacy", "federated"}) {
    if (j.contains(k) && !j[k].is_object())
      return make_error(std::string("training plan: \"") + k + "\" must be a JSON object");
  }
  TrainingPlan p;
  TRY_ASSIGN(p.run_id, get_string(j, "run_id", "the plan"));
  auto model = j.find("model");
  if (model == j.end())
    return make_error(
        "training plan: the plan needs the field \"model\" (the architecture spec, a JSON object)");
  p.model_spec = model->is_string() ? model->get<std::string>()
                                    : model->dump();  // dump sorts keys: one text per spec
  p.model_spec_hash = sha256(p.model_spec);
  const json& ds = sub(j, "dataset");
  if (auto s = refuse_unknown(
          ds, {"feature_columns", "label_column", "positive_value", "name", "schema_id"},
          "dataset");
      !s)
    return s.error();
  TRY_ASSIGN(p.feature_columns, get_strings(ds, "feature_columns", "dataset"));
  TRY_ASSIGN(p.label_column, get_string(ds, "label_column", "dataset"));
  TRY_ASSIGN(p.positive_value, get_string(ds, "positive_value", "dataset", "1"));
  TRY_ASSIGN(p.dataset, get_string(ds, "name", "dataset", ""));
  TRY_ASSIGN(p.schema_id, get_string(ds, "schema_id", "dataset", ""));
  TRY_ASSIGN(p.partners, get_strings(j, "partners", "the plan"));
  std::string training_mode;
  TRY_ASSIGN(training_mode, get_string(j, "mode", "the plan", "chained"));
  if (training_mode == "federated") {
    p.mode = TrainingMode::federated;
  } else if (training_mode != "chained") {
    return make_error("training plan: mode \"" + training_mode.substr(0, 64) +
                      "\" is unknown; use chained (one partner after the other) or federated "
                      "(rounds of securely aggregated updates)");
  }
  const bool federated = p.federated();
  if (federated != j.contains("federated")) {
    return make_error(federated ? "training plan: mode federated needs the object \"federated\" "
                                  "(rounds, local_epochs, min_partners, threshold)"
                                : "training plan: \"federated\" needs \"mode\": \"federated\"");
  }
  // A federated plan counts rounds and local epochs in "federated"; the
  // chained fields would say the same thing twice, so they are refused.
  if (federated && j.contains("cycles"))
    return make_error(
        "training plan: a federated plan gives its rounds as federated.rounds, "
        "not \"cycles\"; drop \"cycles\"");
  if (federated && sub(j, "training").contains("epochs"))
    return make_error(
        "training plan: a federated plan gives its epochs per round as "
        "federated.local_epochs, not training.epochs; drop training.epochs");
  const json& fed = sub(j, "federated");
  if (auto s =
          refuse_unknown(fed, {"rounds", "local_epochs", "min_partners", "threshold"}, "federated");
      !s)
    return s.error();
  std::uint64_t cycles = 0;
  TRY_ASSIGN(cycles,
             federated ? get_uint(fed, "rounds", "federated") : get_uint(j, "cycles", "the plan"));
  // Narrowing to the u32 fields: anything larger is over validate_plan's bounds anyway.
  if (cycles > kMaxPlanTurns) {
    return make_error("training plan: cycles is " + std::to_string(cycles) +
                      "; a run may have at most " + std::to_string(kMaxPlanTurns) +
                      " turns (cycles x partners)");
  }
  p.cycles = static_cast<std::uint32_t>(cycles);
  const json& tr = sub(j, "training");
  if (auto s = refuse_unknown(
          tr, {"epochs", "batch_size", "optimizer", "learning_rate", "weight_decay", "seed"},
          "training");
      !s)
    return s.error();
  std::uint64_t epochs = 0, batch = 0;
  TRY_ASSIGN(epochs, federated ? get_uint(fed, "local_epochs", "federated", 1)
                               : get_uint(tr, "epochs", "training", 1));
  TRY_ASSIGN(batch, get_uint(tr, "batch_size", "training", 32));
  if (epochs > kMaxPlanEpochs) {
    return make_error("training plan: training.epochs is " + std::to_string(epochs) +
                      "; it must be between 1 and " + std::to_string(kMaxPlanEpochs));
  }
  if (batch > kMaxPlanBatchSize) {
    return make_error("training plan: training.batch_size is " + std::to_string(batch) +
                      "; it must be between 1 and " + std::to_string(kMaxPlanBatchSize));
  }
  p.epochs = static_cast<std::uint32_t>(epochs);
  p.batch_size = static_cast<std::uint32_t>(batch);
  TRY_ASSIGN(p.optimizer, get_string(tr, "optimizer", "training", "adam"));
  TRY_ASSIGN(p.learning_rate_nano, get_scaled(tr, "learning_rate", "training", 1e9, 1e6, 1e-3));
  TRY_ASSIGN(p.weight_decay_nano, get_scaled(tr, "weight_decay", "training", 1e9, 1e6, 0.0));
  TRY_ASSIGN(p.seed, get_uint(tr, "seed", "training", 0));
  const json& vp = sub(j, "vote_policy");
  std::string kind;
  TRY_ASSIGN(kind, get_string(vp, "kind", "vote_policy", std::string(kVotePolicies[0].name)));
  const VotePolicyRule* rule = find_vote_policy(std::string_view(kind));
  if (rule == nullptr) {
    return make_error("training plan: vote_policy.kind \"" + kind + "\" is unknown; use " +
                      vote_policy_names());
  }
  for (const auto& [key, value] : vp.items()) {
    if (key == "kind" || key == rule->param) continue;
    return make_error("training plan: vote_policy \"" + kind + "\" takes " +
                      (rule->param.empty() ? std::string("no parameter")
                                           : "\"" + std::string(rule->param) + "\"") +
                      ", not \"" + key + "\"");
  }
  p.vote_policy = rule->kind;
  std::uint64_t param = 0;
  if (!rule->param.empty()) {
    const std::string field(rule->param);
    std::optional<double> def;
    if (!rule->param_required) def = static_cast<double>(rule->default_ppm) / kMaxPpm;
    TRY_ASSIGN(param, get_scaled(vp, field.c_str(), "vote_policy", kMaxPpm, 1.0, def));
  }
  p.vote_param_ppm = static_cast<std::uint32_t>(param);
  const json& q = sub(j, "quorum");
  if (auto s = refuse_unknown(q, {"num", "den"}, "quorum"); !s) return s.error();
  std::uint64_t num = 0, den = 0;
  TRY_ASSIGN(num, get_uint(q, "num", "quorum", 1));
  TRY_ASSIGN(den, get_uint(q, "den", "quorum", 2));
  if (num > 0xffffffffu || den > 0xffffffffu)
    return make_error("training plan: quorum num and den must fit in 32 bits");
  p.quorum_num = static_cast<std::uint32_t>(num);
  p.quorum_den = static_cast<std::uint32_t>(den);
  const json& d = sub(j, "deadlines");
  if (auto s = refuse_unknown(d, {"load_blocks", "save_blocks", "vote_blocks", "ready_blocks"},
                              "deadlines");
      !s)
    return s.error();
  TRY_ASSIGN(p.load_deadline_blocks, get_uint(d, "load_blocks", "deadlines", 20));
  TRY_ASSIGN(p.save_deadline_blocks, get_uint(d, "save_blocks", "deadlines", 200));
  TRY_ASSIGN(p.vote_deadline_blocks, get_uint(d, "vote_blocks", "deadlines", 20));
  TRY_ASSIGN(p.readiness_deadline_blocks,
             get_uint(d, "ready_blocks", "deadlines", default_ready_blocks));
  std::string mode, order;
  TRY_ASSIGN(mode, get_string(j, "token_mode", "the plan", "delta_auc"));
  if (mode == "delta_auc") {
    p.token_mode = TokenMode::delta_auc;
  } else if (mode == "delta_loss") {
    p.token_mode = TokenMode::delta_loss;
  } else {
    return make_error("training plan: token_mode \"" + mode.substr(0, 64) +
                      "\" is unknown; use delta_auc (median AUC gain) or delta_loss (median "
                      "validation-loss decrease)");
  }
  TRY_ASSIGN(order, get_string(j, "turn_order", "the plan", "fixed"));
  if (order == "fixed") {
    p.turn_order = TurnOrder::fixed;
  } else if (order == "rotating") {
    p.turn_order = TurnOrder::rotating;
  } else {
    return make_error("training plan: turn_order \"" + order.substr(0, 64) +
                      "\" is unknown; use fixed (the partners' order every cycle) or rotating "
                      "(each cycle starts one partner further, from the seed)");
  }
  std::uint64_t suspend_after = 0;
  TRY_ASSIGN(suspend_after, get_uint(j, "suspend_after", "the plan", 0));
  if (suspend_after > kMaxPlanTurns) {
    return make_error("training plan: suspend_after is " + std::to_string(suspend_after) +
                      "; it must be at most the number of cycles, or 0 for never");
  }
  p.suspend_after = static_cast<std::uint32_t>(suspend_after);
  const json& es = sub(j, "escrow");
  if (auto s = refuse_unknown(es, {"sponsor", "min_credits", "funding_blocks", "release_blocks"},
                              "escrow");
      !s)
    return s.error();
  TRY_ASSIGN(p.sponsor, get_string(es, "sponsor", "escrow", ""));
  TRY_ASSIGN(p.min_escrow, get_uint(es, "min_credits", "escrow", 0));
  TRY_ASSIGN(p.funding_deadline_blocks, get_uint(es, "funding_blocks", "escrow", 0));
  TRY_ASSIGN(p.release_deadline_blocks, get_uint(es, "release_blocks", "escrow", 0));
  const json& dep = sub(j, "deposits");
  if (auto s =
          refuse_unknown(dep, {"submission_cost", "deposit", "factor", "min_balance"}, "deposits");
      !s)
    return s.error();
  TRY_ASSIGN(p.submission_cost, get_uint(dep, "submission_cost", "deposits", 0));
  TRY_ASSIGN(p.deposit, get_uint(dep, "deposit", "deposits", 0));
  TRY_ASSIGN(p.min_balance, get_uint(dep, "min_balance", "deposits", 0));
  std::uint64_t factor = 0;
  // A deposit without a factor never grows.
  TRY_ASSIGN(factor, get_uint(dep, "factor", "deposits", p.deposit > 0 ? 1 : 0));
  if (factor > kMaxDepositFactor) {
    return make_error("training plan: deposits.factor is " + std::to_string(factor) +
                      "; it must be between 1 and " + std::to_string(kMaxDepositFactor));
  }
  p.deposit_factor = static_cast<std::uint32_t>(factor);
  TRY_ASSIGN(p.privacy, decode_privacy_json(sub(j, "privacy")));
  if (federated) {
    // Defaults: a majority threshold, and as many uploads as the threshold.
    const std::uint64_t n = p.partners.size();
    std::uint64_t threshold = 0, min_partners = 0;
    TRY_ASSIGN(threshold, get_uint(fed, "threshold", "federated", n / 2 + 1));
    TRY_ASSIGN(min_partners, get_uint(fed, "min_partners", "federated", threshold));
    // Narrowing: anything above the partners is refused by validate_plan.
    if (threshold > kMaxFederatedPartners || min_partners > kMaxFederatedPartners) {
      return make_error(
          "training plan: federated.threshold and federated.min_partners must be at "
          "most the number of partners (at most " +
          std::to_string(kMaxFederatedPartners) + ")");
    }
    p.secagg_threshold = static_cast<std::uint32_t>(threshold);
    p.min_partners = static_cast<std::uint32_t>(min_partners);
  }
  return std::optional<TrainingPlan>{std::move(p)};
}

Result<std::optional<TrainingPlan>> plan_from_json(const Genesis& genesis, const json& j,
                                                   std::uint64_t default_ready_blocks) {
  auto plan = decode_plan_json(j, default_ready_blocks);
  if (!plan || !*plan) return plan;
  if (auto s = validate_plan(genesis, **plan); !s) return s.error();
  return plan;
}

json plan_to_json(const TrainingPlan& p) {
  json j;
  j["run_id"] = p.run_id;
  auto parsed = json::parse(p.model_spec, nullptr, false);
  j["model"] = parsed.is_discarded() ? json(p.model_spec) : parsed;
  j["dataset"] = {{"feature_columns", p.feature_columns},
                  {"label_column", p.label_column},
                  {"positive_value", p.positive_value}};
  if (!p.dataset.empty()) j["dataset"]["name"] = p.dataset;
  if (!p.schema_id.empty()) j["dataset"]["schema_id"] = p.schema_id;
  j["partners"] = p.partners;
  if (p.federated()) {
    j["mode"] = std::string(to_string(p.mode));
    j["federated"] = {{"rounds", p.cycles},
                      {"local_epochs", p.epochs},
                      {"min_partners", p.min_partners},
                      {"threshold", p.secagg_threshold}};
  } else {
    j["cycles"] = p.cycles;
  }
  j["training"] = {{"batch_size", p.batch_size},
                   {"optimizer", p.optimizer},
                   {"learning_rate", static_cast<double>(p.learning_rate_nano) / 1e9},
                   {"weight_decay", static_cast<double>(p.weight_decay_nano) / 1e9},
                   {"seed", p.seed}};
  if (!p.federated()) j["training"]["epochs"] = p.epochs;
  const VotePolicyRule* rule = find_vote_policy(p.vote_policy);
  if (rule == nullptr) std::abort();  // a TrainingPlan is validated
  json vp{{"kind", rule->name}};
  if (!rule->param.empty())
    vp[std::string(rule->param)] = static_cast<double>(p.vote_param_ppm) / kMaxPpm;
  j["vote_policy"] = vp;
  j["quorum"] = {{"num", p.quorum_num}, {"den", p.quorum_den}};
  j["deadlines"] = {{"load_blocks", p.load_deadline_blocks},
                    {"save_blocks", p.save_deadline_blocks},
                    {"vote_blocks", p.vote_deadline_blocks},
                    {"ready_blocks", p.readiness_deadline_blocks}};
  j["token_mode"] = std::string(to_string(p.token_mode));
  j["turn_order"] = std::string(to_string(p.turn_order));
  j["suspend_after"] = p.suspend_after;
  if (!p.sponsor.empty()) {
    j["escrow"] = {{"sponsor", p.sponsor},
                   {"min_credits", p.min_escrow},
                   {"funding_blocks", p.funding_deadline_blocks},
                   {"release_blocks", p.release_deadline_blocks}};
  }
  if (p.has_stakes() || p.min_balance > 0) {
    j["deposits"] = {{"submission_cost", p.submission_cost},
                     {"deposit", p.deposit},
                     {"factor", p.deposit_factor},
                     {"min_balance", p.min_balance}};
  }
  if (p.privacy.enabled()) j["privacy"] = privacy_to_json(p.privacy);
  return j;
}

}  // namespace baton::chain

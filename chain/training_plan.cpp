// The bounds on a training plan, its validation against the genesis, and its
// protobuf form (the StartRun payload). The JSON form: training_plan_json.cpp.
#include "chain/training_plan.h"

#include <string>

#include "chain/privacy_plan.h"

namespace baton::chain {

namespace {

std::string fail_text(const std::string& field, const std::string& value, const std::string& rule) {
  return "training plan: " + field + " is " + value + "; " + rule;
}

Status refuse(const std::string& field, std::uint64_t value, const std::string& rule) {
  return make_error(fail_text(field, std::to_string(value), rule));
}

std::string decimal(std::uint64_t value, std::uint64_t scale) {
  return fixed_point_decimal(value, scale);
}

std::uint64_t validator_count(const Genesis& genesis) {
  std::uint64_t n = 0;
  for (const auto& m : genesis.members)
    if (m.power > 0) ++n;
  return n;
}

Status check_partners(const Genesis& genesis, const TrainingPlan& plan) {
  if (plan.partners.empty())
    return make_error("training plan: partners must name at least one member");
  for (std::size_t i = 0; i < plan.partners.size(); ++i) {
    const auto* m = genesis.find_member(plan.partners[i]);
    if (m == nullptr)
      return make_error("training plan: partners[" + std::to_string(i) + "] \"" + plan.partners[i] +
                        "\" is not a genesis member");
    if (!m->has_role(kRolePartner))
      return make_error("training plan: partners[" + std::to_string(i) + "] \"" + plan.partners[i] +
                        "\" does not hold role \"partner\"");
    for (std::size_t k = 0; k < i; ++k)
      if (plan.partners[k] == plan.partners[i])
        return make_error("training plan: partner \"" + plan.partners[i] + "\" is listed twice");
    if (genesis.total_power() - m->power == 0) {
      return make_error("training plan: no other member than \"" + plan.partners[i] +
                        "\" has voting power, so nobody could vote on its models");
    }
  }
  return {};
}

Status check_training(const TrainingPlan& plan) {
  if (plan.federated()) {  // §21.1: rounds and local epochs, one turn per round
    if (plan.cycles == 0 || plan.cycles > kMaxPlanTurns)
      return refuse("federated.rounds", plan.cycles,
                    "it must be between 1 and " + std::to_string(kMaxPlanTurns));
    if (plan.epochs == 0 || plan.epochs > kMaxPlanEpochs)
      return refuse("federated.local_epochs", plan.epochs,
                    "it must be between 1 and " + std::to_string(kMaxPlanEpochs));
  }
  if (plan.cycles == 0) return make_error("training plan: cycles must be at least 1");
  // Partners are distinct genesis members, so the product cannot overflow.
  if (plan.total_turns() > kMaxPlanTurns) {
    return make_error("training plan: cycles x partners is " + std::to_string(plan.total_turns()) +
                      " turns (" + std::to_string(plan.cycles) + " cycles of " +
                      std::to_string(plan.partners.size()) + " partners); a run may have at most " +
                      std::to_string(kMaxPlanTurns) + " turns");
  }
  if (plan.epochs == 0 || plan.epochs > kMaxPlanEpochs)
    return refuse("training.epochs", plan.epochs,
                  "it must be between 1 and " + std::to_string(kMaxPlanEpochs));
  if (plan.batch_size == 0 || plan.batch_size > kMaxPlanBatchSize)
    return refuse("training.batch_size", plan.batch_size,
                  "it must be between 1 and " + std::to_string(kMaxPlanBatchSize));
  if (plan.learning_rate_nano == 0 || plan.learning_rate_nano > kMaxLearningRateNano) {
    return make_error(fail_text(
        "training.learning_rate", decimal(plan.learning_rate_nano, 1'000'000'000),
        "it must be more than 0 and at most " + decimal(kMaxLearningRateNano, 1'000'000'000)));
  }
  if (plan.weight_decay_nano > kMaxWeightDecayNano) {
    return make_error(
        fail_text("training.weight_decay", decimal(plan.weight_decay_nano, 1'000'000'000),
                  "it must be at most " + decimal(kMaxWeightDecayNano, 1'000'000'000)));
  }
  return {};
}

Status check_length(const std::string& field, std::size_t size, std::size_t max) {
  if (size <= max) return {};
  return make_error("training plan: " + field + " is " + std::to_string(size) +
                    " bytes long; at most " + std::to_string(max) + " bytes are allowed");
}

Status check_sizes(const TrainingPlan& plan) {
  if (auto s = check_length("model", plan.model_spec.size(), kMaxModelSpecBytes); !s) return s;
  if (plan.feature_columns.size() > kMaxFeatureColumns) {
    return refuse("dataset.feature_columns", plan.feature_columns.size(),
                  "a plan may name at most " + std::to_string(kMaxFeatureColumns) + " columns");
  }
  for (std::size_t i = 0; i < plan.feature_columns.size(); ++i) {
    if (auto s = check_length("dataset.feature_columns[" + std::to_string(i) + "]",
                              plan.feature_columns[i].size(), kMaxColumnNameBytes);
        !s)
      return s;
  }
  if (auto s = check_length("dataset.label_column", plan.label_column.size(), kMaxColumnNameBytes);
      !s)
    return s;
  if (auto s =
          check_length("dataset.positive_value", plan.positive_value.size(), kMaxColumnNameBytes);
      !s)
    return s;
  if (auto s = check_length("training.optimizer", plan.optimizer.size(), kMaxOptimizerBytes); !s)
    return s;
  return check_length("the plan's encoding", plan_to_proto(plan).ByteSizeLong(), kMaxPlanBytes);
}

Status check_vote(const TrainingPlan& plan) {
  const std::uint32_t v = plan.vote_param_ppm;
  const VotePolicyRule* rule = find_vote_policy(plan.vote_policy);
  if (rule == nullptr)
    return make_error("training plan: vote_policy must be " + vote_policy_names());
  if (rule->param.empty() && v != 0) {
    return make_error("training plan: the " + std::string(rule->name) +
                      " vote policy takes no parameter");
  }
  if (!rule->param.empty() && (v < rule->min_ppm || v > rule->max_ppm)) {
    const std::string range = rule->min_ppm == 0 ? "at most " + decimal(rule->max_ppm, kMaxPpm)
                                                 : "between " + decimal(rule->min_ppm, kMaxPpm) +
                                                       " and " + decimal(rule->max_ppm, kMaxPpm);
    return make_error(
        fail_text("vote_policy." + std::string(rule->param), decimal(v, kMaxPpm),
                  "it must be " + range + " (" + std::string(rule->bounds_why) + ")"));
  }
  // num/den >= 1/2, compared without overflow.
  if (plan.quorum_num == 0 || plan.quorum_den == 0 || plan.quorum_num >= plan.quorum_den ||
      2 * static_cast<std::uint64_t>(plan.quorum_num) < plan.quorum_den) {
    return make_error("training plan: quorum " + std::to_string(plan.quorum_num) + "/" +
                      std::to_string(plan.quorum_den) +
                      " must be a fraction num/den with 1/2 <= num/den < 1, e.g. 1/2 (more than "
                      "half of the voters' power decides)");
  }
  return {};
}

Status check_deadline(const char* field, std::uint64_t blocks, std::uint64_t validators) {
  const std::uint64_t min = validators > 0 ? validators : 1;
  if (blocks < min) {
    return refuse(field, blocks,
                  "it must be at least " + std::to_string(min) +
                      " blocks (the number of validators), so that every validator proposes a "
                      "block within it and no single proposer can make the phase expire");
  }
  if (blocks > kMaxDeadlineBlocks) {
    return refuse(field, blocks,
                  "it must be at most " + std::to_string(kMaxDeadlineBlocks) +
                      " blocks, so that every run ends");
  }
  return {};
}

// docs/PROTOCOL.md §19.6: a named sponsor with role "sponsor" and a release
// deadline; a funding deadline exactly when funding is required; no escrow
// numbers without a sponsor.
Status check_escrow(const Genesis& genesis, const TrainingPlan& plan, std::uint64_t validators) {
  if (plan.sponsor.empty()) {
    if (plan.min_escrow != 0 || plan.funding_deadline_blocks != 0 ||
        plan.release_deadline_blocks != 0)
      return make_error(
          "training plan: escrow.min_credits and the escrow deadlines need escrow.sponsor");
    return {};
  }
  const GenesisMember* m = genesis.find_member(plan.sponsor);
  if (m == nullptr || !m->has_role(kRoleSponsor))
    return make_error("training plan: escrow.sponsor \"" + plan.sponsor.substr(0, 80) +
                      "\" is not a genesis member with role \"sponsor\"");
  if (auto s = check_deadline("escrow.release_blocks", plan.release_deadline_blocks, validators);
      !s)
    return s;
  if (plan.min_escrow == 0) {
    if (plan.funding_deadline_blocks != 0)
      return make_error("training plan: escrow.funding_blocks needs escrow.min_credits > 0");
    return {};
  }
  return check_deadline("escrow.funding_blocks", plan.funding_deadline_blocks, validators);
}

// docs/PROTOCOL.md §19.9: every amount within kMaxPlanCredits (so cost +
// deposit never overflows), a factor 1..kMaxDepositFactor exactly when there
// is a deposit, and a submission cost only where an escrow takes it.
Status check_deposits(const TrainingPlan& plan) {
  const auto credits = [](const char* field, std::uint64_t v) -> Status {
    if (v <= kMaxPlanCredits) return {};
    return refuse(field, v,
                  "it must be at most " + std::to_string(kMaxPlanCredits) +
                      " credits (a stake beyond it is no consortium's, and the bound keeps "
                      "cost + deposit from overflowing)");
  };
  if (auto s = credits("deposits.submission_cost", plan.submission_cost); !s) return s;
  if (auto s = credits("deposits.deposit", plan.deposit); !s) return s;
  if (auto s = credits("deposits.min_balance", plan.min_balance); !s) return s;
  if (plan.deposit == 0 && plan.deposit_factor != 0)
    return refuse("deposits.factor", plan.deposit_factor, "it needs deposits.deposit > 0");
  if (plan.deposit > 0 && (plan.deposit_factor < 1 || plan.deposit_factor > kMaxDepositFactor)) {
    return refuse("deposits.factor", plan.deposit_factor,
                  "it must be between 1 (the deposit never grows) and " +
                      std::to_string(kMaxDepositFactor) + " (SUM uses 2)");
  }
  if (plan.submission_cost > 0 && plan.sponsor.empty()) {
    return make_error(
        "training plan: deposits.submission_cost needs escrow.sponsor: the cost is paid into the "
        "run's escrow and out to the contributors with it");
  }
  return {};
}

// docs/PROTOCOL.md §21.1: a chained plan has no federated numbers; a
// federated one has 2 <= t, min_partners <= n <= kMaxFederatedPartners, and
// none of what v1 does not support with it (DP, deposits, suspension).
Status check_federated(const TrainingPlan& plan) {
  if (!plan.federated()) {
    if (plan.mode != TrainingMode::chained)
      return make_error("training plan: mode must be chained or federated");
    if (plan.min_partners != 0 || plan.secagg_threshold != 0)
      return make_error(
          "training plan: federated.min_partners and federated.threshold need mode federated");
    return {};
  }
  const std::size_t n = plan.partners.size();
  if (n < 2 || n > kMaxFederatedPartners) {
    return refuse("partners", n,
                  "a federated plan needs between 2 and " + std::to_string(kMaxFederatedPartners) +
                      " partners (each round's shares grow with the square of their number)");
  }
  if (plan.secagg_threshold < 2 || plan.secagg_threshold > n) {
    return refuse("federated.threshold", plan.secagg_threshold,
                  "it must be between 2 and the number of partners (" + std::to_string(n) +
                      "): fewer than that many partners together learn nothing of a secret");
  }
  if (plan.min_partners < 2 || plan.min_partners > n) {
    return refuse("federated.min_partners", plan.min_partners,
                  "it must be between 2 and the number of partners (" + std::to_string(n) + ")");
  }
  if (plan.privacy.enabled()) {
    return make_error(
        "training plan: differential privacy (privacy) is not supported with mode federated yet; "
        "drop \"privacy\" or train chained");
  }
  if (plan.has_stakes()) {
    return make_error(
        "training plan: deposits (deposits.deposit, deposits.submission_cost) are not supported "
        "with mode federated yet; drop them or train chained");
  }
  if (plan.suspend_after != 0) {
    return make_error(
        "training plan: suspend_after is not supported with mode federated (a round has no "
        "partner of its own to suspend); drop it");
  }
  return {};
}

}  // namespace

Status validate_plan(const Genesis& genesis, const TrainingPlan& plan) {
  if (auto s = validate_chain_id(plan.run_id); !s) {
    return make_error("training plan: run_id \"" + plan.run_id.substr(0, 80) +
                      "\" must be 1..64 characters of [A-Za-z0-9._-]");
  }
  if (auto s = check_partners(genesis, plan); !s) return s;
  // §23: a dataset name and a schema id are bounded like a run id.
  for (const auto& [field, value] : {std::pair{"dataset.name", &plan.dataset},
                                     std::pair{"dataset.schema_id", &plan.schema_id}}) {
    if (!value->empty() && !validate_chain_id(*value)) {
      return make_error(std::string("training plan: ") + field + " \"" + value->substr(0, 80) +
                        "\" must be 1..64 characters of [A-Za-z0-9._-]");
    }
  }
  if (auto s = check_federated(plan); !s) return s;
  if (auto s = check_training(plan); !s) return s;
  if (auto s = check_sizes(plan); !s) return s;
  if (auto s = check_vote(plan); !s) return s;
  if (plan.token_mode != TokenMode::delta_auc && plan.token_mode != TokenMode::delta_loss)
    return make_error("training plan: token_mode must be delta_auc or delta_loss");
  if (plan.turn_order != TurnOrder::fixed && plan.turn_order != TurnOrder::rotating)
    return make_error("training plan: turn_order must be fixed or rotating");
  if (plan.suspend_after > plan.cycles)
    return refuse("suspend_after", plan.suspend_after,
                  "it must be at most the number of cycles (" + std::to_string(plan.cycles) +
                      "), or 0 for never");
  const std::uint64_t validators = validator_count(genesis);
  if (auto s = check_deadline("deadlines.load_blocks", plan.load_deadline_blocks, validators); !s)
    return s;
  if (auto s = check_deadline("deadlines.save_blocks", plan.save_deadline_blocks, validators); !s)
    return s;
  if (auto s = check_deadline("deadlines.vote_blocks", plan.vote_deadline_blocks, validators); !s)
    return s;
  // §22.1: 0 = no readiness phase (plans before issue 17); a plan with one
  // names an optimizer the agents support.
  if (plan.readiness_deadline_blocks > 0) {
    if (auto s =
            check_deadline("deadlines.ready_blocks", plan.readiness_deadline_blocks, validators);
        !s)
      return s;
    if (!known_optimizer(plan.optimizer)) {
      return make_error("training plan: training.optimizer \"" + plan.optimizer.substr(0, 32) +
                        "\" is not one the partner agents support; use " + known_optimizer_names());
    }
  }
  if (auto s = check_escrow(genesis, plan, validators); !s) return s;
  if (auto s = check_deposits(plan); !s) return s;
  // Last: the only check that runs the accountant (one call, dp_sgd).
  return check_privacy(plan.privacy, plan.cycles, plan.epochs);
}

Result<TrainingPlan> plan_from_proto(const Genesis& genesis, const pb::TrainingPlan& p) {
  const VotePolicyRule* policy = find_vote_policy_number(p.vote_policy());
  if (policy == nullptr) {
    return make_error(fail_text("vote_policy", std::to_string(p.vote_policy()),
                                "it must be " + vote_policy_numbers()));
  }
  // Compared as the u32 it is: never truncated to the enum's byte.
  if (p.token_mode() > 1) {
    return make_error(fail_text("token_mode", std::to_string(p.token_mode()),
                                "it must be 0 (delta_auc) or 1 (delta_loss)"));
  }
  if (p.turn_order() > 1) {
    return make_error(fail_text("turn_order", std::to_string(p.turn_order()),
                                "it must be 0 (fixed) or 1 (rotating)"));
  }
  TrainingPlan t;
  t.run_id = p.run_id();
  t.model_spec = p.model_spec();
  t.model_spec_hash = sha256(t.model_spec);
  t.feature_columns.assign(p.feature_columns().begin(), p.feature_columns().end());
  t.label_column = p.label_column();
  t.positive_value = p.positive_value();
  t.partners.assign(p.partners().begin(), p.partners().end());
  t.cycles = p.cycles();
  t.epochs = p.epochs();
  t.batch_size = p.batch_size();
  t.optimizer = p.optimizer();
  t.learning_rate_nano = p.learning_rate_nano();
  t.weight_decay_nano = p.weight_decay_nano();
  t.seed = p.seed();
  t.vote_policy = policy->kind;
  t.vote_param_ppm = p.vote_param_ppm();
  t.quorum_num = p.quorum_num();
  t.quorum_den = p.quorum_den();
  t.load_deadline_blocks = p.load_deadline_blocks();
  t.save_deadline_blocks = p.save_deadline_blocks();
  t.vote_deadline_blocks = p.vote_deadline_blocks();
  t.token_mode = static_cast<TokenMode>(p.token_mode());
  t.turn_order = static_cast<TurnOrder>(p.turn_order());
  t.suspend_after = p.suspend_after();
  t.sponsor = p.sponsor();
  t.min_escrow = p.min_escrow();
  t.funding_deadline_blocks = p.funding_deadline_blocks();
  t.release_deadline_blocks = p.release_deadline_blocks();
  t.submission_cost = p.submission_cost();
  t.deposit = p.deposit();
  t.deposit_factor = p.deposit_factor();
  t.min_balance = p.min_balance();
  // Compared as the u32 it is: never truncated to the enum's byte.
  if (p.mode() > 1) {
    return make_error(
        fail_text("mode", std::to_string(p.mode()), "it must be 0 (chained) or 1 (federated)"));
  }
  t.mode = static_cast<TrainingMode>(p.mode());
  t.min_partners = p.min_partners();
  t.secagg_threshold = p.secagg_threshold();
  t.readiness_deadline_blocks = p.readiness_deadline_blocks();
  t.dataset = p.dataset();
  t.schema_id = p.schema_id();
  auto privacy = privacy_from_proto(p);
  if (!privacy) return privacy.error();
  t.privacy = *privacy;
  if (auto s = validate_plan(genesis, t); !s) return s.error();
  return t;
}

pb::TrainingPlan plan_to_proto(const TrainingPlan& t) {
  pb::TrainingPlan p;
  p.set_run_id(t.run_id);
  p.set_model_spec(t.model_spec);
  for (const auto& c : t.feature_columns) p.add_feature_columns(c);
  p.set_label_column(t.label_column);
  p.set_positive_value(t.positive_value);
  for (const auto& n : t.partners) p.add_partners(n);
  p.set_cycles(t.cycles);
  p.set_epochs(t.epochs);
  p.set_batch_size(t.batch_size);
  p.set_optimizer(t.optimizer);
  p.set_learning_rate_nano(t.learning_rate_nano);
  p.set_weight_decay_nano(t.weight_decay_nano);
  p.set_seed(t.seed);
  p.set_vote_policy(static_cast<std::uint32_t>(t.vote_policy));
  p.set_vote_param_ppm(t.vote_param_ppm);
  p.set_quorum_num(t.quorum_num);
  p.set_quorum_den(t.quorum_den);
  p.set_load_deadline_blocks(t.load_deadline_blocks);
  p.set_save_deadline_blocks(t.save_deadline_blocks);
  p.set_vote_deadline_blocks(t.vote_deadline_blocks);
  p.set_token_mode(static_cast<std::uint32_t>(t.token_mode));
  p.set_turn_order(static_cast<std::uint32_t>(t.turn_order));
  p.set_suspend_after(t.suspend_after);
  p.set_sponsor(t.sponsor);
  p.set_min_escrow(t.min_escrow);
  p.set_funding_deadline_blocks(t.funding_deadline_blocks);
  p.set_release_deadline_blocks(t.release_deadline_blocks);
  p.set_submission_cost(t.submission_cost);
  p.set_deposit(t.deposit);
  p.set_deposit_factor(t.deposit_factor);
  p.set_min_balance(t.min_balance);
  privacy_to_proto(t.privacy, p);
  // 0 for a chained plan: proto3 leaves them out, so its bytes are unchanged.
  p.set_mode(static_cast<std::uint32_t>(t.mode));
  p.set_min_partners(t.min_partners);
  p.set_secagg_threshold(t.secagg_threshold);
  // 0 for every plan before issue 17: left out, so its bytes are unchanged.
  p.set_readiness_deadline_blocks(t.readiness_deadline_blocks);
  // Empty unless the plan names them: proto3 leaves them out (§23).
  p.set_dataset(t.dataset);
  p.set_schema_id(t.schema_id);
  return p;
}

bool known_optimizer(std::string_view name) {
  for (std::string_view o : kAgentOptimizers)
    if (o == name) return true;
  return false;
}

std::string known_optimizer_names() {
  std::string out;
  for (std::size_t i = 0; i < kAgentOptimizers.size(); ++i) {
    if (i > 0) out += i + 1 == kAgentOptimizers.size() ? " or " : ", ";
    out += kAgentOptimizers[i];
  }
  return out;
}

std::string fixed_point_decimal(std::uint64_t value, std::uint64_t scale) {
  std::string frac = std::to_string(value % scale);
  const std::size_t digits = std::to_string(scale).size() - 1;
  frac.insert(0, digits - frac.size(), '0');
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return std::to_string(value / scale) + (frac.empty() ? "" : "." + frac);
}

}  // namespace baton::chain

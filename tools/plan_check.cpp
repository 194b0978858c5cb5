#include "tools/plan_check.h"

#include "chain/training_plan.h"
#include "learning/model_spec.h"

namespace baton::tools {

Status check_plan_for_agents(const chain::TrainingPlan& plan) {
  // The agents' one list (chain/training_plan.h), also for a plan without a
  // readiness phase, which the ledger would still take.
  if (!chain::known_optimizer(plan.optimizer)) {
    return make_error("training plan: training.optimizer \"" + plan.optimizer.substr(0, 32) +
                      "\" is not one the partner agents support; use " +
                      chain::known_optimizer_names());
  }
  // The same parse the partner agent makes once per run (agent/run_plan.h).
  auto spec = learning::plan_model_spec(plan.model_spec, plan.feature_columns.size());
  if (!spec) return spec.error();
  // Local DP's ε is values_per_row x Δ / β (docs/PROTOCOL.md §20.2): the
  // values it counts must be the model's inputs, or the ledger's ε is not
  // the noise's.
  if (plan.privacy.mechanism == chain::PrivacyMechanism::local &&
      plan.privacy.values_per_row != spec->input_size()) {
    return make_error(
        "training plan: privacy.values_per_row is " + std::to_string(plan.privacy.values_per_row) +
        "; it must be the model's input values per row (" + std::to_string(spec->input_size()) +
        "), the values the local noise is added to");
  }
  if (plan.privacy.mechanism == chain::PrivacyMechanism::dp_sgd &&
      learning::has_batch_norm(*spec)) {
    return make_error(
        "privacy.mechanism is dp_sgd but the model has batch norm, which mixes the rows of a batch "
        "so that clipping each row's gradient bounds nothing: add \"norm\":\"group\" to the "
        "resnet3d model spec");
  }
  return {};
}

// ---- The consortium schema (issue 17, docs/PROTOCOL.md §23) ----

Status check_plan_schema_width(const chain::TrainingPlan& plan, std::size_t width) {
  auto spec = learning::plan_model_spec(plan.model_spec, plan.feature_columns.size());
  if (!spec) return spec.error();
  if (spec->input_size() != width) {
    return make_error("the model's input_shape takes " + std::to_string(spec->input_size()) +
                      " features but the consortium schema '" + plan.schema_id + "' encodes to " +
                      std::to_string(width) + " (baton data schema --schema-id " + plan.schema_id +
                      " --node URL lists them); set the model's input_shape to [" +
                      std::to_string(width) + "]");
  }
  return {};
}

}  // namespace baton::tools

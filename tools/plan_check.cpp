#include "tools/plan_check.h"

#include "learning/model_spec.h"

namespace baton::tools {

Status check_plan_for_agents(const chain::TrainingPlan& plan) {
  // The same parse the partner agent makes once per run (agent/run_plan.h).
  auto spec = learning::plan_model_spec(plan.model_spec, plan.feature_columns.size());
  if (!spec) return spec.error();
  return {};
}

}  // namespace baton::tools

#include "agent/run_plan.h"

#include "agent/model_handoff.h"
#include "agent/turn_privacy.h"

namespace baton::agent {

Result<RunPlan> parse_run_plan(const chain::TrainingPlan& plan, std::uint32_t chunk_size) {
  auto spec = learning::plan_model_spec(plan.model_spec, plan.feature_columns.size());
  if (!spec) return spec.error();
  auto optimizer = learning::parse_optimizer(plan.optimizer);
  if (!optimizer)
    return make_error("the plan's optimizer is unknown: " + optimizer.error().message);
  learning::TrainSettings t;
  t.epochs = static_cast<int>(plan.epochs);
  t.batch_size = static_cast<int>(plan.batch_size);
  t.optimizer = *optimizer;
  t.learning_rate = static_cast<double>(plan.learning_rate_nano) / 1e9;
  t.weight_decay = static_cast<double>(plan.weight_decay_nano) / 1e9;
  t.seed = plan.seed;
  t.threads = 1;
  // DP-SGD with exactly the plan's integers (issue 14); epochs are the turn's
  // to choose (agent/turn_privacy.h).
  t.dp_sgd = dp_sgd_settings(plan.privacy);
  const std::uint64_t sealed = expected_blob_size(*spec, chunk_size);
  return RunPlan{std::move(*spec), sealed, t, chain::VotePolicy::from_plan(plan)};
}

}  // namespace baton::agent

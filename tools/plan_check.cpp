#include "tools/plan_check.h"

#include <cctype>
#include <string>

#include "learning/model_spec.h"

namespace baton::tools {
namespace {

// learning's errors are whole sentences ("The model spec ... ."); here they
// follow "model: " inside the caller's sentence.
std::string clause(std::string sentence) {
  if (!sentence.empty() && sentence.back() == '.') sentence.pop_back();
  if (!sentence.empty())
    sentence[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(sentence[0])));
  return sentence;
}

}  // namespace

Status check_plan_for_agents(const chain::TrainingPlan& plan) {
  auto spec = learning::spec_from_json(plan.model_spec);
  if (!spec) return make_error("model: " + clause(spec.error().message));
  if (spec->num_classes != 2) {
    return make_error("model.num_classes is " + std::to_string(spec->num_classes) +
                      ", but the plan's labels are binary (dataset.label_column equal to "
                      "positive_value or not): set num_classes to 2");
  }
  const std::string arch(learning::architecture_name(spec->architecture));
  const std::size_t columns = plan.feature_columns.size();
  if (spec->architecture == learning::Architecture::mlp) {
    if (columns == 0)
      return make_error(
          "dataset.feature_columns is empty; an mlp model needs at least one feature");
    return {};
  }
  if (columns != 1) {
    return make_error("dataset.feature_columns has " + std::to_string(columns) +
                      " entries, but a " + arch +
                      " model reads one volume per row: name exactly one column, the manifest "
                      "column that holds the .npy paths");
  }
  return {};
}

}  // namespace baton::tools

#include "agent/agent_datasets.h"

#include <fstream>
#include <map>

#include "api/datasets_config.h"
#include "chain/crypto.h"

namespace baton::agent {

namespace fs = std::filesystem;

Result<api::TrainingConfig> training_for_plan(const api::TrainingConfig& training,
                                              const fs::path& config_path,
                                              const chain::TrainingPlan& plan,
                                              const std::optional<std::string>& consortium_schema) {
  const std::string name = plan.dataset.empty() ? std::string(api::kDefaultDataset) : plan.dataset;
  std::map<std::string, api::DatasetConfig> datasets;
  if (config_path.empty()) {
    datasets[std::string(api::kDefaultDataset)] = {training.train_csv, training.validation_csv,
                                                   training.feature_schema, training.na_values};
  } else {
    auto read = api::load_datasets(config_path);
    if (!read) return make_error("cannot read the datasets again: " + read.error().message);
    datasets = std::move(*read);
  }
  const auto it = datasets.find(name);
  if (it == datasets.end()) {
    std::string have;
    for (const auto& [n, d] : datasets) have += (have.empty() ? "" : ", ") + n;
    return make_error("the plan's dataset '" + name + "' is not declared by this hospital (" +
                      (have.empty() ? std::string("it declares none") : "it has: " + have) +
                      "); add [datasets." + name + "] to agent.toml");
  }
  api::TrainingConfig out = training;
  out.train_csv = it->second.train_csv;
  out.validation_csv = it->second.validation_csv;
  out.feature_schema = it->second.feature_schema;
  out.na_values = it->second.na_values;
  if (plan.schema_id.empty()) return out;
  if (!consortium_schema) {
    return make_error("the plan's consortium schema '" + plan.schema_id +
                      "' is not derivable from this node's ledger");
  }
  const fs::path dir = training.work_dir / "schemas";
  const fs::path file = dir / (chain::sha256(*consortium_schema).hex() + ".json");
  std::error_code ec;
  fs::create_directories(dir, ec);
  {
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    f << *consortium_schema;
    if (!f.flush()) return make_error("cannot write the consortium schema to " + file.string());
  }
  out.feature_schema = file;
  return out;
}

}  // namespace baton::agent

#include "agent/agent_data.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <sstream>

#include "learning/csv.h"
#include "learning/datasets.h"
#include "learning/preprocess.h"
#include "learning/model_spec.h"
#include "learning/tabular.h"
#include "learning/volumes.h"
#include "agent/turn_privacy.h"

namespace baton::agent {
namespace {

namespace fs = std::filesystem;

// load_local_data's errors carry the chain::ReadinessFailure they are
// (data_failure): set here, where each check fails.
Error failure(chain::ReadinessFailure why, std::string message) {
  return make_error(std::move(message), static_cast<int>(why));
}

// A learning error as load_local_data's: a column the data lack stays
// columns_missing, anything else is data_unusable. `context` goes before its
// sentence.
Error from_learning(const Error& e, const std::string& context = "") {
  const bool missing = e.code == static_cast<int>(learning::DataErrc::column_missing);
  return failure(
      missing ? chain::ReadinessFailure::columns_missing : chain::ReadinessFailure::data_unusable,
      context + e.message);
}

// Columns of `file` that are neither features of the plan nor its label.
Result<std::vector<std::string>> columns_to_drop(const fs::path& file,
                                                 const chain::TrainingPlan& plan) {
  auto csv = learning::read_csv_file(file);
  if (!csv) return from_learning(csv.error());
  std::vector<std::string> drop;
  for (const std::string& c : csv->header) {
    const bool feature = std::find(plan.feature_columns.begin(), plan.feature_columns.end(), c) !=
                         plan.feature_columns.end();
    if (!feature && c != plan.label_column) drop.push_back(c);
  }
  for (const std::string& f : plan.feature_columns) {
    if (csv->column_index(f) < 0) {
      return failure(
          chain::ReadinessFailure::columns_missing,
          file.string() + " has no column '" + f + "', which the training plan lists as a feature");
    }
  }
  if (csv->column_index(plan.label_column) < 0) {
    return failure(chain::ReadinessFailure::columns_missing,
                   file.string() + " has no label column '" + plan.label_column + "'");
  }
  return drop;
}

// Fits the preprocessor on every row of the training file, with the features
// in the plan's order.
Result<std::string> fit_local_schema(const fs::path& train_csv, const chain::TrainingPlan& plan,
                                     const std::optional<std::vector<std::string>>& na_values) {
  auto csv = learning::read_csv_file(train_csv);
  if (!csv) return from_learning(csv.error());
  learning::CsvTable picked;
  std::vector<int> index;
  std::vector<std::string> wanted = plan.feature_columns;
  wanted.push_back(plan.label_column);
  for (const std::string& c : wanted) {
    const int i = csv->column_index(c);
    if (i < 0) {
      return failure(chain::ReadinessFailure::columns_missing,
                     train_csv.string() + " has no column '" + c + "'");
    }
    index.push_back(i);
    picked.header.push_back(c);
  }
  for (const auto& row : csv->rows) {
    std::vector<std::string> r;
    r.reserve(index.size());
    for (int i : index) r.push_back(row[static_cast<std::size_t>(i)]);
    picked.rows.push_back(std::move(r));
  }
  picked.line_of_row = csv->line_of_row;
  learning::TableSchema schema;
  schema.label_column = plan.label_column;
  schema.positive_value = plan.positive_value;
  if (na_values) schema.na_values = *na_values;
  auto table = learning::make_table(picked, schema);
  if (!table) return from_learning(table.error(), train_csv.string() + ": ");
  if (table->num_classes != 2) {
    return make_error(train_csv.string() + ": hand-off votes need a binary task");
  }
  std::vector<std::size_t> rows(table->rows);
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  auto pre = learning::Preprocessor::fit(*table, rows);
  if (!pre) return from_learning(pre.error(), train_csv.string() + ": ");
  return pre->to_json();
}

Result<learning::Dataset> encode(const fs::path& file, const chain::TrainingPlan& plan,
                                 const std::string& schema_json) {
  auto drop = columns_to_drop(file, plan);
  if (!drop) return drop.error();
  learning::CsvSchema schema;
  schema.file = file;
  schema.label_column = plan.label_column;
  schema.drop_columns = std::move(*drop);
  auto data = learning::load_csv_with_schema(schema, schema_json);
  if (!data) return from_learning(data.error(), "cannot encode " + file.string() + ": ");
  if (data->rows == 0) return make_error(file.string() + " holds no rows");
  return data;
}

bool is_image_model(const learning::ModelSpec& spec) {
  return spec.architecture == learning::Architecture::resnet3d ||
         spec.architecture == learning::Architecture::cnn2d;
}

// Both manifests, read straight into the datasets.
Result<LocalData> load_volumes(const TrainingConfig& config, const chain::TrainingPlan& plan,
                               const learning::ModelSpec& spec) {
  const std::string arch(learning::architecture_name(spec.architecture));
  if (!config.feature_schema.empty()) {
    return make_error("[training] feature_schema is set, but the plan's model (" + arch +
                      ") reads image volumes, which take no feature schema: remove it");
  }
  if (plan.feature_columns.size() != 1) {
    return make_error("the plan's model (" + arch +
                      ") reads image volumes, so its feature_columns must name exactly one "
                      "column, the manifests' column of .npy paths; it names " +
                      std::to_string(plan.feature_columns.size()));
  }
  const learning::VolumeManifestSchema schema{plan.feature_columns.front(), plan.label_column,
                                              plan.positive_value, spec.input_shape};
  LocalData out;
  auto train = learning::load_volume_manifest(config.train_csv, schema);
  if (!train) return from_learning(train.error());
  const auto counts = train->class_counts();
  if (counts[0] == 0 || counts[1] == 0) {
    return make_error(config.train_csv.string() + " holds only " +
                      (counts[1] == 0 ? "volumes whose label is not '" + plan.positive_value + "'"
                                      : "volumes labelled '" + plan.positive_value + "'") +
                      "; hand-off votes need a binary task with both classes in training");
  }
  auto validation = learning::load_volume_manifest(config.validation_csv, schema);
  if (!validation) return from_learning(validation.error());
  out.train = std::move(*train);
  out.validation = std::move(*validation);
  return out;
}

// Both files as the model reads them, the training labels flipped for a
// malicious_label_flip test hospital.
Result<LocalData> load_encoded(const TrainingConfig& config, const chain::TrainingPlan& plan,
                               const learning::ModelSpec& spec) {
  if (is_image_model(spec)) {
    auto images = load_volumes(config, plan, spec);
    if (images && config.malicious_label_flip) {
      for (int& y : images->train.y) y = 1 - y;
      images->labels_flipped = true;
    }
    return images;
  }
  LocalData out;
  if (!config.feature_schema.empty()) {
    std::ifstream in(config.feature_schema, std::ios::binary);
    if (!in) {
      return make_error("cannot read the feature schema " + config.feature_schema.string() +
                        " ([training] feature_schema)");
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    out.feature_schema = buf.str();
  } else {
    auto fitted = fit_local_schema(config.train_csv, plan, config.na_values);
    if (!fitted) return fitted.error();
    out.feature_schema = std::move(*fitted);
  }
  auto train = encode(config.train_csv, plan, out.feature_schema);
  if (!train) return train.error();
  auto validation = encode(config.validation_csv, plan, out.feature_schema);
  if (!validation) return validation.error();
  if (spec.input_size() != train->features) {
    return failure(chain::ReadinessFailure::width_mismatch,
                   "the plan's model takes " + std::to_string(spec.input_size()) +
                       " features but the local data encode to " + std::to_string(train->features));
  }
  out.train = std::move(*train);
  out.validation = std::move(*validation);
  if (config.malicious_label_flip) {
    for (int& y : out.train.y) y = 1 - y;
    out.labels_flipped = true;
  }
  return out;
}

}  // namespace

chain::ReadinessFailure data_failure(const Error& e) {
  switch (e.code) {
    case static_cast<int>(chain::ReadinessFailure::columns_missing):
      return chain::ReadinessFailure::columns_missing;
    case static_cast<int>(chain::ReadinessFailure::width_mismatch):
      return chain::ReadinessFailure::width_mismatch;
    default:
      return chain::ReadinessFailure::data_unusable;
  }
}

Result<LocalData> load_local_data(const TrainingConfig& config, const chain::TrainingPlan& plan,
                                  const learning::ModelSpec& spec, std::uint64_t local_dp_seed) {
  auto out = load_encoded(config, plan, spec);
  if (!out || plan.privacy.mechanism != chain::PrivacyMechanism::local) return out;
  if (auto width = check_local_dp_width(plan.privacy, spec.input_size(), out->train.features);
      !width) {
    return failure(chain::ReadinessFailure::data_unusable, width.error().message);
  }
  // Once, on the training copy only: votes measure on the real validation rows.
  out->local_dp_seed = local_dp_seed;
  if (auto noised =
          learning::apply_local_dp(out->train, local_dp_settings(plan.privacy, out->local_dp_seed));
      !noised) {
    return make_error("cannot add the plan's local DP noise to " + config.train_csv.string() +
                      ": " + noised.error().message);
  }
  out->local_dp = true;
  return out;
}

}  // namespace baton::agent

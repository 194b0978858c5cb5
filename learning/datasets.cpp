#include "learning/datasets.h"

#include "learning/csv.h"
#include "learning/preprocess.h"
#include "learning/splits.h"
#include "learning/tabular.h"

namespace baton::learning {
namespace {

constexpr double kTwoYearsDays = 730.0;

Error with_context(const std::string& what, const Error& e) {
  return make_error(what + ": " + e.message, e.code);
}

Status check_split_options(const SplitOptions& split) {
  if (!(split.test_fraction > 0.0 && split.test_fraction < 1.0)) {
    return make_error("the test fraction " + std::to_string(split.test_fraction) +
                      " is not in (0, 1); use e.g. 0.2 for a 20% held-out test set.");
  }
  return {};
}

// Stratified split of a typed table, preprocessing fitted on the training rows.
Result<PreparedData> prepare_table(std::string name, const Table& table,
                                   const SplitOptions& split) {
  if (auto s = check_split_options(split); !s) return s.error();
  const TrainTestSplit rows =
      stratified_split(table.y, table.num_classes, split.test_fraction, split.seed);
  if (rows.train.empty() || rows.test.empty()) {
    return make_error("data set '" + name + "' has " + std::to_string(table.rows) +
                      " rows, too few for a training and a test set; add rows or change the "
                      "test fraction.");
  }
  auto pre = Preprocessor::fit(table, rows.train);
  if (!pre) return with_context("data set '" + name + "'", pre.error());
  auto train = pre->apply(table, rows.train);
  if (!train) return train.error();
  auto test = pre->apply(table, rows.test);
  if (!test) return test.error();
  auto schema_json = pre->to_json();
  if (!schema_json) return with_context("data set '" + name + "'", schema_json.error());
  PreparedData out;
  out.name = std::move(name);
  out.feature_schema = std::move(*schema_json);
  out.train = std::move(*train);
  out.test = std::move(*test);
  out.validation.features = out.train.features;
  out.validation.num_classes = out.train.num_classes;
  out.validation.feature_names = out.train.feature_names;
  out.validation.class_names = out.train.class_names;
  if (table.num_classes == 2) out.positive_class = table.class_names[1];
  out.notes.push_back("stratified split with seed " + std::to_string(split.seed) + ": " +
                      std::to_string(rows.train.size()) + " training rows, " +
                      std::to_string(rows.test.size()) + " test rows");
  out.notes.push_back(
      "numeric features: training median imputation, then standardised with "
      "the training mean and standard deviation; categorical features: "
      "training most-frequent imputation, one-hot over the training levels");
  return out;
}

Result<CsvTable> read_data_file(const std::filesystem::path& data_dir, const char* file) {
  auto csv = read_csv_file(data_dir / file);
  if (!csv) {
    return make_error(csv.error().message + " (data directory: '" + data_dir.string() +
                      "'; pass the repository's data/ folder)");
  }
  return csv;
}

// lung1: derive the 2-year survival label and drop censored-before-730 rows.
Result<PreparedData> load_lung1(const std::filesystem::path& data_dir, const SplitOptions& split) {
  auto csv = read_data_file(data_dir, "lung1_clinical.csv");
  if (!csv) return csv.error();
  const int time_col = csv->column_index("Survival.time");
  const int event_col = csv->column_index("deadstatus.event");
  if (time_col < 0 || event_col < 0 || csv->column_index("PatientID") < 0) {
    return make_error(
        "lung1_clinical.csv lacks PatientID, Survival.time or deadstatus.event; "
        "restore the file from the repository.");
  }
  CsvTable derived;
  derived.header = csv->header;
  derived.header.push_back("survived_2y");
  std::size_t censored = 0;
  for (std::size_t r = 0; r < csv->rows.size(); ++r) {
    const auto& row = csv->rows[r];
    const auto time = parse_number(row[static_cast<std::size_t>(time_col)]);
    const std::string& event = row[static_cast<std::size_t>(event_col)];
    if (!time || (event != "0" && event != "1")) {
      return make_error("lung1_clinical.csv, line " + std::to_string(csv->line_of_row[r]) +
                        ": Survival.time must be a number and deadstatus.event 0 or 1; "
                        "restore the file from the repository.");
    }
    std::string label;
    if (*time > kTwoYearsDays) {
      label = "1";
    } else if (event == "1") {
      label = "0";
    } else {
      ++censored;  // lost to follow-up before 2 years: outcome unknown
      continue;
    }
    auto copy = row;
    copy.push_back(label);
    derived.rows.push_back(std::move(copy));
    derived.line_of_row.push_back(csv->line_of_row[r]);
  }
  TableSchema schema;
  schema.label_column = "survived_2y";
  schema.positive_value = "1";
  schema.drop_columns = {"PatientID", "Survival.time", "deadstatus.event"};
  auto table = make_table(derived, schema);
  if (!table) return with_context("lung1_clinical.csv", table.error());
  table->class_names = {"died within 2 years", "survived 2 years"};
  auto out = prepare_table("lung1", *table, split);
  if (!out) return out;
  out->notes.insert(out->notes.begin(),
                    "label: Survival.time > 730 days -> 1 (survived 2 years); "
                    "deadstatus.event = 1 and Survival.time <= 730 -> 0; " +
                        std::to_string(censored) + " patients censored before 730 days excluded, " +
                        std::to_string(derived.rows.size()) + " rows remain");
  return out;
}

Result<PreparedData> load_tabular(const std::filesystem::path& data_dir, const char* name,
                                  const char* file, const TableSchema& schema,
                                  const SplitOptions& split) {
  auto csv = read_data_file(data_dir, file);
  if (!csv) return csv.error();
  auto table = make_table(*csv, schema);
  if (!table) return with_context(file, table.error());
  if (std::string(name) == "breast_cancer") table->class_names = {"benign", "malignant"};
  return prepare_table(name, *table, split);
}

// breastmnist: the official split, pixels / 255, no fitted preprocessing.
Result<PreparedData> load_breastmnist(const std::filesystem::path& data_dir) {
  auto csv = read_data_file(data_dir, "breastmnist.csv");
  if (!csv) return csv.error();
  constexpr std::size_t kPixels = 28 * 28;
  if (csv->header.size() != kPixels + 2 || csv->header[0] != "split" || csv->header[1] != "label") {
    return make_error(
        "breastmnist.csv must have the columns split,label,p0..p783; restore "
        "the file from the repository.");
  }
  PreparedData out;
  out.name = "breastmnist";
  out.positive_class = "normal or benign";
  for (Dataset* d : {&out.train, &out.validation, &out.test}) {
    d->features = kPixels;
    d->num_classes = 2;
    d->image_shape = {1, 28, 28};
    d->feature_names.assign(csv->header.begin() + 2, csv->header.end());
    d->class_names = {"malignant", "normal or benign"};
  }
  for (std::size_t r = 0; r < csv->rows.size(); ++r) {
    const auto& row = csv->rows[r];
    const std::string where = "breastmnist.csv, line " + std::to_string(csv->line_of_row[r]);
    Dataset* d = nullptr;
    if (row[0] == "train") {
      d = &out.train;
    } else if (row[0] == "val") {
      d = &out.validation;
    } else if (row[0] == "test") {
      d = &out.test;
    } else {
      return make_error(where + ": split '" + row[0] + "' is not train, val or test.");
    }
    if (row[1] != "0" && row[1] != "1") {
      return make_error(where + ": label '" + row[1] + "' is not 0 or 1.");
    }
    d->y.push_back(row[1] == "1" ? 1 : 0);
    for (std::size_t k = 0; k < kPixels; ++k) {
      const auto v = parse_number(row[k + 2]);
      if (!v || *v < 0 || *v > 255) {
        return make_error(where + ": pixel " + csv->header[k + 2] + " = '" + row[k + 2] +
                          "' is not a number in 0..255.");
      }
      d->x.push_back(static_cast<float>(*v / 255.0));
    }
    ++d->rows;
  }
  out.notes.push_back("official MedMNIST v2 split: " + std::to_string(out.train.rows) +
                      " train / " + std::to_string(out.validation.rows) + " val / " +
                      std::to_string(out.test.rows) + " test; pixels / 255");
  out.notes.push_back("class 1 = normal or benign, class 0 = malignant (as shipped)");
  return out;
}

}  // namespace

std::vector<std::string> builtin_dataset_names() {
  return {"lung1", "breast_cancer", "iris", "breastmnist"};
}

Result<PreparedData> load_builtin(std::string_view name, const std::filesystem::path& data_dir,
                                  const SplitOptions& split) {
  if (name == "lung1") return load_lung1(data_dir, split);
  if (name == "breast_cancer") {
    TableSchema schema;
    schema.label_column = "malignant";
    schema.positive_value = "1";
    return load_tabular(data_dir, "breast_cancer", "breast_cancer.csv", schema, split);
  }
  if (name == "iris") {
    TableSchema schema;
    schema.label_column = "species";
    return load_tabular(data_dir, "iris", "iris.csv", schema, split);
  }
  if (name == "breastmnist") return load_breastmnist(data_dir);
  std::string known;
  for (const auto& n : builtin_dataset_names()) known += (known.empty() ? "" : ", ") + n;
  return make_error("unknown data set '" + std::string(name) + "'; the built-in ones are: " +
                    known + " (or give a CSV file with its label column).");
}

Result<PreparedData> load_csv_dataset(const CsvSchema& schema, const SplitOptions& split) {
  auto csv = read_csv_file(schema.file);
  if (!csv) return csv.error();
  TableSchema table_schema;
  table_schema.label_column = schema.label_column;
  table_schema.positive_value = schema.positive_value;
  table_schema.drop_columns = schema.drop_columns;
  table_schema.na_values = schema.na_values;
  auto table = make_table(*csv, table_schema);
  if (!table) return with_context(schema.file.string(), table.error());
  return prepare_table(schema.file.filename().string(), *table, split);
}

Result<Dataset> load_csv_with_schema(const CsvSchema& schema,
                                     std::string_view feature_schema_json) {
  auto pre = Preprocessor::from_json(feature_schema_json);
  if (!pre) return pre.error();
  auto csv = read_csv_file(schema.file);
  if (!csv) return csv.error();
  TableSchema table_schema;
  table_schema.label_column = schema.label_column;
  table_schema.drop_columns = schema.drop_columns;
  table_schema.labels_for_fitted_schema = true;
  table_schema.na_values = pre->na_values();
  table_schema.column_kinds = pre->column_kinds();
  auto table = make_table(*csv, table_schema);
  if (!table) return with_context(schema.file.string(), table.error());
  std::vector<std::size_t> rows(table->rows);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  auto data = pre->apply(*table, rows);
  if (!data) return with_context(schema.file.string(), data.error());
  return data;
}

}  // namespace baton::learning

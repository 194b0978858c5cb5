// Built-in data sets by name and CSV files with a schema, loaded, split
// (stratified, seeded) and encoded into PreparedData.
//
// The data directory is always an explicit argument: the CLI passes
// `<repo>/data` or $BATON_DATA_DIR, the node a path from node.toml. Nothing
// here reads environment variables.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/result.h"
#include "learning/dataset.h"
#include "learning/tabular.h"

namespace baton::learning {

struct SplitOptions {
  std::uint64_t seed = 0;
  double test_fraction = 0.2;  // of all rows, stratified; ignored by breastmnist
};

// "lung1", "breast_cancer", "iris", "breastmnist".
std::vector<std::string> builtin_dataset_names();

// Loads a built-in data set from `data_dir` (the repository's data/ folder):
//  - lung1: data_dir/lung1_clinical.csv; label 1 = survived 2 years
//    (Survival.time > 730), 0 = died within 730 days (deadstatus.event = 1);
//    patients censored before 730 days are excluded (420 rows remain);
//    PatientID, Survival.time and deadstatus.event are not features.
//  - breast_cancer: data_dir/breast_cancer.csv; label column `malignant`,
//    1 = malignant.
//  - iris: data_dir/iris.csv; 3 classes (setosa, versicolor, virginica).
//  - breastmnist: data_dir/breastmnist.csv; the official MedMNIST split
//    (train 546 / validation 78 / test 156), pixels / 255, image_shape
//    {1, 28, 28}; label 1 = normal or benign, 0 = malignant (as shipped).
// Tabular sets: stratified split by `split`, then preprocess.h's Preprocessor
// fitted on the training rows.
// Error: unknown name (the message lists the known ones), missing or
// malformed file.
Result<PreparedData> load_builtin(std::string_view name, const std::filesystem::path& data_dir,
                                  const SplitOptions& split = {});

// Any CSV file with a header row.
struct CsvSchema {
  std::filesystem::path file;
  std::string label_column;
  // Binary task: rows whose label equals this value are class 1, all others
  // class 0. Absent: one class per distinct label value, in sorted order.
  std::optional<std::string> positive_value;
  // Columns that are neither features nor the label (identifiers, outcomes).
  std::vector<std::string> drop_columns;
  // The cells that mean "no value" (tabular.h); a schema read with
  // load_csv_with_schema uses its own instead.
  std::vector<std::string> na_values = default_na_values();
};

// Loads, splits and encodes a CSV file as load_builtin does for tabular sets.
// Error: unreadable file, empty file, ragged rows, missing label or drop
// column, positive value never present, a missing label value, fewer than
// two classes.
Result<PreparedData> load_csv_dataset(const CsvSchema& schema, const SplitOptions& split = {});

// Encodes every row of a CSV file (in file order) with an agreed feature
// schema: the JSON that PreparedData::feature_schema / Preprocessor::to_json
// produce, e.g. carried by the training plan. This is how a hospital turns its
// own training or validation file into exactly the model's features and
// classes. schema.positive_value is ignored (the feature schema says how
// labels map to classes); the file may hold a single class.
// Error: as load_csv_dataset, an invalid feature schema, or data that do not
// fit it (a missing or extra column, text in a numeric column, an unknown
// class label).
Result<Dataset> load_csv_with_schema(const CsvSchema& schema, std::string_view feature_schema_json);

}  // namespace baton::learning

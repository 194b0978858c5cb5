// A hospital's named local datasets (issue 17, docs/OPERATIONS.md
// "Datasets"): agent.toml declares
//
//   [datasets.NAME]             # NAME: 1..64 of [A-Za-z0-9._-]
//   train_csv      = "..."      # required
//   validation_csv = "..."      # required
//   feature_schema = ""         # optional, as in [training]
//   na_values      = ["", "NA"] # optional, as in [training]
//
// and [training]'s train_csv, validation_csv, feature_schema and na_values
// are the dataset named "default" (a [datasets.default] beside them is an
// error). A training plan names its dataset (dataset.name; empty: "default").
//
// The agent reads these tables again from its config file when it loads a
// run's data (once per run), so a dataset declared after the agent started
// is used by the next run without a restart. Only the [datasets.*] tables and
// those four keys of [training] are re-read; every other setting (node_url,
// keys, [store], work_dir, threads, ...) keeps the value read at start.
// Relative paths resolve against the config file's directory.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/result.h"

namespace baton::api {

inline constexpr std::string_view kDefaultDataset = "default";

struct DatasetConfig {
  std::filesystem::path train_csv;
  std::filesystem::path validation_csv;
  std::filesystem::path feature_schema;  // empty: fit on train_csv
  std::optional<std::vector<std::string>> na_values;
};

// Every dataset of the config text (the file at `config_path`): "default"
// from [training] when it names a train_csv, and each [datasets.NAME].
// Errors: not TOML, a bad name, an unknown key, a missing file key, a
// non-string path, na_values not at most 64 strings of at most 64 bytes,
// "default" declared twice.
Result<std::map<std::string, DatasetConfig>> parse_datasets(
    std::string_view toml_text, const std::filesystem::path& config_path);
// The same, read from the file now.
Result<std::map<std::string, DatasetConfig>> load_datasets(
    const std::filesystem::path& config_path);

}  // namespace baton::api

#include "api/datasets_config.h"

#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "chain/genesis.h"

namespace baton::api {
namespace {

namespace fs = std::filesystem;

Error dataset_error(const fs::path& config_path, const std::string& what) {
  return make_error("config " + config_path.string() + ": " + what);
}

// One dataset's table ([training] or [datasets.NAME]); `section` names it in errors.
Result<std::optional<DatasetConfig>> read_dataset(const toml::table& t, const fs::path& base_dir,
                                                  const fs::path& config_path,
                                                  const std::string& section, bool strict) {
  if (strict) {
    for (const auto& [key, value] : t) {
      const std::string_view k = key.str();
      if (k != "train_csv" && k != "validation_csv" && k != "feature_schema" && k != "na_values")
        return dataset_error(config_path, "unknown key '" + section + "." + std::string(k) +
                                              "' (a dataset takes train_csv, validation_csv, "
                                              "feature_schema, na_values)");
    }
  }
  DatasetConfig d;
  for (auto [key, out] : {std::pair<const char*, fs::path*>{"train_csv", &d.train_csv},
                          std::pair<const char*, fs::path*>{"validation_csv", &d.validation_csv},
                          std::pair<const char*, fs::path*>{"feature_schema", &d.feature_schema}}) {
    const toml::node* n = t.get(key);
    if (n == nullptr) continue;
    const auto* s = n->as_string();
    if (s == nullptr)
      return dataset_error(config_path, "'" + section + "." + key + "' must be a string");
    if (s->get().empty()) continue;
    fs::path p(s->get());
    if (p.is_relative()) p = base_dir / p;
    *out = p.lexically_normal();
  }
  if (const toml::node* na = t.get("na_values")) {
    const auto* a = na->as_array();
    std::vector<std::string> values;
    bool ok = a != nullptr && a->size() <= 64 && a->is_homogeneous<std::string>();
    if (ok)
      for (const auto& v : *a) values.push_back(v.as_string()->get());
    for (const auto& v : values) ok = ok && v.size() <= 64;
    if (!ok)
      return dataset_error(config_path, "'" + section +
                                            ".na_values' must be an array of at most 64 strings "
                                            "of at most 64 bytes each, e.g. [\"\", \"NA\", \"?\"]");
    d.na_values = std::move(values);
  }
  if (d.train_csv.empty() && !strict) return std::optional<DatasetConfig>{};  // no default
  if (d.train_csv.empty() || d.validation_csv.empty())
    return dataset_error(config_path, "[" + section + "] needs train_csv and validation_csv");
  return std::optional<DatasetConfig>{std::move(d)};
}

}  // namespace

Result<std::map<std::string, DatasetConfig>> parse_datasets(std::string_view toml_text,
                                                            const fs::path& config_path) {
  toml::table root;
  try {
    root = toml::parse(toml_text, config_path.string());
  } catch (const toml::parse_error& e) {
    return dataset_error(config_path,
                         std::string("is not valid TOML: ") + std::string(e.description()));
  }
  const fs::path base_dir = fs::absolute(config_path).parent_path();
  std::map<std::string, DatasetConfig> out;
  if (const auto* training = root.get_as<toml::table>("training")) {
    auto d = read_dataset(*training, base_dir, config_path, "training", false);
    if (!d) return d.error();
    if (*d) out.emplace(std::string(kDefaultDataset), std::move(**d));
  }
  if (const toml::node* n = root.get("datasets")) {
    const auto* all = n->as_table();
    if (all == nullptr)
      return dataset_error(config_path, "'datasets' must hold tables ([datasets.NAME])");
    for (const auto& [key, value] : *all) {
      const std::string name(key.str());
      if (!chain::validate_chain_id(name))
        return dataset_error(config_path, "dataset name '" + name.substr(0, 80) +
                                              "' must be 1..64 characters of [A-Za-z0-9._-]");
      const auto* t = value.as_table();
      if (t == nullptr)
        return dataset_error(config_path, "'datasets." + name + "' must be a table");
      auto d = read_dataset(*t, base_dir, config_path, "datasets." + name, true);
      if (!d) return d.error();
      if (out.contains(name))
        return dataset_error(config_path, "dataset '" + name +
                                              "' is declared twice ([training] holds the "
                                              "default dataset's files)");
      out.emplace(name, std::move(**d));
    }
  }
  return out;
}

Result<std::map<std::string, DatasetConfig>> load_datasets(const fs::path& config_path) {
  std::ifstream in(config_path, std::ios::binary);
  if (!in) return make_error("cannot read the config " + config_path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return parse_datasets(text.str(), config_path);
}

}  // namespace baton::api

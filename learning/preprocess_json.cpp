// Preprocessor <-> JSON: the feature schema a consortium agrees on.
//
// {
//   "format": "baton-preprocessor/1",
//   "classes": ["benign", "malignant"],          // display names, >= 2
//   "positive_value": "1",                       // binary: class 1 = this label
//   "class_values": ["setosa", ...],             // or multi-class: class k = value k
//   "columns": [                                 // feature order
//     {"name": "age", "kind": "numeric", "median": 68.1, "mean": 67.9, "scale": 10.1},
//     {"name": "gender", "kind": "categorical", "most_frequent": "male",
//      "levels": ["female", "male"]}
//   ],
//   "na_values": ["", "NA", "?"]                 // optional (issue 17): the cells that
// }                                              // mean "no value"; absent: "" and "NA"
// "na_values" is written only when it differs from the default, so a schema
// fitted with the default reads and hashes as before.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "learning/preprocess.h"

namespace baton::learning {
namespace {

using nlohmann::json;

// Bounds on "na_values" (a schema may come from another hospital).
constexpr std::size_t kMaxNaValues = 64;
constexpr std::size_t kMaxNaValueBytes = 64;

Error schema_error(const std::string& what) {
  return make_error("the feature schema is invalid: " + what);
}

Result<std::string> get_string(const json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return schema_error(where + " needs a string \"" + key + "\".");
  }
  return it->get<std::string>();
}

Result<double> get_finite(const json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number()) {
    return schema_error(where + " needs a number \"" + key + "\".");
  }
  const double v = it->get<double>();
  if (!std::isfinite(v)) return schema_error(where + ": \"" + key + "\" is not finite.");
  return v;
}

Result<std::vector<std::string>> get_strings(const json& object, const char* key,
                                             const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_array()) {
    return schema_error(where + " needs an array of strings \"" + key + "\".");
  }
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) return schema_error(where + ": \"" + key + "\" must hold strings only.");
    out.push_back(v.get<std::string>());
  }
  return out;
}

bool strictly_sorted(const std::vector<std::string>& v) {
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (!(v[i - 1] < v[i])) return false;
  }
  return true;
}

}  // namespace

Result<std::string> Preprocessor::to_json() const {
  json j;
  j["format"] = "baton-preprocessor/1";
  j["classes"] = class_names_;
  if (positive_value_) {
    j["positive_value"] = *positive_value_;
  } else {
    j["class_values"] = class_values_;
  }
  json columns = json::array();
  for (const Slot& slot : slots_) {
    if (slot.kind == ColumnKind::numeric) {
      const NumericEncoding& e = numeric_[slot.index];
      columns.push_back({{"name", e.name},
                         {"kind", "numeric"},
                         {"median", e.median},
                         {"mean", e.mean},
                         {"scale", e.scale}});
    } else {
      const CategoricalEncoding& e = categorical_[slot.index];
      columns.push_back({{"name", e.name},
                         {"kind", "categorical"},
                         {"most_frequent", e.most_frequent},
                         {"levels", e.levels}});
    }
  }
  j["columns"] = std::move(columns);
  if (na_values_ != default_na_values()) j["na_values"] = na_values_;
  try {
    return j.dump(2);
  } catch (const json::exception&) {
    return make_error(
        "a column name, level or class is not valid UTF-8 text, so the feature "
        "schema cannot be written as JSON; re-save the CSV file as UTF-8.");
  }
}

Result<Preprocessor> Preprocessor::from_json(std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return schema_error("it is not a JSON object; check the file's syntax.");
  }
  auto format = get_string(j, "format", "the schema");
  if (!format) return format.error();
  if (*format != "baton-preprocessor/1") {
    return schema_error("format \"" + *format +
                        "\" is not supported; this version reads \"baton-preprocessor/1\".");
  }
  Preprocessor p;
  auto classes = get_strings(j, "classes", "the schema");
  if (!classes) return classes.error();
  if (classes->size() < 2) return schema_error("it needs at least 2 classes.");
  p.class_names_ = std::move(*classes);
  const bool binary = j.contains("positive_value");
  if (binary == j.contains("class_values")) {
    return schema_error(
        "give exactly one of \"positive_value\" (binary) and \"class_values\" "
        "(multi-class).");
  }
  if (binary) {
    if (p.class_names_.size() != 2) {
      return schema_error("a binary schema (positive_value) needs exactly 2 classes.");
    }
    auto positive = get_string(j, "positive_value", "the schema");
    if (!positive) return positive.error();
    p.positive_value_ = std::move(*positive);
  } else {
    auto values = get_strings(j, "class_values", "the schema");
    if (!values) return values.error();
    if (values->size() != p.class_names_.size()) {
      return schema_error("\"class_values\" and \"classes\" must have the same length.");
    }
    if (std::set<std::string>(values->begin(), values->end()).size() != values->size()) {
      return schema_error("\"class_values\" repeats a value.");
    }
    p.class_values_ = std::move(*values);
  }
  const auto columns = j.find("columns");
  if (columns == j.end() || !columns->is_array() || columns->empty()) {
    return schema_error("it needs a non-empty array \"columns\".");
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < columns->size(); ++i) {
    const json& c = (*columns)[i];
    const std::string where = "column " + std::to_string(i + 1);
    if (!c.is_object()) return schema_error(where + " is not an object.");
    auto name = get_string(c, "name", where);
    if (!name) return name.error();
    if (name->empty() || !names.insert(*name).second) {
      return schema_error(where + ": the name is empty or repeats an earlier column's.");
    }
    auto kind = get_string(c, "kind", where);
    if (!kind) return kind.error();
    if (*kind == "numeric") {
      NumericEncoding e;
      e.name = *name;
      auto median = get_finite(c, "median", where);
      auto mean = get_finite(c, "mean", where);
      auto scale = get_finite(c, "scale", where);
      if (!median) return median.error();
      if (!mean) return mean.error();
      if (!scale) return scale.error();
      if (*scale <= 0) return schema_error(where + ": \"scale\" must be positive.");
      e.median = *median;
      e.mean = *mean;
      e.scale = *scale;
      p.slots_.push_back({ColumnKind::numeric, p.numeric_.size()});
      p.numeric_.push_back(std::move(e));
    } else if (*kind == "categorical") {
      CategoricalEncoding e;
      e.name = *name;
      auto most = get_string(c, "most_frequent", where);
      auto levels = get_strings(c, "levels", where);
      if (!most) return most.error();
      if (!levels) return levels.error();
      if (levels->empty() || !strictly_sorted(*levels)) {
        return schema_error(where + ": \"levels\" must be non-empty, sorted and without repeats.");
      }
      if (std::find(levels->begin(), levels->end(), *most) == levels->end()) {
        return schema_error(where + ": \"most_frequent\" must be one of the levels.");
      }
      e.most_frequent = std::move(*most);
      e.levels = std::move(*levels);
      p.slots_.push_back({ColumnKind::categorical, p.categorical_.size()});
      p.categorical_.push_back(std::move(e));
    } else {
      return schema_error(where + ": kind \"" + *kind + "\" is not numeric or categorical.");
    }
  }
  if (j.contains("na_values")) {
    auto na = get_strings(j, "na_values", "the schema");
    if (!na) return na.error();
    if (na->size() > kMaxNaValues) {
      return schema_error("\"na_values\" holds more than " + std::to_string(kMaxNaValues) +
                          " values.");
    }
    for (const auto& v : *na) {
      if (v.size() > kMaxNaValueBytes) {
        return schema_error("a value of \"na_values\" is longer than " +
                            std::to_string(kMaxNaValueBytes) + " bytes.");
      }
    }
    p.na_values_ = std::move(*na);
  }
  p.rebuild_feature_names();
  return p;
}

}  // namespace baton::learning

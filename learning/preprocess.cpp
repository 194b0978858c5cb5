#include "learning/preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

namespace baton::learning {
namespace {

Status check_rows(const Table& table, std::span<const std::size_t> rows) {
  for (const std::size_t r : rows) {
    if (r >= table.rows) {
      return make_error("row index " + std::to_string(r) + " is out of range: the table has " +
                        std::to_string(table.rows) + " rows.");
    }
  }
  return {};
}

// numpy.median: the middle value, or the mean of the two middle values.
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Error no_training_value(const std::string& column) {
  return make_error("column '" + column +
                    "' has no value in any training row, so nothing can be learnt or "
                    "imputed from it; drop the column or fill in its values.");
}

}  // namespace

Result<Preprocessor> Preprocessor::fit(const Table& table,
                                       std::span<const std::size_t> train_rows) {
  if (train_rows.empty()) {
    return make_error(
        "cannot fit the preprocessing on zero training rows; the training set "
        "is empty.");
  }
  if (auto s = check_rows(table, train_rows); !s) return s.error();
  Preprocessor p;
  p.class_names_ = table.class_names;
  p.positive_value_ = table.positive_value;
  p.class_values_ = table.class_values;
  p.na_values_ = table.na_values;
  for (const FeatureColumn& col : table.columns) {
    if (col.kind == ColumnKind::numeric) {
      std::vector<double> present;
      for (const std::size_t r : train_rows) {
        if (!col.missing[r]) present.push_back(col.numbers[r]);
      }
      if (present.empty()) return no_training_value(col.name);
      NumericEncoding e;
      e.name = col.name;
      e.median = median(present);
      double sum = 0;
      for (const std::size_t r : train_rows) sum += col.missing[r] ? e.median : col.numbers[r];
      e.mean = sum / static_cast<double>(train_rows.size());
      double squares = 0;
      for (const std::size_t r : train_rows) {
        const double d = (col.missing[r] ? e.median : col.numbers[r]) - e.mean;
        squares += d * d;
      }
      const double sd = std::sqrt(squares / static_cast<double>(train_rows.size()));
      // Values near the largest double (a hostile or broken file) overflow
      // the sums: refuse them rather than fit a schema that cannot be written.
      if (!std::isfinite(e.mean) || !std::isfinite(sd)) {
        return make_error("column \"" + col.name +
                          "\": its values are too large to standardize (their mean or spread "
                          "overflows a double); check the file, or rescale the column");
      }
      e.scale = sd > 0 ? sd : 1.0;
      p.slots_.push_back({ColumnKind::numeric, p.numeric_.size()});
      p.numeric_.push_back(std::move(e));
    } else {
      std::map<std::string, std::size_t> counts;  // sorted: ties go to the smallest level
      for (const std::size_t r : train_rows) {
        if (!col.missing[r]) ++counts[col.cells[r]];
      }
      if (counts.empty()) return no_training_value(col.name);
      CategoricalEncoding e;
      e.name = col.name;
      std::size_t best = 0;
      for (const auto& [level, n] : counts) {
        if (n > best) {
          best = n;
          e.most_frequent = level;
        }
        e.levels.push_back(level);
      }
      p.slots_.push_back({ColumnKind::categorical, p.categorical_.size()});
      p.categorical_.push_back(std::move(e));
    }
  }
  p.rebuild_feature_names();
  return p;
}

void Preprocessor::rebuild_feature_names() {
  feature_names_.clear();
  for (const Slot& slot : slots_) {
    if (slot.kind == ColumnKind::numeric) {
      feature_names_.push_back(numeric_[slot.index].name);
    } else {
      const CategoricalEncoding& e = categorical_[slot.index];
      for (const auto& level : e.levels) feature_names_.push_back(e.name + "=" + level);
    }
  }
}

std::map<std::string, ColumnKind> Preprocessor::column_kinds() const {
  std::map<std::string, ColumnKind> out;
  for (const auto& e : numeric_) out.emplace(e.name, ColumnKind::numeric);
  for (const auto& e : categorical_) out.emplace(e.name, ColumnKind::categorical);
  return out;
}

void Preprocessor::rename_classes(std::vector<std::string> names) {
  if (names.size() != class_names_.size()) std::abort();  // caller's bug
  class_names_ = std::move(names);
}

Result<Dataset> Preprocessor::apply(const Table& table, std::span<const std::size_t> rows) const {
  // Match columns by name.
  std::map<std::string, std::size_t> by_name;
  for (std::size_t c = 0; c < table.columns.size(); ++c) by_name[table.columns[c].name] = c;
  std::vector<std::size_t> source(slots_.size());
  std::set<std::string> fitted;
  for (std::size_t k = 0; k < slots_.size(); ++k) {
    const Slot& slot = slots_[k];
    const std::string& name = slot.kind == ColumnKind::numeric ? numeric_[slot.index].name
                                                               : categorical_[slot.index].name;
    fitted.insert(name);
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      return make_error("the data have no column '" + name +
                            "', which the model's feature schema needs; add it (empty cells are "
                            "allowed and imputed).",
                        static_cast<int>(DataErrc::column_missing));
    }
    source[k] = it->second;
    // A categorical column may look numeric in a file ("1", "2"): its text is
    // used as the level. The reverse cannot be encoded.
    if (slot.kind == ColumnKind::numeric && table.columns[it->second].kind != ColumnKind::numeric) {
      return make_error("column '" + name +
                        "' should be numeric but holds text that is not a number; fix those "
                        "cells or mark them NA.");
    }
  }
  for (const FeatureColumn& col : table.columns) {
    if (fitted.count(col.name) == 0) {
      return make_error("column '" + col.name +
                        "' is not part of the model's feature schema; drop it from the data "
                        "or from the schema's columns.");
    }
  }
  if (auto s = check_rows(table, rows); !s) return s.error();

  Dataset d;
  d.rows = rows.size();
  d.features = feature_names_.size();
  d.num_classes = static_cast<int>(class_names_.size());
  d.feature_names = feature_names_;
  d.class_names = class_names_;
  d.x.reserve(d.rows * d.features);
  d.y.reserve(d.rows);
  for (const std::size_t r : rows) {
    for (std::size_t k = 0; k < slots_.size(); ++k) {
      const FeatureColumn& col = table.columns[source[k]];
      const Slot& slot = slots_[k];
      if (slot.kind == ColumnKind::numeric) {
        const NumericEncoding& e = numeric_[slot.index];
        const double v = col.missing[r] ? e.median : col.numbers[r];
        d.x.push_back(static_cast<float>((v - e.mean) / e.scale));
      } else {
        const CategoricalEncoding& e = categorical_[slot.index];
        const std::string& level = col.missing[r] ? e.most_frequent : col.cells[r];
        for (const auto& known : e.levels) d.x.push_back(known == level ? 1.0f : 0.0f);
      }
    }
    const std::string& label = table.label_text[r];
    if (positive_value_) {
      d.y.push_back(label == *positive_value_ ? 1 : 0);
    } else {
      const auto it = std::find(class_values_.begin(), class_values_.end(), label);
      if (it == class_values_.end()) {
        return make_error("label '" + label +
                          "' is not one of the model's classes; remove those rows or "
                          "correct the label.");
      }
      d.y.push_back(static_cast<int>(it - class_values_.begin()));
    }
  }
  return d;
}

}  // namespace baton::learning

#include "learning/preprocess.h"

#include <algorithm>
#include <cmath>
#include <map>

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

Result<Preprocessor> Preprocessor::fit(const Table& table, std::span<const std::size_t> train_rows) {
  if (train_rows.empty()) {
    return make_error("cannot fit the preprocessing on zero training rows; the training set "
                      "is empty.");
  }
  if (auto s = check_rows(table, train_rows); !s) return s.error();
  Preprocessor p;
  p.class_names_ = table.class_names;
  p.num_classes_ = table.num_classes;
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
      e.scale = sd > 0 ? sd : 1.0;
      p.slots_.push_back({ColumnKind::numeric, p.numeric_.size()});
      p.feature_names_.push_back(col.name);
      p.numeric_.push_back(std::move(e));
    } else {
      std::map<std::string, std::size_t> counts;  // sorted: ties go to the smallest level
      for (const std::size_t r : train_rows) {
        if (!col.missing[r]) ++counts[col.levels[r]];
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
      for (const auto& level : e.levels) p.feature_names_.push_back(col.name + "=" + level);
      p.categorical_.push_back(std::move(e));
    }
  }
  return p;
}

Result<Dataset> Preprocessor::apply(const Table& table, std::span<const std::size_t> rows) const {
  if (table.columns.size() != slots_.size()) {
    return make_error("the table has " + std::to_string(table.columns.size()) +
                      " feature columns but the preprocessing was fitted on " +
                      std::to_string(slots_.size()) + "; use data with the same columns.");
  }
  for (std::size_t c = 0; c < slots_.size(); ++c) {
    const FeatureColumn& col = table.columns[c];
    const Slot& slot = slots_[c];
    const std::string& fitted =
        slot.kind == ColumnKind::numeric ? numeric_[slot.index].name : categorical_[slot.index].name;
    if (col.name != fitted || col.kind != slot.kind) {
      return make_error("feature column " + std::to_string(c + 1) + " is '" + col.name + "' (" +
                        (col.kind == ColumnKind::numeric ? "numeric" : "categorical") +
                        ") but the preprocessing was fitted on '" + fitted + "' (" +
                        (slot.kind == ColumnKind::numeric ? "numeric" : "categorical") +
                        "); use data with the same columns and value types.");
    }
  }
  if (table.num_classes != num_classes_) {
    return make_error("the table has " + std::to_string(table.num_classes) +
                      " classes but the preprocessing was fitted on " +
                      std::to_string(num_classes_) + ".");
  }
  if (auto s = check_rows(table, rows); !s) return s.error();

  Dataset d;
  d.rows = rows.size();
  d.features = feature_names_.size();
  d.num_classes = num_classes_;
  d.feature_names = feature_names_;
  d.class_names = class_names_;
  d.x.reserve(d.rows * d.features);
  d.y.reserve(d.rows);
  for (const std::size_t r : rows) {
    for (std::size_t c = 0; c < slots_.size(); ++c) {
      const FeatureColumn& col = table.columns[c];
      const Slot& slot = slots_[c];
      if (slot.kind == ColumnKind::numeric) {
        const NumericEncoding& e = numeric_[slot.index];
        const double v = col.missing[r] ? e.median : col.numbers[r];
        d.x.push_back(static_cast<float>((v - e.mean) / e.scale));
      } else {
        const CategoricalEncoding& e = categorical_[slot.index];
        const std::string& level = col.missing[r] ? e.most_frequent : col.levels[r];
        for (const auto& known : e.levels) d.x.push_back(known == level ? 1.0f : 0.0f);
      }
    }
    d.y.push_back(table.y[r]);
  }
  return d;
}

}  // namespace baton::learning

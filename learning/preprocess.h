// Preprocessor: imputation, one-hot encoding and standardisation whose
// statistics come from the training rows only, applied to any rows. This is
// what keeps the held-out test set (and every other hospital's data) out of
// the model's preparation. A fitted Preprocessor is also the feature schema a
// consortium agrees on: it serialises to JSON, so that every hospital encodes
// its own CSV into exactly the same features and classes as the model expects.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/result.h"
#include "learning/dataset.h"
#include "learning/tabular.h"

namespace baton::learning {

// Statistics of one numeric column, from the training rows.
struct NumericEncoding {
  std::string name;
  double median = 0;  // replaces missing values (numpy.median convention)
  double mean = 0;    // of the training values after imputation
  double scale = 1;   // their population standard deviation (ddof 0); 1 if it is 0
};

// Levels of one categorical column, from the training rows.
struct CategoricalEncoding {
  std::string name;
  std::string most_frequent;        // replaces missing values (ties: byte-wise smallest)
  std::vector<std::string> levels;  // byte-wise sorted; one feature "name=level" each
};

// Encodes Table rows into a Dataset:
//  - numeric column → one feature (value, or the median if missing, minus the
//    mean, divided by the scale);
//  - categorical column → one 0/1 feature per level seen in training (not
//    standardised); a missing cell counts as the most frequent level; a level
//    never seen in training gives all zeros;
//  - labels → class indices as at fitting time: binary, label == positive
//    value → 1; multi-class, the index of the label value among the fitted
//    classes (so a file that lacks a class still numbers the others right).
// Features follow the fitted column order.
class Preprocessor {
 public:
  // Fits on the rows `train_rows` of `table`.
  // Errors: no training rows, an index out of range, a column with no value in
  // any training row (drop that column, or fill it in).
  static Result<Preprocessor> fit(const Table& table, std::span<const std::size_t> train_rows);

  // Encodes rows `rows` of `table`. Columns are matched by name, in any order;
  // the table must have exactly the fitted columns.
  // Errors: a fitted column is absent, the table has a column that was not
  // fitted, a fitted numeric column holds text, a label value that is not a
  // fitted class (multi-class), an index out of range.
  Result<Dataset> apply(const Table& table, std::span<const std::size_t> rows) const;

  // The schema as JSON (format "baton-preprocessor/1", described in
  // preprocess_json.cpp; numbers are written so that they read back exactly,
  // so from_json(to_json()) encodes bit-identically).
  // Error: a name, level or class that is not valid UTF-8.
  Result<std::string> to_json() const;
  // Parses and checks a schema (untrusted input: e.g. from a genesis file).
  // Errors: not JSON, wrong format tag, a missing or mistyped field, no
  // column, duplicate column names, a non-finite number or scale <= 0,
  // levels empty, unsorted or repeated, most_frequent not among the levels,
  // fewer than 2 classes, na_values not an array of at most 64 strings of at
  // most 64 bytes each.
  static Result<Preprocessor> from_json(std::string_view json);

  const std::vector<std::string>& feature_names() const { return feature_names_; }
  std::size_t feature_count() const { return feature_names_.size(); }
  const std::vector<NumericEncoding>& numeric() const { return numeric_; }
  const std::vector<CategoricalEncoding>& categorical() const { return categorical_; }
  const std::vector<std::string>& class_names() const { return class_names_; }
  // The cells that mean "no value" (the fitted table's; "na_values" in the
  // JSON, default_na_values() when absent).
  const std::vector<std::string>& na_values() const { return na_values_; }
  // Each fitted column's kind, for make_table's TableSchema::column_kinds, so
  // that a file read against this schema types its columns as declared.
  std::map<std::string, ColumnKind> column_kinds() const;
  // The names callers show may be changed (e.g. "survived 2 years" for "1").
  // Precondition: names.size() == number of classes.
  void rename_classes(std::vector<std::string> names);

 private:
  Preprocessor() = default;
  void rebuild_feature_names();

  struct Slot {
    ColumnKind kind = ColumnKind::numeric;
    std::size_t index = 0;  // into numeric_ or categorical_
  };
  std::vector<Slot> slots_;  // one per fitted column, in order
  std::vector<NumericEncoding> numeric_;
  std::vector<CategoricalEncoding> categorical_;
  std::vector<std::string> feature_names_;
  std::vector<std::string> class_names_;
  std::optional<std::string> positive_value_;  // binary
  std::vector<std::string> class_values_;      // multi-class
  std::vector<std::string> na_values_ = default_na_values();
};

}  // namespace baton::learning

// Preprocessor: imputation, one-hot encoding and standardisation whose
// statistics come from the training rows only, applied to any rows. This is
// what keeps the held-out test set (and every other hospital's data) out of
// the model's preparation.
#pragma once

#include <cstddef>
#include <span>
#include <string>
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
//    never seen in training gives all zeros.
// Features follow the table's column order.
class Preprocessor {
 public:
  // Fits on the rows `train_rows` of `table`.
  // Errors: no training rows, an index out of range, a column with no value in
  // any training row (drop that column, or fill it in).
  static Result<Preprocessor> fit(const Table& table, std::span<const std::size_t> train_rows);

  // Encodes rows `rows` of `table`, which must have the columns this was
  // fitted on (same names, kinds and order).
  // Errors: a column differs, an index out of range.
  Result<Dataset> apply(const Table& table, std::span<const std::size_t> rows) const;

  const std::vector<std::string>& feature_names() const { return feature_names_; }
  std::size_t feature_count() const { return feature_names_.size(); }
  const std::vector<NumericEncoding>& numeric() const { return numeric_; }
  const std::vector<CategoricalEncoding>& categorical() const { return categorical_; }

 private:
  Preprocessor() = default;

  struct Slot {
    ColumnKind kind = ColumnKind::numeric;
    std::size_t index = 0;  // into numeric_ or categorical_
  };
  std::vector<Slot> slots_;  // one per table column, in order
  std::vector<NumericEncoding> numeric_;
  std::vector<CategoricalEncoding> categorical_;
  std::vector<std::string> feature_names_;
  std::vector<std::string> class_names_;
  int num_classes_ = 2;
};

}  // namespace baton::learning

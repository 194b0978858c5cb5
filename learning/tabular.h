// Typed tabular data: a CSV table with a schema (label column, positive
// value, dropped columns) turned into typed feature columns and class labels.
// Nothing is imputed or scaled here; that is preprocess.h's job, fitted on
// training rows only.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/result.h"
#include "learning/csv.h"

namespace baton::learning {

// The cells that mean "no value" when nothing else is configured: empty and
// "NA" (compared after the CSV layer's trimming, case-sensitively).
const std::vector<std::string>& default_na_values();

// True for a missing cell: empty, or one of `na_values` (an empty cell is
// always missing, whatever the list says).
bool is_missing_cell(std::string_view cell,
                     const std::vector<std::string>& na_values = default_na_values());

// The whole cell as a finite decimal number ("3", "-0.5", "1e-3"), or nothing.
std::optional<double> parse_number(std::string_view cell);

enum class ColumnKind {
  numeric,      // every non-missing cell is a number
  categorical,  // cells are levels (text), numbers or not
};

// One feature column, one entry per row in each vector. `cells` holds the
// text of every cell ("" when missing); `numbers` is filled for numeric
// columns only (NaN when missing); `missing[i]` says whether row i had no
// value.
struct FeatureColumn {
  std::string name;
  ColumnKind kind = ColumnKind::numeric;
  std::vector<std::string> cells;
  std::vector<double> numbers;
  std::vector<bool> missing;
};

struct TableSchema {
  std::string label_column;
  // Binary task: label == positive_value → class 1, anything else → class 0.
  // Absent: one class per distinct label value, in byte-wise sorted order.
  std::optional<std::string> positive_value;
  std::vector<std::string> drop_columns;
  // Only reading labels for a fitted Preprocessor (which maps them to its own
  // classes): positive_value is ignored and a file may hold a single class.
  bool labels_for_fitted_schema = false;
  // The cells that mean "no value" in feature and label columns.
  std::vector<std::string> na_values = default_na_values();
  // Declared kinds (e.g. a fitted feature schema's). A column not named here
  // is inferred: numeric when more than half of its non-missing cells are
  // numbers, else categorical.
  std::map<std::string, ColumnKind> column_kinds;
};

// Feature columns and labels of every row of a CSV table.
struct Table {
  std::vector<FeatureColumn> columns;  // CSV order, label and dropped columns removed
  std::vector<int> y;                  // class index per row
  int num_classes = 2;
  std::vector<std::string> class_names;  // for display; may be renamed by the caller
  // How labels map to classes, kept so that other files (another hospital's
  // validation CSV) are labelled the same way (see Preprocessor::apply):
  std::optional<std::string> positive_value;  // binary: class 1 = this label value
  std::vector<std::string> class_values;      // multi-class: class k = class_values[k]
  std::vector<std::string> label_text;        // the label cell of each row
  std::size_t rows = 0;
  // The schema's NA tokens, kept for a Preprocessor fitted on this table.
  std::vector<std::string> na_values = default_na_values();
};

// Types the columns of `csv` (declared in schema.column_kinds, else inferred
// from all rows, which fixes the schema, not any statistic) and derives the
// labels. A non-missing cell that is not a number in a numeric column is an
// error naming its line (1-based, as an editor shows it), its column and the
// cell, never a new category: a typo ("12O") or an unlisted missing marker
// ("?") must be corrected, or listed in na_values.
// Binary class names: {the other label value, positive} when the label column
// has exactly two values, else {"not <positive>", positive}.
// Errors: the label column or a dropped column does not exist, a declared
// column does not exist, a numeric column holds text, a row has no
// label, the positive value never occurs, fewer than two classes (unless
// labels_for_fitted_schema), no feature column left, no rows.
Result<Table> make_table(const CsvTable& csv, const TableSchema& schema);

}  // namespace baton::learning

// A hospital's summary statistics of its training file (issue 17,
// docs/PROTOCOL.md §23.1): what `baton data summarize` posts as a DataSummary
// so that the consortium schema is derived without pooling any row.
// Torch-free (baton_learning_core).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "chain/consortium_schema.h"
#include "chain/result.h"
#include "learning/tabular.h"

namespace baton::learning {

struct SummaryOptions {
  std::filesystem::path file;  // the training CSV
  std::string label_column;    // never summarised
  std::string positive_value;
  // The summarised columns in the schema's order; empty: every column but
  // the label, in the file's order.
  std::vector<std::string> feature_columns;
  std::vector<std::string> na_values;  // empty: the default ("" and "NA")
  // Declared kinds (else inferred as make_table does): declare a column whose
  // kind might be inferred differently at another hospital.
  std::map<std::string, ColumnKind> column_kinds;
};

// Counts, sums (micro-units, each value rounded half away from zero), sums of
// squares, min, max and missing cells of numeric columns; level counts and
// missing cells of categorical ones. The result passes
// chain::summary_from_proto. Errors name the file and what does not fit the
// bounds of chain/consortium_schema.h: more than 10^6 rows, a value beyond
// +-10^6 (with its line), a level over 64 bytes, more than 256 levels in a
// column (an identifier? leave it out of the features), and make_table's.
Result<chain::DataSummaryRecord> summarize_csv(const SummaryOptions& options);

}  // namespace baton::learning

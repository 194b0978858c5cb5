#include "learning/data_summary.h"

#include <algorithm>
#include <cmath>

#include "learning/csv.h"

namespace baton::learning {

Result<chain::DataSummaryRecord> summarize_csv(const SummaryOptions& o) {
  const std::string file = o.file.string();
  auto csv = read_csv_file(o.file);
  if (!csv) return csv.error();
  TableSchema schema;
  schema.label_column = o.label_column;
  schema.positive_value = o.positive_value;
  if (!o.na_values.empty()) schema.na_values = o.na_values;
  schema.column_kinds = o.column_kinds;
  for (const std::string& c : csv->header) {
    const bool wanted =
        o.feature_columns.empty() ||
        std::find(o.feature_columns.begin(), o.feature_columns.end(), c) != o.feature_columns.end();
    if (!wanted && c != o.label_column) schema.drop_columns.push_back(c);
  }
  for (const std::string& f : o.feature_columns)
    if (csv->column_index(f) < 0) return make_error(file + " has no column '" + f + "'");
  auto table = make_table(*csv, schema);
  if (!table) return make_error(file + ": " + table.error().message);
  if (table->rows > chain::kMaxSummaryRows)
    return make_error(file + " has " + std::to_string(table->rows) +
                      " rows; a summary covers at most 1000000 (summarise a sample)");
  chain::DataSummaryRecord r;
  r.positive_value = o.positive_value;
  r.na_values = o.na_values;
  r.rows = table->rows;
  std::vector<const FeatureColumn*> ordered;
  for (const FeatureColumn& col : table->columns) ordered.push_back(&col);
  if (!o.feature_columns.empty()) {
    ordered.clear();
    for (const std::string& f : o.feature_columns)
      for (const FeatureColumn& col : table->columns)
        if (col.name == f) ordered.push_back(&col);
  }
  if (ordered.size() > chain::kMaxSummaryColumns)
    return make_error(file + " has more than 256 feature columns");
  for (const FeatureColumn* col : ordered) {
    chain::SummaryColumn s;
    s.name = col->name;
    for (std::size_t row = 0; row < table->rows; ++row) {
      if (col->missing[row]) {
        ++s.missing;
        continue;
      }
      if (col->kind == ColumnKind::categorical) {
        const std::string& level = col->cells[row];
        if (level.size() > chain::kMaxLevelBytes)
          return make_error(file + " line " + std::to_string(csv->line_of_row[row]) + ", column '" +
                            col->name + "': the level is over 64 bytes");
        if (++s.levels[level] == 1 && s.levels.size() > chain::kMaxSummaryLevelsPerColumn)
          return make_error(file + ": column '" + col->name +
                            "' has more than 256 levels; is it an identifier? leave it out of "
                            "the features");
        continue;
      }
      const double v = col->numbers[row];
      if (!(std::fabs(v) <= 1e6))
        return make_error(file + " line " + std::to_string(csv->line_of_row[row]) + ", column '" +
                          col->name + "': " + col->cells[row] +
                          " is beyond +-10^6, which a summary cannot carry; rescale the column "
                          "(e.g. in thousands)");
      const std::int64_t micro = std::llround(v * 1e6);
      chain::NumericSummary& n = s.numeric;
      if (n.count == 0 || micro < n.min_micro) n.min_micro = micro;
      if (n.count == 0 || micro > n.max_micro) n.max_micro = micro;
      ++n.count;
      n.sum_micro += micro;  // |sum| <= 10^6 rows x 10^12
      n.sum_squares += static_cast<chain::u128>(static_cast<chain::i128>(micro) * micro);
    }
    s.kind = col->kind == ColumnKind::numeric ? chain::SummaryKind::numeric
                                              : chain::SummaryKind::categorical;
    r.columns.push_back(std::move(s));
  }
  // The record must pass the ledger's own check (it is what every node runs).
  auto checked = chain::summary_from_proto(chain::summary_to_proto("check", r));
  if (!checked) return make_error(file + ": " + checked.error().message);
  return r;
}

}  // namespace baton::learning

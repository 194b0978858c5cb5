#include "learning/tabular.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>

namespace baton::learning {

const std::vector<std::string>& default_na_values() {
  static const std::vector<std::string> values{"", "NA"};
  return values;
}

bool is_missing_cell(std::string_view cell, const std::vector<std::string>& na_values) {
  return cell.empty() || std::find(na_values.begin(), na_values.end(), cell) != na_values.end();
}

std::optional<double> parse_number(std::string_view cell) {
  if (cell.empty()) return std::nullopt;
  // strtod accepts "inf", "nan" and hex floats; a data cell meaning one of
  // those is not a plain decimal number, so only decimal syntax is allowed.
  for (const char c : cell) {
    const bool ok =
        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
    if (!ok) return std::nullopt;
  }
  const std::string s(cell);
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v)) return std::nullopt;
  return v;
}

namespace {

// A cell as quoted in an error: a file may hold anything, so long cells are
// cut (the line and column say where to look).
std::string shown_cell(const std::string& cell) {
  constexpr std::size_t kShown = 40;
  return cell.size() <= kShown ? cell : cell.substr(0, kShown) + "...";
}

}  // namespace

Result<Table> make_table(const CsvTable& csv, const TableSchema& schema) {
  const int label_index = csv.column_index(schema.label_column);
  if (label_index < 0) {
    std::string names;
    for (const auto& h : csv.header) names += (names.empty() ? "" : ", ") + h;
    return make_error(
        "there is no label column '" + schema.label_column + "'; the columns are: " + names + ".",
        static_cast<int>(DataErrc::column_missing));
  }
  std::set<int> dropped;
  for (const auto& name : schema.drop_columns) {
    const int i = csv.column_index(name);
    if (i < 0) {
      return make_error("cannot drop column '" + name +
                        "': there is no such column; check its spelling.");
    }
    dropped.insert(i);
  }
  if (csv.rows.empty()) {
    return make_error("the table has a header but no rows; a data set needs at least one row.");
  }
  const auto label_col = static_cast<std::size_t>(label_index);

  Table t;
  t.rows = csv.rows.size();
  // Labels.
  std::set<std::string> label_values;
  for (std::size_t r = 0; r < csv.rows.size(); ++r) {
    const std::string& v = csv.rows[r][label_col];
    if (is_missing_cell(v, schema.na_values)) {
      return make_error("line " + std::to_string(csv.line_of_row[r]) +
                        " has no value in label column '" + schema.label_column +
                        "'; remove the row or fill in its label.");
    }
    label_values.insert(v);
    t.label_text.push_back(v);
  }
  if (schema.labels_for_fitted_schema) {
    // Class indices here are provisional (sorted values); Preprocessor::apply
    // maps label_text to the fitted classes.
    std::map<std::string, int> index;
    for (const auto& v : label_values) {
      index.emplace(v, static_cast<int>(t.class_names.size()));
      t.class_names.push_back(v);
    }
    t.num_classes = static_cast<int>(t.class_names.size());
    t.class_values = t.class_names;
    for (const auto& row : csv.rows) t.y.push_back(index.at(row[label_col]));
  } else if (schema.positive_value) {
    const std::string& pos = *schema.positive_value;
    if (label_values.count(pos) == 0) {
      std::string seen;
      int shown = 0;
      for (const auto& v : label_values) {
        if (shown++ == 10) {
          seen += ", …";
          break;
        }
        seen += (seen.empty() ? "" : ", ") + v;
      }
      return make_error("the positive value '" + pos + "' never occurs in label column '" +
                        schema.label_column + "' (its values are: " + seen +
                        "); pass one of them.");
    }
    if (label_values.size() < 2) {
      return make_error("every row of label column '" + schema.label_column + "' is '" + pos +
                        "'; a classifier needs rows of at least two classes.");
    }
    t.num_classes = 2;
    t.positive_value = pos;
    if (label_values.size() == 2) {
      const std::string other =
          *label_values.begin() == pos ? *label_values.rbegin() : *label_values.begin();
      t.class_names = {other, pos};
    } else {
      t.class_names = {"not " + pos, pos};
    }
    for (const auto& row : csv.rows) t.y.push_back(row[label_col] == pos ? 1 : 0);
  } else {
    if (label_values.size() < 2) {
      return make_error("label column '" + schema.label_column +
                        "' has a single value; a classifier needs at least two classes.");
    }
    std::map<std::string, int> index;
    for (const auto& v : label_values) {
      index.emplace(v, static_cast<int>(t.class_names.size()));
      t.class_names.push_back(v);
    }
    t.num_classes = static_cast<int>(t.class_names.size());
    t.class_values = t.class_names;
    for (const auto& row : csv.rows) t.y.push_back(index.at(row[label_col]));
  }

  // Feature columns.
  for (const auto& [name, kind] : schema.column_kinds) {
    if (csv.column_index(name) < 0) {
      return make_error("there is no column '" + name +
                            "', which the feature schema declares; add it (empty cells are "
                            "allowed and imputed).",
                        static_cast<int>(DataErrc::column_missing));
    }
  }
  t.na_values = schema.na_values;
  for (std::size_t c = 0; c < csv.header.size(); ++c) {
    if (c == label_col || dropped.count(static_cast<int>(c)) != 0) continue;
    FeatureColumn col;
    col.name = csv.header[c];
    col.missing.resize(t.rows);
    col.cells.resize(t.rows);
    std::size_t present = 0;
    std::size_t numbers = 0;
    for (std::size_t r = 0; r < t.rows; ++r) {
      const std::string& v = csv.rows[r][c];
      col.missing[r] = is_missing_cell(v, schema.na_values);
      if (col.missing[r]) continue;
      col.cells[r] = v;
      ++present;
      if (parse_number(v)) ++numbers;
    }
    const auto declared = schema.column_kinds.find(col.name);
    col.kind = declared != schema.column_kinds.end() ? declared->second
               : 2 * numbers > present               ? ColumnKind::numeric
                                                     : ColumnKind::categorical;
    if (col.kind == ColumnKind::numeric) {
      col.numbers.resize(t.rows, std::numeric_limits<double>::quiet_NaN());
      for (std::size_t r = 0; r < t.rows; ++r) {
        if (col.missing[r]) continue;
        const auto v = parse_number(col.cells[r]);
        if (v) {
          col.numbers[r] = *v;
          continue;
        }
        const std::string why = declared != schema.column_kinds.end()
                                    ? "the feature schema declares it numeric"
                                    : std::to_string(numbers) + " of its " +
                                          std::to_string(present) +
                                          " values are numbers, so it is numeric";
        std::string na;
        for (const auto& token : schema.na_values)
          na += (na.empty() ? "\"" : ", \"") + token + "\"";
        return make_error("line " + std::to_string(csv.line_of_row[r]) + ", column '" + col.name +
                          "': '" + shown_cell(col.cells[r]) + "' is not a number, and " + why +
                          "; correct the cell, or, if it means a missing value, list it in "
                          "na_values (now " +
                          na + "), or declare the column categorical.");
      }
    }
    t.columns.push_back(std::move(col));
  }
  if (t.columns.empty()) {
    return make_error(
        "no feature column is left after removing the label and dropped "
        "columns; a model needs at least one input column.");
  }
  return t;
}

}  // namespace baton::learning

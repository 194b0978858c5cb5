// CSV parsing (RFC 4180 with the usual relaxations): the text layer below
// tabular.h. Cells stay strings here; typing happens in tabular.h.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "chain/result.h"

namespace baton::learning {

// Error::code of a data error that names a column the data lack (a label or
// feature column a schema or manifest needs: make_table, Preprocessor::apply,
// load_volume_manifest), so that a caller can tell it from the others without
// reading the sentence. Other data errors carry code 0.
enum class DataErrc : int { column_missing = 1 };

// A parsed CSV file: a header row and data rows with exactly as many cells.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> line_of_row;  // 1-based line where each data row starts

  // Index of the column called `name`, or -1.
  int column_index(std::string_view name) const;
};

// Parses CSV text:
//  - fields are separated by ',' and records by "\n" or "\r\n";
//  - a field may be quoted with '"'; inside quotes, '""' is one '"' and
//    commas and line breaks are data;
//  - unquoted fields have surrounding spaces and tabs removed, quoted ones
//    are kept exactly;
//  - a UTF-8 byte-order mark at the start is skipped; blank lines are skipped.
// Errors (with the line number): empty input or no header, an unterminated
// quote, text after a closing quote, a row whose cell count differs from the
// header's, an empty or duplicate column name.
// `source` names the input in error messages (e.g. the file path).
Result<CsvTable> parse_csv(std::string_view text, std::string_view source = "the CSV text");

// Reads and parses a file. Error: the file cannot be read, or parse_csv's.
Result<CsvTable> read_csv_file(const std::filesystem::path& path);

}  // namespace baton::learning

#include "learning/csv.h"

#include <fstream>
#include <set>
#include <sstream>

namespace baton::learning {
namespace {

std::string trim(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

// Splits the text into records of raw cells. Tracks line numbers for errors.
class Tokenizer {
 public:
  Tokenizer(std::string_view text, std::string_view source) : text_(text), source_(source) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  }

  bool done() const { return pos_ >= text_.size(); }
  std::size_t line() const { return line_; }

  // Reads one record. An empty vector means a blank line.
  Result<std::vector<std::string>> next_record() {
    std::vector<std::string> cells;
    const std::size_t start_line = line_;
    if (at_line_end()) {
      consume_line_end();
      return cells;
    }
    while (true) {
      auto cell = next_cell(start_line);
      if (!cell) return cell.error();
      cells.push_back(std::move(*cell));
      if (pos_ >= text_.size()) break;
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      consume_line_end();  // next_cell stops only at ',', line end or end of text
      break;
    }
    return cells;
  }

 private:
  bool at_line_end() const {
    return pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r');
  }

  void consume_line_end() {
    if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    ++line_;
  }

  Error error_at(std::size_t line, const std::string& what) const {
    return make_error(std::string(source_) + ", line " + std::to_string(line) + ": " + what);
  }

  Result<std::string> next_cell(std::size_t record_line) {
    // Leading blanks before an opening quote are tolerated.
    std::size_t p = pos_;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
    if (p < text_.size() && text_[p] == '"') {
      pos_ = p + 1;
      std::string out;
      while (true) {
        if (pos_ >= text_.size()) {
          return error_at(record_line,
                          "a quoted field is never closed; add the missing '\"' (a quote "
                          "inside a quoted field is written '\"\"').");
        }
        const char c = text_[pos_++];
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            out.push_back('"');
            ++pos_;
            continue;
          }
          break;
        }
        if (c == '\n') ++line_;
        out.push_back(c);
      }
      while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
      if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') {
        return error_at(line_,
                        "unexpected text after a closing quote; quote the whole field and "
                        "double any '\"' inside it.");
      }
      return out;
    }
    const std::size_t begin = pos_;
    while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' &&
           text_[pos_] != '\r') {
      if (text_[pos_] == '"') {
        return error_at(line_,
                        "a '\"' inside an unquoted field; quote the field and write the "
                        "quote as '\"\"'.");
      }
      ++pos_;
    }
    return trim(text_.substr(begin, pos_ - begin));
  }

  std::string_view text_;
  std::string_view source_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

}  // namespace

int CsvTable::column_index(std::string_view name) const {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

Result<CsvTable> parse_csv(std::string_view text, std::string_view source) {
  Tokenizer tok(text, source);
  CsvTable table;
  bool have_header = false;
  while (!tok.done()) {
    const std::size_t line = tok.line();
    auto record = tok.next_record();
    if (!record) return record.error();
    if (record->empty()) continue;  // blank line
    if (!have_header) {
      std::set<std::string> seen;
      for (std::size_t i = 0; i < record->size(); ++i) {
        const std::string& name = (*record)[i];
        if (name.empty()) {
          return make_error(std::string(source) + ", line " + std::to_string(line) + ": column " +
                            std::to_string(i + 1) +
                            " of the header has no name; every column needs a unique name.");
        }
        if (!seen.insert(name).second) {
          return make_error(std::string(source) + ", line " + std::to_string(line) +
                            ": the header names column '" + name +
                            "' twice; column names must be unique.");
        }
      }
      table.header = std::move(*record);
      have_header = true;
      continue;
    }
    if (record->size() != table.header.size()) {
      return make_error(std::string(source) + ", line " + std::to_string(line) + ": the row has " +
                        std::to_string(record->size()) + " cells but the header has " +
                        std::to_string(table.header.size()) +
                        " columns; every row needs one cell per column (quote cells that "
                        "contain commas).");
    }
    table.rows.push_back(std::move(*record));
    table.line_of_row.push_back(line);
  }
  if (!have_header) {
    return make_error(std::string(source) +
                      " is empty; a CSV file needs a header row naming its columns.");
  }
  return table;
}

Result<CsvTable> read_csv_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return make_error("'" + path.string() +
                      "' is a directory, not a CSV file; give the file's path.");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error("cannot open '" + path.string() +
                      "' for reading; check that the file exists and is readable.");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return make_error("reading '" + path.string() + "' failed; check the disk and try again.");
  }
  return parse_csv(buffer.str(), path.string());
}

}  // namespace baton::learning

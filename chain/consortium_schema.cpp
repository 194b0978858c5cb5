#include "chain/consortium_schema.h"

#include <algorithm>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

namespace baton::chain {
namespace {

Error bad(const std::string& what) { return make_error("the data summary is invalid: " + what); }

std::int64_t abs64(std::int64_t v) { return v < 0 ? -v : v; }  // |v| <= kMaxSummaryValueMicro

// Rounds n / d half away from zero. Pre: d > 0.
i128 round_div(i128 n, i128 d) {
  const i128 q = n / d, r = n % d;
  if (2 * (r < 0 ? -r : r) >= d) return n < 0 ? q - 1 : q + 1;
  return q;
}

// floor(sqrt(v)) for v >= 0 (v < 2^126 here).
i128 isqrt(i128 v) {
  if (v <= 0) return 0;
  i128 x = 0;
  for (int bit = 62; bit >= 0; --bit) {  // the root of v < 2^126 is < 2^63
    const i128 candidate = x | (static_cast<i128>(1) << bit);
    if (candidate * candidate <= v) x = candidate;
  }
  return x;
}

Status check_numeric(const std::string& where, std::uint64_t count, const NumericSummary& n) {
  if (count == 0) {
    if (n.sum_micro != 0 || n.sum_squares != 0 || n.min_micro != 0 || n.max_micro != 0)
      return bad(where + " has no value, so its sum, squares, min and max must be 0");
    return {};
  }
  const auto within = [](std::int64_t v) {
    return v >= -kMaxSummaryValueMicro && v <= kMaxSummaryValueMicro;
  };
  if (!within(n.min_micro) || !within(n.max_micro))
    return bad(where + ": min and max must be within +-10^6 (10^12 micro-units)");
  if (n.min_micro > n.max_micro) return bad(where + ": min is above max");
  const i128 c = count, s = n.sum_micro;
  if (s < c * n.min_micro || s > c * n.max_micro)
    return bad(where + ": the sum is outside [count x min, count x max]");
  const i128 big = std::max(abs64(n.min_micro), abs64(n.max_micro));
  const u128 most = static_cast<u128>(c) * static_cast<u128>(big * big);
  if (n.sum_squares > most) return bad(where + ": the sum of squares is above count x max^2");
  // Cauchy-Schwarz: count x squares >= sum^2 (both below 2^120 here).
  if (static_cast<u128>(c) * n.sum_squares < static_cast<u128>(s * s))
    return bad(where + ": the sum of squares is below sum^2 / count");
  return {};
}

// The JSON text of a string (escaped); proto3 strings are valid UTF-8.
std::string json_string(const std::string& s) { return nlohmann::json(s).dump(); }

std::string json_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + json_string(v[i]);
  return out + "]";
}

struct PooledLevel {
  std::uint64_t rows = 0;
  std::size_t members = 0;
};

// The levels the derived schema keeps for column `c` (byte order) and the
// fill value for a missing cell.
std::pair<std::vector<std::string>, std::string> kept_levels(const ConsortiumSchema& schema,
                                                             std::size_t c) {
  std::map<std::string, PooledLevel> pooled;
  for (const auto& [member, s] : schema.summaries) {
    for (const auto& [level, rows] : s.columns[c].levels) {
      PooledLevel& p = pooled[level];
      p.rows += rows;  // <= members x kMaxSummaryRows: far below 2^64
      p.members += 1;
    }
  }
  const std::size_t need = std::min(kMinLevelMembers, schema.summaries.size());
  std::vector<std::pair<std::string, std::uint64_t>> eligible;
  for (const auto& [level, p] : pooled)
    if (p.members >= need) eligible.emplace_back(level, p.rows);
  // No level is held by enough members: the single most frequent one keeps
  // the column one feature wide (a column needs a level).
  const bool fallback = eligible.empty();
  if (fallback)
    for (const auto& [level, p] : pooled) eligible.emplace_back(level, p.rows);
  // Most rows first, then byte order (stable on the map's order): this order
  // decides which levels fit the cap and which one fills a missing cell.
  std::stable_sort(eligible.begin(), eligible.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  const std::size_t keep = fallback ? 1 : kMaxSchemaLevels;
  if (eligible.size() > keep) eligible.resize(keep);
  const std::string most_frequent = eligible.empty() ? std::string() : eligible.front().first;
  std::vector<std::string> levels;
  for (const auto& e : eligible) levels.push_back(e.first);
  std::sort(levels.begin(), levels.end());
  return {levels, most_frequent};
}

}  // namespace

std::string micro_decimal(i128 micro) {
  const bool negative = micro < 0;
  u128 v = static_cast<u128>(negative ? -micro : micro);
  const u128 whole = v / kMicro;
  std::uint64_t frac = static_cast<std::uint64_t>(v % kMicro);
  std::string digits;
  u128 w = whole;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(w % 10)));
    w /= 10;
  } while (w > 0);
  std::string out = (negative && (whole > 0 || frac > 0) ? "-" : "") + digits;
  if (frac > 0) {
    std::string f = std::to_string(frac);
    f.insert(0, 6 - f.size(), '0');
    while (f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out;
}

Result<DataSummaryRecord> summary_from_proto(const pb::DataSummary& m) {
  DataSummaryRecord r;
  if (m.positive_value().empty() || m.positive_value().size() > kMaxSummaryColumnNameBytes)
    return bad("the positive value must be 1..256 bytes");
  r.positive_value = m.positive_value();
  if (static_cast<std::size_t>(m.na_values_size()) > kMaxSummaryNaValues)
    return bad("it lists more than 16 NA tokens");
  for (const auto& na : m.na_values()) {
    if (na.size() > kMaxSummaryNaValueBytes) return bad("an NA token is longer than 32 bytes");
    r.na_values.push_back(na);
  }
  if (m.rows() == 0 || m.rows() > kMaxSummaryRows)
    return bad("rows must be 1..1000000, not " + std::to_string(m.rows()));
  r.rows = m.rows();
  const std::size_t columns = static_cast<std::size_t>(m.column_names_size());
  if (columns == 0 || columns > kMaxSummaryColumns) return bad("it needs 1..256 columns");
  if (static_cast<std::size_t>(m.column_kinds_size()) != columns ||
      static_cast<std::size_t>(m.missing_size()) != columns)
    return bad("column_kinds and missing need one entry per column");
  std::set<std::string> names;
  std::size_t numeric = 0;
  for (std::size_t c = 0; c < columns; ++c) {
    SummaryColumn col;
    col.name = m.column_names(static_cast<int>(c));
    if (col.name.empty() || col.name.size() > kMaxSummaryColumnNameBytes ||
        !names.insert(col.name).second)
      return bad("column " + std::to_string(c + 1) + "'s name is empty, too long or repeated");
    const std::uint32_t kind = m.column_kinds(static_cast<int>(c));
    if (kind != 1 && kind != 2) return bad("a column kind is neither 1 nor 2");
    col.kind = static_cast<SummaryKind>(kind);
    col.missing = m.missing(static_cast<int>(c));
    if (col.missing > r.rows) return bad("column '" + col.name + "' misses more cells than rows");
    if (col.kind == SummaryKind::numeric) ++numeric;
    r.columns.push_back(std::move(col));
  }
  if (static_cast<std::size_t>(m.sum_micro_size()) != numeric ||
      static_cast<std::size_t>(m.sum_squares_hi_size()) != numeric ||
      static_cast<std::size_t>(m.sum_squares_lo_size()) != numeric ||
      static_cast<std::size_t>(m.min_micro_size()) != numeric ||
      static_cast<std::size_t>(m.max_micro_size()) != numeric)
    return bad("the numeric lists need one entry per numeric column");
  int k = 0;
  for (SummaryColumn& col : r.columns) {
    if (col.kind != SummaryKind::numeric) continue;
    NumericSummary& n = col.numeric;
    n.count = r.rows - col.missing;
    n.sum_micro = m.sum_micro(k);
    n.sum_squares = (static_cast<u128>(m.sum_squares_hi(k)) << 64) | m.sum_squares_lo(k);
    n.min_micro = m.min_micro(k);
    n.max_micro = m.max_micro(k);
    ++k;
    if (auto s = check_numeric("column '" + col.name + "'", n.count, n); !s) return s.error();
  }
  const std::size_t levels = static_cast<std::size_t>(m.level_names_size());
  if (levels > kMaxSummaryLevels) return bad("it holds more than 4096 levels");
  if (static_cast<std::size_t>(m.level_columns_size()) != levels ||
      static_cast<std::size_t>(m.level_counts_size()) != levels)
    return bad("level_columns, level_names and level_counts need the same length");
  for (std::size_t i = 0; i < levels; ++i) {
    const std::uint32_t c = m.level_columns(static_cast<int>(i));
    const std::string& name = m.level_names(static_cast<int>(i));
    const std::uint64_t count = m.level_counts(static_cast<int>(i));
    if (c >= columns || r.columns[c].kind != SummaryKind::categorical)
      return bad("a level names a column that is not categorical");
    if (name.empty() || name.size() > kMaxLevelBytes)
      return bad("a level of column '" + r.columns[c].name + "' is empty or over 64 bytes");
    if (count == 0 || count > r.rows) return bad("a level's count is 0 or above rows");
    if (i > 0) {
      const std::uint32_t pc = m.level_columns(static_cast<int>(i - 1));
      if (pc > c || (pc == c && !(m.level_names(static_cast<int>(i - 1)) < name)))
        return bad("levels are not in ascending (column, name) order");
    }
    auto& col_levels = r.columns[c].levels;
    col_levels.emplace(name, count);
    if (col_levels.size() > kMaxSummaryLevelsPerColumn)
      return bad("column '" + r.columns[c].name + "' has more than 256 levels");
  }
  for (const SummaryColumn& col : r.columns) {
    if (col.kind != SummaryKind::categorical) continue;
    std::uint64_t total = col.missing;
    for (const auto& [level, count] : col.levels) total += count;  // <= 257 x 10^6
    if (total != r.rows)
      return bad("column '" + col.name + "': level counts and missing cells do not add up to rows");
  }
  return r;
}

pb::DataSummary summary_to_proto(const std::string& schema_id, const DataSummaryRecord& r) {
  pb::DataSummary m;
  m.set_schema_id(schema_id);
  m.set_positive_value(r.positive_value);
  for (const auto& na : r.na_values) m.add_na_values(na);
  m.set_rows(r.rows);
  for (const auto& col : r.columns) {
    m.add_column_names(col.name);
    m.add_column_kinds(static_cast<std::uint32_t>(col.kind));
    m.add_missing(col.missing);
  }
  for (std::size_t c = 0; c < r.columns.size(); ++c) {
    const SummaryColumn& col = r.columns[c];
    if (col.kind == SummaryKind::numeric) {
      m.add_sum_micro(col.numeric.sum_micro);
      m.add_sum_squares_hi(static_cast<std::uint64_t>(col.numeric.sum_squares >> 64));
      m.add_sum_squares_lo(static_cast<std::uint64_t>(col.numeric.sum_squares));
      m.add_min_micro(col.numeric.min_micro);
      m.add_max_micro(col.numeric.max_micro);
    } else {
      for (const auto& [level, count] : col.levels) {
        m.add_level_columns(static_cast<std::uint32_t>(c));
        m.add_level_names(level);
        m.add_level_counts(count);
      }
    }
  }
  return m;
}

bool same_layout(const DataSummaryRecord& a, const DataSummaryRecord& b) {
  if (a.positive_value != b.positive_value || a.na_values != b.na_values ||
      a.columns.size() != b.columns.size())
    return false;
  for (std::size_t c = 0; c < a.columns.size(); ++c)
    if (a.columns[c].name != b.columns[c].name || a.columns[c].kind != b.columns[c].kind)
      return false;
  return true;
}

Result<std::string> derive_consortium_schema(const ConsortiumSchema& schema) {
  if (schema.summaries.empty()) return make_error("no member has posted a summary for it");
  const DataSummaryRecord& first = schema.summaries.begin()->second;
  for (const auto& [member, s] : schema.summaries)
    if (!same_layout(first, s)) std::abort();  // the ledger refuses other layouts
  std::string cols;
  for (std::size_t c = 0; c < first.columns.size(); ++c) {
    const SummaryColumn& col = first.columns[c];
    cols += c ? "," : "";
    if (col.kind == SummaryKind::categorical) {
      auto [levels, most] = kept_levels(schema, c);
      if (levels.empty())
        return make_error("categorical column '" + col.name + "' has no value in any summary");
      cols += "{\"name\":" + json_string(col.name) +
              ",\"kind\":\"categorical\",\"most_frequent\":" + json_string(most) +
              ",\"levels\":" + json_list(levels) + "}";
      continue;
    }
    // Pooled moments: n <= members x 10^6, |S| <= members x 10^18, Q <=
    // members x 10^30 (members <= genesis bound): far inside 127 bits.
    i128 n = 0, s = 0, q = 0, missing = 0;
    for (const auto& [member, r] : schema.summaries) {
      n += r.columns[c].numeric.count;
      s += r.columns[c].numeric.sum_micro;
      q += static_cast<i128>(r.columns[c].numeric.sum_squares);
      missing += r.columns[c].missing;
    }
    if (n == 0) return make_error("numeric column '" + col.name + "' has no value in any summary");
    // The pooled mean fills a missing cell (it replaces the median, which
    // sums cannot give), so imputed cells add nothing to the squares.
    const i128 mean = round_div(s, n);
    // Sum of squared deviations from `mean`, exact: Q - 2 mean S + n mean^2.
    i128 deviations = q - 2 * mean * s + n * mean * mean;
    if (deviations < 0) deviations = 0;
    const i128 sd = isqrt(deviations / (n + missing));  // population sd, micro-units
    const i128 scale = sd > 0 ? sd : kMicro;
    cols += "{\"name\":" + json_string(col.name) +
            ",\"kind\":\"numeric\",\"median\":" + micro_decimal(mean) +
            ",\"mean\":" + micro_decimal(mean) + ",\"scale\":" + micro_decimal(scale) + "}";
  }
  std::string out = "{\"format\":\"baton-preprocessor/1\",\"classes\":" +
                    json_list({"not " + first.positive_value, first.positive_value}) +
                    ",\"positive_value\":" + json_string(first.positive_value) + ",\"columns\":[" +
                    cols + "]";
  if (!first.na_values.empty()) out += ",\"na_values\":" + json_list(first.na_values);
  return out + "}";
}

Result<std::size_t> consortium_schema_width(const ConsortiumSchema& schema) {
  if (schema.summaries.empty()) return make_error("no member has posted a summary for it");
  const DataSummaryRecord& first = schema.summaries.begin()->second;
  std::size_t width = 0;
  for (std::size_t c = 0; c < first.columns.size(); ++c)
    width +=
        first.columns[c].kind == SummaryKind::numeric ? 1 : kept_levels(schema, c).first.size();
  return width;
}

}  // namespace baton::chain

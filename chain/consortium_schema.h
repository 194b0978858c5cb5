// The consortium schema (issue 17, docs/PROTOCOL.md §23): a preprocessing
// schema every hospital encodes its data with, derived on every node from
// the members' summary statistics (DataSummary transactions), so that no row
// of patient data leaves its hospital.
//
// A summary holds, per feature column of a member's training file, the
// count, sum, sum of squares, minimum and maximum of a numeric column's
// values (fixed point, micro-units) or the counts of a categorical column's
// levels, and the missing cells. derive_consortium_schema pools the summaries
// of one schema id and writes a learning/preprocess.h "baton-preprocessor/1"
// JSON with integer arithmetic only, so its bytes (and their SHA-256) are the
// same on every node and every platform.
//
// Every member may be hostile. What one member can do to the result is
// bounded: see the bounds below and §23.4.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "chain/crypto.h"
#include "chain/proto/ledger.pb.h"
#include "chain/result.h"

namespace baton::chain {

// ---- Bounds of one DataSummary (§23.1) ----
inline constexpr std::uint64_t kMaxSummaryRows = 1'000'000;     // training rows
inline constexpr std::size_t kMaxSummaryColumns = 256;          // feature columns
inline constexpr std::size_t kMaxSummaryLevelsPerColumn = 256;  // levels of one column
inline constexpr std::size_t kMaxSummaryLevels = 4096;          // levels of all columns
inline constexpr std::size_t kMaxLevelBytes = 64;               // one level's text
inline constexpr std::size_t kMaxSummaryColumnNameBytes = 256;  // a column name, positive value
inline constexpr std::size_t kMaxSummaryNaValues = 16;          // NA tokens
inline constexpr std::size_t kMaxSummaryNaValueBytes = 32;      // one NA token
// |value| <= 10^6 (10^12 micro-units): sums of a member fit in 63 bits
// (rows x 10^12 <= 10^18) and sums of squares in 100 bits (rows x 10^24).
inline constexpr std::int64_t kMaxSummaryValueMicro = 1'000'000'000'000;
inline constexpr std::int64_t kMicro = 1'000'000;
// Schema ids one member may hold summaries for (each at most one summary):
// the state a member can make every node keep is bounded.
inline constexpr std::size_t kMaxSummariesPerMember = 16;

// ---- The derivation's rules (§23.3) ----
// Levels per categorical column in the derived schema: the most frequent
// ones (pooled count, then byte order) among those eligible.
inline constexpr std::size_t kMaxSchemaLevels = 64;
// A level is eligible when at least this many members' summaries hold it
// (or, with fewer summaries than that, when every summary holds it): one
// member alone cannot add a feature to everyone's model.
inline constexpr std::size_t kMinLevelMembers = 2;

enum class SummaryKind : std::uint8_t { numeric = 1, categorical = 2 };

using u128 = unsigned __int128;
using i128 = __int128;

struct NumericSummary {
  std::uint64_t count = 0;  // rows with a value (rows - missing)
  std::int64_t sum_micro = 0;
  u128 sum_squares = 0;  // micro^2
  std::int64_t min_micro = 0;
  std::int64_t max_micro = 0;
  bool operator==(const NumericSummary&) const = default;
};

struct SummaryColumn {
  std::string name;
  SummaryKind kind = SummaryKind::numeric;
  std::uint64_t missing = 0;
  NumericSummary numeric;                       // numeric columns
  std::map<std::string, std::uint64_t> levels;  // categorical: level -> rows (>= 1 each)
  bool operator==(const SummaryColumn&) const = default;
};

// One member's DataSummary, checked (summary_from_proto).
struct DataSummaryRecord {
  std::string positive_value;
  std::vector<std::string> na_values;  // empty: the default ("" and "NA")
  std::uint64_t rows = 0;
  std::vector<SummaryColumn> columns;  // the schema's column order
  std::uint64_t height = 0;            // the block that recorded it (0 outside the ledger)
  bool operator==(const DataSummaryRecord&) const = default;
};

// Everything the ledger keeps for one schema id.
struct ConsortiumSchema {
  std::map<std::string, DataSummaryRecord> summaries;  // member name -> its latest summary
  // A run naming this schema id has started: later summaries are refused, so
  // the schema that run encodes with never changes.
  bool frozen = false;
  bool operator==(const ConsortiumSchema&) const = default;
};

// The checked record of `m`, or a sentence naming the first field out of
// bounds or inconsistent (counts that do not add up to `rows`, min > max, a
// sum outside [count x min, count x max], squares below sum^2 / count or above
// count x max(min^2, max^2), levels out of order, ...). height = 0.
Result<DataSummaryRecord> summary_from_proto(const pb::DataSummary& m);
pb::DataSummary summary_to_proto(const std::string& schema_id, const DataSummaryRecord& r);

// Same positive value, NA tokens, column names, order and kinds: summaries
// of one schema id must agree on these (§23.2).
bool same_layout(const DataSummaryRecord& a, const DataSummaryRecord& b);

// The derived schema: "baton-preprocessor/1" JSON (compact, keys in a fixed
// order, numbers as exact decimals of micro-units), or an error when there is
// no summary or a numeric column has no value in any of them.
Result<std::string> derive_consortium_schema(const ConsortiumSchema& schema);

// Its encoded width: one feature per numeric column, one per level kept.
Result<std::size_t> consortium_schema_width(const ConsortiumSchema& schema);

// A fixed-point micro value as an exact JSON decimal: -1500000 -> "-1.5".
std::string micro_decimal(i128 micro);

}  // namespace baton::chain

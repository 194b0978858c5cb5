// libFuzzer target for the CSV → table → preprocessing path and the feature
// schema JSON, which read files that hospitals supply and genesis files. Any
// input must give a value or an error, never a crash, a sanitizer report or
// an abort. (.npy volumes have their own target, npy_header_fuzz.cpp.) Build
// with -DBATON_FUZZ=ON (clang), run (new inputs go to the first directory,
// so give a scratch one first):
//   mkdir -p /tmp/csv-corpus
//   build-fuzz/bin/baton_fuzz_learning_csv -max_total_time=60 /tmp/csv-corpus SEEDS
// with SEEDS = tests/fuzz/corpus/learning_csv.
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string_view>
#include <vector>

#include "learning/csv.h"
#include "learning/preprocess.h"
#include "learning/splits.h"
#include "learning/tabular.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace baton::learning;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Feature schemas arrive as JSON from genesis files: must never crash either.
  if (!text.empty() && text.front() == '{') {
    auto schema = Preprocessor::from_json(text);
    if (schema.ok() && !schema->to_json().ok()) __builtin_trap();  // what we read we can write
    return 0;
  }
  auto csv = parse_csv(text, "fuzz input");
  if (!csv.ok() || csv->header.empty()) return 0;
  // The last column is the label; try both a binary and a multi-class schema.
  for (int binary = 0; binary < 2; ++binary) {
    TableSchema schema;
    schema.label_column = csv->header.back();
    if (binary == 1 && !csv->rows.empty()) schema.positive_value = csv->rows.front().back();
    auto table = make_table(*csv, schema);
    if (!table.ok()) continue;
    const auto split = stratified_split(table->y, table->num_classes, 0.2, 1);
    auto pre = Preprocessor::fit(*table, split.train);
    if (!pre.ok()) continue;
    std::vector<std::size_t> all(table->rows);
    std::iota(all.begin(), all.end(), std::size_t{0});
    auto encoded = pre->apply(*table, all);
    if (encoded.ok() && !encoded->valid()) __builtin_trap();  // invariant broken: a bug
    // The schema round-trips through JSON and encodes bit-identically.
    auto json = pre->to_json();
    if (!json.ok()) continue;  // non-UTF-8 names: a reported error, fine
    auto back = Preprocessor::from_json(*json);
    if (!back.ok()) __builtin_trap();
    auto again = back->apply(*table, all);
    if (encoded.ok() != again.ok()) __builtin_trap();
    if (encoded.ok() && (encoded->x != again->x || encoded->y != again->y)) __builtin_trap();
  }
  return 0;
}

#include "learning/splits.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>

namespace baton::learning {
namespace {

std::vector<std::vector<std::size_t>> rows_by_class(std::span<const int> labels, int num_classes) {
  if (num_classes < 1) std::abort();  // caller's bug
  std::vector<std::vector<std::size_t>> out(static_cast<std::size_t>(num_classes));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) std::abort();  // caller's bug (see contract)
    out[static_cast<std::size_t>(labels[i])].push_back(i);
  }
  return out;
}

using CountTable = std::vector<std::vector<std::size_t>>;  // [partner][class]

// The rounding described in splits.h: floors, then largest fractional parts
// (at most +1 per cell), then any cell whose row and column still miss units.
CountTable round_table(const std::vector<std::size_t>& partner_sizes,
                       const std::vector<std::size_t>& class_sizes, std::size_t n) {
  const std::size_t parts = partner_sizes.size();
  const std::size_t classes = class_sizes.size();
  CountTable count(parts, std::vector<std::size_t>(classes, 0));
  if (n == 0) return count;
  std::vector<std::size_t> row_missing = partner_sizes;
  std::vector<std::size_t> col_missing = class_sizes;
  struct Cell {
    std::size_t remainder, p, c;
  };
  std::vector<Cell> cells;
  for (std::size_t p = 0; p < parts; ++p) {
    for (std::size_t c = 0; c < classes; ++c) {
      // target = size_p · n_c / n, exactly as numerator / n
      const unsigned __int128 num =
          static_cast<unsigned __int128>(partner_sizes[p]) * class_sizes[c];
      count[p][c] = static_cast<std::size_t>(num / n);
      row_missing[p] -= count[p][c];
      col_missing[c] -= count[p][c];
      cells.push_back({static_cast<std::size_t>(num % n), p, c});
    }
  }
  std::stable_sort(cells.begin(), cells.end(),
                   [](const Cell& a, const Cell& b) { return a.remainder > b.remainder; });
  for (const Cell& cell : cells) {
    if (cell.remainder == 0) break;
    if (row_missing[cell.p] > 0 && col_missing[cell.c] > 0) {
      ++count[cell.p][cell.c];
      --row_missing[cell.p];
      --col_missing[cell.c];
    }
  }
  for (std::size_t p = 0; p < parts; ++p) {
    for (std::size_t c = 0; c < classes; ++c) {
      const std::size_t add = std::min(row_missing[p], col_missing[c]);
      count[p][c] += add;
      row_missing[p] -= add;
      col_missing[c] -= add;
    }
  }
  return count;
}

// Gives every partner with at least `classes` rows one row of each class,
// where another partner can spare one, by swapping units (row and column sums
// stay unchanged).
void ensure_each_class(CountTable& count, const std::vector<std::size_t>& partner_sizes) {
  const std::size_t parts = count.size();
  if (parts == 0) return;
  const std::size_t classes = count.front().size();
  for (std::size_t p = 0; p < parts; ++p) {
    if (partner_sizes[p] < classes) continue;
    for (std::size_t c = 0; c < classes; ++c) {
      if (count[p][c] != 0) continue;
      // Donor: the partner with the most rows of class c (>= 2, so it keeps one).
      std::size_t donor = parts;
      for (std::size_t q = 0; q < parts; ++q) {
        if (q != p && count[q][c] >= 2 && (donor == parts || count[q][c] > count[donor][c])) {
          donor = q;
        }
      }
      // Class that p gives back: its largest (>= 2 by pigeonhole, so p keeps one).
      std::size_t back = classes;
      for (std::size_t d = 0; d < classes; ++d) {
        if (d != c && count[p][d] >= 2 && (back == classes || count[p][d] > count[p][back])) {
          back = d;
        }
      }
      if (donor == parts || back == classes) continue;
      ++count[p][c];
      --count[p][back];
      --count[donor][c];
      ++count[donor][back];
    }
  }
}

}  // namespace

std::mt19937_64 make_engine(std::uint64_t seed, std::uint32_t stream, std::uint32_t substream) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed & 0xffffffffu),
                    static_cast<std::uint32_t>(seed >> 32), stream, substream};
  return std::mt19937_64(seq);
}

std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
  if (bound == 0) std::abort();  // precondition
  std::uint64_t x = 0;
  std::uint64_t r = 0;
  do {
    x = rng();
    r = x % bound;
  } while (x - r > (0 - bound));  // x lies in the last, incomplete bucket: retry
  return r;
}

void shuffle_indices(std::vector<std::size_t>& v, std::mt19937_64& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(uniform_below(rng, i));
    std::swap(v[i - 1], v[j]);
  }
}

std::vector<std::size_t> apportion(std::size_t total, std::span<const std::size_t> weights) {
  const std::size_t sum = std::accumulate(weights.begin(), weights.end(), std::size_t{0});
  if (weights.empty() || sum == 0) std::abort();  // precondition
  std::vector<std::size_t> out(weights.size());
  std::vector<std::size_t> remainder(weights.size());
  std::size_t given = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const unsigned __int128 num = static_cast<unsigned __int128>(total) * weights[i];
    out[i] = static_cast<std::size_t>(num / sum);
    remainder[i] = static_cast<std::size_t>(num % sum);
    given += out[i];
  }
  std::vector<std::size_t> order(weights.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return remainder[a] > remainder[b]; });
  // Fewer than weights.size() units are left, so one pass suffices.
  for (std::size_t k = 0; given < total; ++k, ++given) ++out[order[k]];
  return out;
}

TrainTestSplit stratified_split(std::span<const int> labels, int num_classes, double test_fraction,
                                std::uint64_t seed) {
  if (!(test_fraction >= 0.0 && test_fraction < 1.0)) std::abort();  // precondition
  const auto by_class = rows_by_class(labels, num_classes);
  TrainTestSplit split;
  if (labels.empty()) return split;
  const auto test_total = static_cast<std::size_t>(
      std::floor(static_cast<double>(labels.size()) * test_fraction + 0.5));
  std::vector<std::size_t> class_sizes;
  for (const auto& rows : by_class) class_sizes.push_back(rows.size());
  const std::vector<std::size_t> test_per_class = apportion(test_total, class_sizes);
  for (std::size_t c = 0; c < by_class.size(); ++c) {
    std::vector<std::size_t> rows = by_class[c];
    auto rng = make_engine(seed, 0, static_cast<std::uint32_t>(c));
    shuffle_indices(rows, rng);
    split.test.insert(split.test.end(), rows.begin(),
                      rows.begin() + static_cast<std::ptrdiff_t>(test_per_class[c]));
    split.train.insert(split.train.end(),
                       rows.begin() + static_cast<std::ptrdiff_t>(test_per_class[c]), rows.end());
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.test.begin(), split.test.end());
  return split;
}

std::vector<std::vector<std::size_t>> stratified_partition(std::span<const int> labels,
                                                           int num_classes,
                                                           std::span<const std::size_t> weights,
                                                           std::uint64_t seed,
                                                           std::uint32_t stream) {
  const auto by_class = rows_by_class(labels, num_classes);
  const std::vector<std::size_t> sizes = apportion(labels.size(), weights);
  std::vector<std::size_t> class_sizes;
  for (const auto& rows : by_class) class_sizes.push_back(rows.size());
  CountTable count = round_table(sizes, class_sizes, labels.size());
  ensure_each_class(count, sizes);

  std::vector<std::vector<std::size_t>> partners(sizes.size());
  for (std::size_t c = 0; c < by_class.size(); ++c) {
    std::vector<std::size_t> rows = by_class[c];
    auto rng = make_engine(seed, stream, static_cast<std::uint32_t>(c));
    shuffle_indices(rows, rng);
    std::size_t offset = 0;
    for (std::size_t p = 0; p < partners.size(); ++p) {
      partners[p].insert(partners[p].end(), rows.begin() + static_cast<std::ptrdiff_t>(offset),
                         rows.begin() + static_cast<std::ptrdiff_t>(offset + count[p][c]));
      offset += count[p][c];
    }
    if (offset != rows.size()) std::abort();  // bug: the table's column sums are exact
  }
  for (auto& p : partners) std::sort(p.begin(), p.end());
  return partners;
}

std::vector<Scenario> paper_scenarios(std::span<const int> train_labels, int num_classes,
                                      std::uint64_t seed) {
  struct Spec {
    std::vector<std::size_t> weights;
    const char* description;
  };
  const std::vector<Spec> specs = {
      {{1, 1}, "2 partners, equal sizes"},
      {{1, 1, 1}, "3 partners, equal sizes"},
      {{1, 1, 1, 1}, "4 partners, equal sizes"},
      {{112, 451}, "2 partners, unequal: 112/451 of the paper's 563"},
      {{113, 67, 383}, "3 partners, unequal: 113/67/383 of the paper's 563"},
      {{57, 355, 113, 38}, "4 partners, unequal: 57/355/113/38 of the paper's 563"},
  };
  std::vector<Scenario> out;
  for (std::size_t k = 0; k < specs.size(); ++k) {
    Scenario s;
    s.name = "scenario" + std::to_string(k + 1);
    s.description = specs[k].description;
    s.weights = specs[k].weights;
    s.partners = stratified_partition(train_labels, num_classes, s.weights, seed,
                                      static_cast<std::uint32_t>(k + 1));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace baton::learning

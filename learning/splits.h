// Stratified, seeded splits: the common held-out test set and the paper's six
// partner scenarios (C-DistriM, Zerka et al. 2020, Table 1).
//
// Everything here is deterministic from the seed on every platform: the
// random source is std::mt19937_64 seeded through std::seed_seq (both fully
// specified by the C++ standard), and shuffling is an explicit Fisher–Yates
// with rejection sampling (not std::shuffle or std::uniform_int_distribution,
// whose algorithms are implementation-defined).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace baton::learning {

// The engine for one purpose: std::mt19937_64 seeded with
// std::seed_seq{seed low 32 bits, seed high 32 bits, stream, substream}.
// `stream` separates uses (0: the test split, k: scenario k), `substream` the
// classes within one use, so that the shuffles are independent.
std::mt19937_64 make_engine(std::uint64_t seed, std::uint32_t stream, std::uint32_t substream);

// Uniform integer in [0, bound) from a 64-bit engine by rejection ("debiased
// modulo, once", as in O'Neill 2018): draw x, r = x mod bound, retry while
// x - r > 2^64 - bound. Precondition: bound > 0.
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound);

// Fisher–Yates: for i from n-1 down to 1, swap v[i] with v[uniform_below(i+1)].
void shuffle_indices(std::vector<std::size_t>& v, std::mt19937_64& rng);

// Splits `total` into integers proportional to `weights` that sum to `total`:
// the largest-remainder (Hamilton) method. Each share gets floor(total·w/Σw);
// the units left over go one each to the largest fractional parts, ties to the
// lower index. Exact integer arithmetic. Precondition: weights non-empty,
// sum > 0.
std::vector<std::size_t> apportion(std::size_t total, std::span<const std::size_t> weights);

struct TrainTestSplit {
  std::vector<std::size_t> train;  // row indices, ascending
  std::vector<std::size_t> test;   // row indices, ascending
};

// Stratified train/test split of rows with class labels `labels` (values in
// [0, num_classes)). The test set has round(n·test_fraction) rows (half up),
// shared between the classes by apportion() over the class sizes; within each
// class the test rows are the first ones of the class's rows (ascending)
// shuffled with make_engine(seed, 0, class).
// Precondition: 0 <= test_fraction < 1, labels in [0, num_classes).
TrainTestSplit stratified_split(std::span<const int> labels, int num_classes, double test_fraction,
                                std::uint64_t seed);

// Shares rows among partners in proportion to `weights`, stratified by class.
// Partner sizes: apportion(n, weights). Class counts per partner: the table
// whose cell (partner p, class c) is closest to size_p·n_c/n with exact row
// sums (partner sizes) and column sums (class sizes): every cell starts at the
// floor of its target; the missing units go first to the cells with the
// largest fractional part (at most +1 each), then to any cell whose row and
// column still miss units. Then, where a partner has >= num_classes rows but
// no row of some class, units are swapped with another partner so that it
// gets one (when another partner can spare it). Rows are then taken from each
// class's rows (ascending) shuffled with make_engine(seed, stream, class), in
// partner order.
// Returns one index list per partner (indices into `labels`, ascending).
// Precondition: weights as apportion(); labels in [0, num_classes).
std::vector<std::vector<std::size_t>> stratified_partition(std::span<const int> labels,
                                                           int num_classes,
                                                           std::span<const std::size_t> weights,
                                                           std::uint64_t seed,
                                                           std::uint32_t stream);

// One training arrangement of the paper: which training rows each partner
// holds. Partner order is the order in which the model travels.
struct Scenario {
  std::string name;                  // "scenario1" … "scenario6"
  std::string description;           // e.g. "2 partners, equal" / "3 partners, 113/67/383 of 563"
  std::vector<std::size_t> weights;  // equal: all 1; unequal: the paper's sizes (of 563)
  std::vector<std::vector<std::size_t>> partners;  // indices into the training rows
};

// The paper's six scenarios over a training set with labels `train_labels`:
//   1–3: 2, 3, 4 partners of equal size;
//   4: 112/451, 5: 113/67/383, 6: 57/355/113/38 (the paper's lung1 training
//   set had 563 patients; sizes are scaled to ours by apportion()).
// Scenario k is stratified_partition(train_labels, num_classes, weights,
// seed, k). Example: 336 training rows give 168/168, 112/112/112, 84×4,
// 67/269, 67/40/229 and 34/212/67/23.
std::vector<Scenario> paper_scenarios(std::span<const int> train_labels, int num_classes,
                                      std::uint64_t seed);

}  // namespace baton::learning

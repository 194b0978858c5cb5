// Local training: what one hospital does with the baton on its turn. Torch-free
// header; the loop lives in train.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/result.h"
#include "learning/dataset.h"
#include "learning/model.h"

namespace baton::learning {

enum class Optimizer { adam, sgd };

std::string_view optimizer_name(Optimizer o);
Result<Optimizer> parse_optimizer(std::string_view name);  // "adam" | "sgd"

// DP-SGD (Abadi et al. 2016; issue 14, docs/PROTOCOL.md §20.3): every step
// takes each row with probability q (Poisson sampling), clips each row's
// gradient to L2 norm `clip`, adds Gaussian noise of std noise_multiplier ×
// clip to their sum and divides by the expected batch size q × rows. An
// epoch is chain::dp_steps_per_epoch(q) = ceil(10^9 / sampling_rate_nano)
// steps, whatever the number of rows: what the ledger's accountant counts.
struct DpSgdSettings {
  double clip = 1.0;                     // C > 0
  double noise_multiplier = 1.0;         // σ > 0
  std::uint64_t sampling_rate_nano = 0;  // q × 10^9, in [1, 10^9]
  bool operator==(const DpSgdSettings&) const = default;
};

struct TrainSettings {
  int epochs = 10;      // passes over the local data (>= 0)
  int batch_size = 32;  // the last batch of an epoch may be smaller
  Optimizer optimizer = Optimizer::adam;
  double learning_rate = 1e-3;
  double weight_decay = 0.0;  // L2, as torch.optim's weight_decay
  double momentum = 0.0;      // SGD only
  // Weight each row's loss by rows / (classes × rows of its class) and take
  // the weighted mean per batch, so a minority class counts as much as the
  // majority. Off: the plain mean.
  bool class_weighting = false;
  std::uint64_t seed = 1;  // batch order
  int threads = 1;         // LibTorch intra-op threads (init_torch)
  // "cpu" or "cuda:N" (a LibTorch with CUDA; the model is back on the CPU
  // after training). DP-SGD trains on the CPU only.
  std::string device = "cpu";
  // Set: DP-SGD replaces the plain batches (batch_size is then unused).
  std::optional<DpSgdSettings> dp_sgd;
};

// Checks ranges (epochs >= 0, batch_size >= 1, learning_rate > 0, finite
// weight_decay/momentum >= 0, 1 <= threads <= 256; with dp_sgd: clip and
// noise_multiplier positive and finite, sampling_rate_nano in [1, 10^9]);
// the error names the field.
Status validate(const TrainSettings& settings);

struct TrainReport {
  std::vector<double> epoch_loss;  // mean training loss of each epoch
  std::size_t steps = 0;           // optimizer steps taken
  std::size_t samples_seen = 0;    // rows × epochs (under DP-SGD, in expectation)
};

// Trains `model` in place on every row of `data` for settings.epochs epochs.
// Each epoch visits the rows in an order shuffled by Fisher–Yates driven by a
// SplitMix64 generator seeded with settings.seed (both written out in
// train.cpp, so the order is the same on every platform and library); optimizer state starts fresh
// on each call (a partner receives weights only). Deterministic: the same model bytes, data,
// settings and thread count give bit-identical weights. Errors: settings out of range, data whose
// feature or class count does not match the model's spec, an empty dataset with epochs > 0, a label
// outside [0, classes), a loss that becomes NaN (a learning rate too high),
// DP-SGD on a model with batch norm. With settings.dp_sgd the loop is DP-SGD
// (learning/dp_sgd.h), equally deterministic.
Result<TrainReport> train(Model& model, const Dataset& data, const TrainSettings& settings);

// The visiting order of one epoch: a permutation of 0..n-1 drawn by
// Fisher–Yates from the SplitMix64 state `rng_state` (advanced). Exposed for
// tests.
std::vector<std::size_t> shuffled_order(std::size_t n, std::uint64_t& rng_state);

}  // namespace baton::learning

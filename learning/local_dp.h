// Local differential privacy (issue 14): Laplace noise on every input value
// of a hospital's training copy, added once, before any training. Torch-free.
//
// Each value is first clipped to an interval of width Δ (`sensitivity`), so
// that one value of one row can change by at most Δ: tabular features
// (standardised) to [-Δ/2, Δ/2], image pixels (scaled to [0, 1]) to [0, Δ].
// Laplace noise of scale β then makes each value ε = Δ/β differentially
// private, and a row of d values (d × Δ/β)-DP by composition: the figure the
// ledger charges (chain/privacy_budget.h). Training on the noisy copy is
// post-processing, so later turns on the same copy spend nothing more: the
// copy must be the same at every turn, hence the explicit seed.
#pragma once

#include <cstdint>

#include "chain/result.h"
#include "learning/dataset.h"

namespace baton::learning {

struct LocalDpSettings {
  double beta = 1.0;         // Laplace scale β > 0
  double sensitivity = 1.0;  // Δ > 0: width of each value's clipping interval
  std::uint64_t seed = 1;    // the noise; same seed, same noisy copy
};

// Clips and noises data.x in place (rows in order, values in order, one
// SplitMix64 stream seeded with settings.seed, Laplace by inverse CDF).
// Errors (data unchanged): β or Δ not positive and finite; a value of
// data.x that is not finite (its row and position named).
Status apply_local_dp(Dataset& data, const LocalDpSettings& settings);

}  // namespace baton::learning

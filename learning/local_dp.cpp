// Local DP: clipping and Laplace noise on a training copy. See local_dp.h.
#include "learning/local_dp.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace baton::learning {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Laplace(0, β) by inverse CDF from u uniform in (-1/2, 1/2) (53 bits, never
// exactly ±1/2, so the log's argument stays above 0).
double laplace(double beta, std::uint64_t& state) {
  const double u = (static_cast<double>(splitmix64(state) >> 11) + 0.5) * 0x1p-53 - 0.5;
  const double magnitude = -beta * std::log1p(-2.0 * std::fabs(u));
  return u < 0 ? -magnitude : magnitude;
}

}  // namespace

Status apply_local_dp(Dataset& data, const LocalDpSettings& s) {
  if (!(s.beta > 0) || !std::isfinite(s.beta))
    return Error{"local DP: beta must be a positive finite number."};
  if (!(s.sensitivity > 0) || !std::isfinite(s.sensitivity))
    return Error{"local DP: sensitivity must be a positive finite number."};
  // A value that is not a number would pass the clipping and the noise
  // unchanged (NaN) and so publish that it was missing: refused, before any
  // value is touched.
  for (std::size_t i = 0; i < data.x.size(); ++i) {
    if (!std::isfinite(data.x[i])) {
      const std::size_t width = std::max<std::size_t>(data.features, 1);
      return Error{"local DP: row " + std::to_string(i / width) + ", value " +
                   std::to_string(i % width) +
                   " is not a finite number; fill or drop missing values before adding noise."};
    }
  }
  const bool image = !data.image_shape.empty();
  const double lo = image ? 0.0 : -s.sensitivity / 2;
  const double hi = lo + s.sensitivity;
  std::uint64_t state = s.seed;
  for (float& v : data.x) {
    const double clipped = std::clamp(static_cast<double>(v), lo, hi);
    v = static_cast<float>(clipped + laplace(s.beta, state));
  }
  return {};
}

}  // namespace baton::learning

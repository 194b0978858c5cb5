// Fixed-point updates in Z/2^64 (secagg/secagg.h, PROTOCOL §21.4): the encoding
// every partner applies before masking, the plain sum that secure aggregation
// must reproduce bit for bit, and the model the aggregate gives. Every step is
// one IEEE-754 binary64 operation with a stated rounding, so two machines get
// the same bits.
#include <cmath>
#include <cstdlib>

#include "chain/training.h"
#include "secagg/secagg.h"

namespace baton::secagg {
namespace {

// x rounded to an integer, ties to even, written out so that it depends
// neither on the floating-point environment's rounding mode nor on libm
// (floor and fmod are calls on baseline x86-64, and this runs once per
// model value). Pre: |x| <= 2^50, so the truncation fits and x - below is
// exact.
std::int64_t round_half_even(double x) {
  auto below = static_cast<std::int64_t>(x);    // toward zero
  if (static_cast<double>(below) > x) --below;  // floor for negative non-integers
  const double fraction = x - static_cast<double>(below);
  if (fraction > 0.5) return below + 1;
  if (fraction < 0.5) return below;
  return below + (below & 1);  // a tie: to the even neighbour
}

}  // namespace

EncodedUpdate encode_update(std::span<const float> head, std::span<const float> trained,
                            std::uint64_t weight) {
  if (head.size() != trained.size() || weight < 1 || weight > chain::kMaxRoundWeight) std::abort();
  // w · 2^24 <= 2^44 is exact in binary64.
  const double scale = static_cast<double>(weight) * std::ldexp(1.0, kFracBits);
  EncodedUpdate out;
  out.values.resize(head.size());
  for (std::size_t i = 0; i < head.size(); ++i) {
    double delta = static_cast<double>(trained[i]) - static_cast<double>(head[i]);
    if (!std::isfinite(delta)) {
      ++out.non_finite;
      out.values[i] = 0;
      continue;
    }
    if (delta > kMaxAbsDelta || delta < -kMaxAbsDelta) {
      ++out.clipped;
      delta = delta > 0 ? kMaxAbsDelta : -kMaxAbsDelta;
    }
    const std::int64_t q = round_half_even(delta * scale);
    out.values[i] = static_cast<std::uint64_t>(q);  // two's complement in Z/2^64
  }
  return out;
}

std::vector<std::uint64_t> plain_sum(std::span<const std::vector<std::uint64_t>> encoded) {
  if (encoded.empty()) return {};
  std::vector<std::uint64_t> sum(encoded.front().size(), 0);
  for (const auto& update : encoded) {
    if (update.size() != sum.size()) std::abort();
    for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += update[i];  // wraps mod 2^64
  }
  return sum;
}

std::vector<float> apply_aggregate(std::span<const float> head, std::span<const std::uint64_t> sum,
                                   std::uint64_t total_weight) {
  if (head.size() != sum.size() || total_weight < 1) std::abort();
  const double scale = std::ldexp(static_cast<double>(total_weight), kFracBits);
  std::vector<float> out(head.size());
  for (std::size_t i = 0; i < head.size(); ++i) {
    const double mean = static_cast<double>(static_cast<std::int64_t>(sum[i])) / scale;
    out[i] = head[i] + static_cast<float>(mean);
  }
  return out;
}

}  // namespace baton::secagg

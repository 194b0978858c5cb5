#include "learning/dataset.h"

#include <array>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <numeric>

namespace baton::learning {

Dataset Dataset::subset(std::span<const std::size_t> row_indices) const {
  Dataset out;
  out.features = features;
  out.num_classes = num_classes;
  out.image_shape = image_shape;
  out.feature_names = feature_names;
  out.class_names = class_names;
  out.rows = row_indices.size();
  out.x.reserve(row_indices.size() * features);
  out.y.reserve(row_indices.size());
  for (const std::size_t i : row_indices) {
    if (i >= rows) std::abort();  // caller's bug: index out of range
    const auto r = row(i);
    out.x.insert(out.x.end(), r.begin(), r.end());
    out.y.push_back(y[i]);
  }
  return out;
}

std::span<const float> Dataset::row(std::size_t i) const {
  if (i >= rows) std::abort();
  return std::span<const float>(x).subspan(i * features, features);
}

std::vector<std::size_t> Dataset::class_counts() const {
  std::vector<std::size_t> counts(num_classes > 0 ? static_cast<std::size_t>(num_classes) : 0, 0);
  for (const int label : y) {
    if (label >= 0 && label < num_classes) ++counts[static_cast<std::size_t>(label)];
  }
  return counts;
}

bool Dataset::valid() const {
  if (num_classes < 2) return false;
  if (x.size() != rows * features || y.size() != rows) return false;
  for (const int label : y) {
    if (label < 0 || label >= num_classes) return false;
  }
  if (!feature_names.empty() && feature_names.size() != features) return false;
  if (class_names.size() != static_cast<std::size_t>(num_classes)) return false;
  if (!image_shape.empty()) {
    const long long product =
        std::accumulate(image_shape.begin(), image_shape.end(), 1LL, std::multiplies<long long>());
    if (product != static_cast<long long>(features)) return false;
  }
  return true;
}

chain::Hash training_rows_sha256(const Dataset& data) {
  chain::Sha256Stream h;
  std::array<std::uint8_t, 16> dims{};
  for (int i = 0; i < 8; ++i) {
    dims[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(data.rows >> (56 - 8 * i));
    dims[static_cast<std::size_t>(8 + i)] =
        static_cast<std::uint8_t>(data.features >> (56 - 8 * i));
  }
  h.update(chain::ByteView(dims));
  // Little-endian bytes, whatever the host's order, in blocks.
  std::vector<std::uint8_t> block;
  block.reserve(4 * 4096);
  auto put32 = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) block.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    if (block.size() >= 4 * 4096) {
      h.update(chain::ByteView(block));
      block.clear();
    }
  };
  for (float v : data.x) put32(std::bit_cast<std::uint32_t>(v));
  for (int y : data.y) put32(static_cast<std::uint32_t>(y));
  h.update(chain::ByteView(block));
  return h.finish();
}

}  // namespace baton::learning

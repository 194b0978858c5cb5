// secagg/'s torch-free blob reader (docs/PROTOCOL.md §17, §21.4.8) against
// blobs the real serializer writes: the float32 values it finds are those of
// every float32 tensor of the spec's layout, and a blob with the values
// replaced is a model the real deserializer loads, with the int64 batch-norm
// counters untouched.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "learning/model.h"
#include "learning/model_spec.h"
#include "secagg/secagg.h"

namespace baton::learning {
namespace {

std::size_t float_values(const ModelSpec& spec) {
  std::size_t n = 0;
  for (const auto& t : tensor_layout(spec)) {
    if (!t.is_float) continue;
    std::size_t c = 1;
    for (auto d : t.dims) c *= static_cast<std::size_t>(d);
    n += c;
  }
  return n;
}

void check_round_trip(const ModelSpec& spec) {
  auto model = Model::create(spec, 3);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const chain::Bytes blob = serialize(*model);

  const auto layout = secagg::blob_layout(blob);
  ASSERT_TRUE(layout.ok()) << layout.error().message;
  EXPECT_EQ(layout->float_count, float_values(spec));
  const auto head = secagg::blob_floats(blob).value();
  ASSERT_EQ(head.size(), layout->float_count);
  EXPECT_EQ(secagg::blob_with_floats(blob, head).value(), blob);

  // A FedAvg step of two partners written back: the real deserializer loads
  // it, and serializing that model gives the same bytes back.
  std::vector<float> a = head, b = head;
  for (std::size_t i = 0; i < head.size(); ++i) {
    a[i] += 0.01f;
    b[i] -= 0.03f;
  }
  const std::vector<std::vector<std::uint64_t>> updates = {
      secagg::encode_update(head, a, 10).values, secagg::encode_update(head, b, 30).values};
  const auto values = secagg::apply_aggregate(head, secagg::plain_sum(updates), 40);
  const auto next = secagg::blob_with_floats(blob, values).value();
  ASSERT_EQ(next.size(), blob.size());
  EXPECT_NE(next, blob);
  auto loaded = deserialize(next, spec);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(serialize(*loaded), next);
  EXPECT_EQ(secagg::blob_floats(next).value(), values);
  // Only float32 values changed: every int64 tensor keeps its bytes.
  std::size_t changed = 0;
  for (std::size_t i = 0; i < blob.size(); ++i) changed += blob[i] != next[i];
  EXPECT_LE(changed, 4 * head.size());
}

TEST(SecaggBlobReader, ReadsAndRewritesARealMlpBlob) {
  check_round_trip(ModelSpec::mlp(30, {64, 32}));
}

TEST(SecaggBlobReader, ReadsAndRewritesARealResNetBlobWithBatchNormCounters) {
  const auto spec = ModelSpec::resnet3d({1, 4, 8, 8}, 2);
  bool has_int64 = false;
  for (const auto& t : tensor_layout(spec)) has_int64 |= !t.is_float;
  ASSERT_TRUE(has_int64);
  check_round_trip(spec);
}

}  // namespace
}  // namespace baton::learning

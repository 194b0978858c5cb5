// learning::training_rows_sha256 (issue 16, docs/PROTOCOL.md §18.1.2): the
// reproducibility record's hash of the rows a partner trained on, checked
// against the bytes the spec gives, hashed by Python's hashlib:
//   struct.pack('>QQ', rows, features) + struct.pack('<4f', *x) + struct.pack('<2i', *y)
#include <bit>

#include <gtest/gtest.h>

#include "learning/dataset.h"

namespace baton::learning {
namespace {

Dataset two_rows() {
  Dataset d;
  d.rows = 2;
  d.features = 2;
  d.x = {1.0f, -2.5f, 0.0f, 3.25f};
  d.y = {0, 1};
  d.feature_names = {"a", "b"};
  d.class_names = {"0", "1"};
  return d;
}

TEST(TrainingRowsHash, IsTheSpecifiedBytesHashed) {
  EXPECT_EQ(training_rows_sha256(two_rows()).hex(),
            "dc5e1368acedb75a967eab658f450f5cd96db8d616ee1c226dd922d87ff19711");
}

TEST(TrainingRowsHash, ALabelAValueTheOrderOrTheShapeChangesIt) {
  const chain::Hash base = training_rows_sha256(two_rows());
  Dataset label = two_rows();
  label.y[0] = 1;
  EXPECT_EQ(training_rows_sha256(label).hex(),
            "9bec6ce11ec9230ef8bd3eae2c15c8bd299a4c52a006490cbcf61a06e793fc56");
  Dataset value = two_rows();
  value.x[3] = 3.2500002f;  // one ulp
  EXPECT_NE(training_rows_sha256(value), base);
  Dataset swapped = two_rows();
  swapped.x = {0.0f, 3.25f, 1.0f, -2.5f};
  swapped.y = {1, 0};
  EXPECT_NE(training_rows_sha256(swapped), base);
  Dataset reshaped = two_rows();
  reshaped.rows = 1;
  reshaped.features = 4;
  reshaped.y = {0};
  EXPECT_NE(training_rows_sha256(reshaped), base);
}

TEST(TrainingRowsHash, ManyRowsHashAcrossBlocks) {
  // More values than one 16 KiB block of the hasher; the same as a direct hash.
  Dataset d;
  d.rows = 3000;
  d.features = 3;
  for (std::size_t i = 0; i < d.rows * d.features; ++i) d.x.push_back(static_cast<float>(i) / 7);
  for (std::size_t i = 0; i < d.rows; ++i) d.y.push_back(static_cast<int>(i % 2));
  chain::Bytes bytes(16, 0);
  bytes[7] = static_cast<std::uint8_t>(d.rows >> 0 & 0xff);
  bytes[6] = static_cast<std::uint8_t>(d.rows >> 8 & 0xff);
  bytes[15] = 3;
  auto put = [&](std::uint32_t v) {
    for (int k = 0; k < 4; ++k) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
  };
  for (float v : d.x) put(std::bit_cast<std::uint32_t>(v));
  for (int y : d.y) put(static_cast<std::uint32_t>(y));
  EXPECT_EQ(training_rows_sha256(d), chain::sha256(chain::ByteView(bytes)));
}

}  // namespace
}  // namespace baton::learning

// ModelSpec bounds and the torch-free layout: every size a plan's spec
// implies (tensors, serialized bytes, work of a forward pass) follows from the
// spec alone and agrees with the real networks; products that would overflow
// are refused, not wrapped.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>

#include "learning/model.h"
#include "tests/support/test_support.h"

namespace baton::learning {
namespace {

std::uint64_t le(const chain::Bytes& b, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= std::uint64_t{b[at + static_cast<std::size_t>(i)]} << (8 * i);
  return v;
}

// The tensor headers of a serialized model, read per docs/PROTOCOL.md section 17.
std::vector<TensorLayout> layout_of_blob(const chain::Bytes& blob) {
  std::size_t at = 12;
  at += 4 + le(blob, at, 4);  // the spec
  const auto count = le(blob, at, 4);
  at += 4;
  std::vector<TensorLayout> out;
  for (std::uint64_t i = 0; i < count; ++i) {
    TensorLayout t;
    const auto name_len = le(blob, at, 2);
    t.name.assign(blob.begin() + static_cast<std::ptrdiff_t>(at + 2),
                  blob.begin() + static_cast<std::ptrdiff_t>(at + 2 + name_len));
    at += 2 + name_len;
    t.is_float = blob[at] == 1;
    const int rank = blob[at + 1];
    at += 2;
    std::uint64_t values = 1;
    for (int d = 0; d < rank; ++d, at += 8) {
      t.dims.push_back(static_cast<std::int64_t>(le(blob, at, 8)));
      values *= t.dims.back();
    }
    at += values * (t.is_float ? 4 : 8);
    out.push_back(std::move(t));
  }
  return out;
}

TEST(ModelLayout, MatchesTheRealNetworksTensorForTensor) {
  const std::vector<ModelSpec> specs = {
      ModelSpec::mlp(30, {64, 32}),
      ModelSpec::mlp(3, {}),
      ModelSpec::mlp(5, {4, 3, 2}, 3),
      ModelSpec::cnn2d({1, 28, 28}),
      ModelSpec::cnn2d({3, 9, 13}, 4),
      ModelSpec::resnet3d({1, 4, 8, 8}, 2),
      ModelSpec{Architecture::resnet3d, {2, 5, 9, 7}, {3}, 4},
      // Group norm (DP-SGD's ResNet): gcd(32, width) groups, no buffers.
      ModelSpec::resnet3d({1, 4, 8, 8}, 2, Normalization::group),
      ModelSpec{Architecture::resnet3d, {2, 5, 9, 7}, {3}, 4, Normalization::group},
  };
  for (const auto& spec : specs) {
    SCOPED_TRACE(to_json(spec));
    auto model = Model::create(spec, 1);
    ASSERT_TRUE(model.ok()) << model.error().message;
    const auto blob = serialize(*model);
    EXPECT_EQ(serialized_size(spec), blob.size());
    const auto want = tensor_layout(spec);
    const auto got = layout_of_blob(blob);
    ASSERT_EQ(want.size(), got.size());
    std::size_t parameters = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(want[i].name, got[i].name) << i;
      EXPECT_EQ(want[i].is_float, got[i].is_float) << want[i].name;
      EXPECT_EQ(want[i].dims, got[i].dims) << want[i].name;
      if (!want[i].is_buffer) {
        std::size_t n = 1;
        for (auto d : want[i].dims) n *= static_cast<std::size_t>(d);
        parameters += n;
      }
    }
    EXPECT_EQ(parameters, model->parameter_count());
  }
}

TEST(ModelSpecNorm, GroupNormIsWrittenOnlyWhenChosenAndOnlyForTheResNet) {
  // The default keeps the exact text (and so the blob bytes and hashes) of
  // specs from before the norm field.
  EXPECT_EQ(to_json(ModelSpec::resnet3d({1, 4, 8, 8}, 2)),
            R"({"architecture":"resnet3d","hidden":[2],"input_shape":[1,4,8,8],"num_classes":2})");
  const auto group = ModelSpec::resnet3d({1, 4, 8, 8}, 2, Normalization::group);
  const auto text = to_json(group);
  EXPECT_EQ(
      text,
      R"({"architecture":"resnet3d","hidden":[2],"input_shape":[1,4,8,8],"norm":"group","num_classes":2})");
  auto back = spec_from_json(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, group);
  EXPECT_TRUE(has_batch_norm(ModelSpec::resnet3d({1, 4, 8, 8}, 2)));
  EXPECT_FALSE(has_batch_norm(group));
  EXPECT_FALSE(has_batch_norm(ModelSpec::mlp(3, {2})));
  // "batch" is accepted and canonicalised away; anything else is refused.
  auto batch = spec_from_json(
      R"({"architecture":"resnet3d","hidden":[2],"input_shape":[1,4,8,8],"norm":"batch","num_classes":2})");
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->normalization, Normalization::batch);
  EXPECT_FALSE(
      spec_from_json(
          R"({"architecture":"resnet3d","hidden":[2],"input_shape":[1,4,8,8],"norm":"layer","num_classes":2})")
          .ok());
  auto mlp_group = spec_from_json(
      R"({"architecture":"mlp","hidden":[2],"input_shape":[3],"norm":"group","num_classes":2})");
  ASSERT_FALSE(mlp_group.ok());
  EXPECT_NE(mlp_group.error().message.find("resnet3d only"), std::string::npos);
  EXPECT_EQ(serialized_size(group), serialize(*Model::create(group, 1)).size());
}

TEST(ModelLayout, CountsTheMultiplyAccumulatesOfAForwardPass) {
  // 30*64 + 64*32 + 32*1
  EXPECT_EQ(forward_macs(ModelSpec::mlp(30, {64, 32})), 4000.0);
  // conv1 on 8x8: 64*(1*9*2); conv2 on 4x4: 16*(2*9*3); fc: 3*2*2 -> 5; out 5 -> 1
  EXPECT_EQ(forward_macs(ModelSpec{Architecture::cnn2d, {1, 8, 8}, {2, 3, 5}, 2}),
            64 * 18 + 16 * 54 + 12 * 5 + 5);
  // The paper's 3D ResNet-18 on a 1x16x120x160 volume: about 9.3 GMAC.
  const double resnet = forward_macs(ModelSpec::resnet3d());
  EXPECT_GT(resnet, 9.0e9);
  EXPECT_LT(resnet, 9.6e9);
}

TEST(ModelSpecBounds, RefusesAnInputShapeWhoseProductOverflows) {
  // 16 * 2^60 = 2^64: wrapped to 0 before, which passed the input bound and,
  // for a resnet3d (whose parameters do not depend on the volume's size), the
  // parameter bound too.
  const int big = 1 << 20;
  const ModelSpec wraps{Architecture::resnet3d, {16, big, big, big}, {64}, 2};
  EXPECT_EQ(wraps.input_size(), std::numeric_limits<std::size_t>::max());
  auto st = validate(wraps);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("2^24 values per sample"), std::string::npos)
      << st.error().message;
  EXPECT_FALSE(validate(ModelSpec{Architecture::resnet3d, {big, big, big, big}, {64}, 2}).ok());
  auto parsed = spec_from_json(
      R"({"architecture":"resnet3d","hidden":[64],"input_shape":[16,1048576,1048576,1048576],"num_classes":2})");
  EXPECT_FALSE(parsed.ok());
}

TEST(ModelSpecBounds, RefusesParameterCountsPastTheBoundWithoutOverflowing) {
  // 16383^2 + 16383 + 16383 + 1 = 2^28 exactly: the largest accepted.
  EXPECT_TRUE(validate(ModelSpec::mlp(16383, {16383})).ok());
  auto over = validate(ModelSpec::mlp(16384, {16383}));
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("2^28"), std::string::npos) << over.error().message;
  // Sixteen 65536-wide layers: 2^32 per layer, refused whatever the sum.
  EXPECT_FALSE(validate(ModelSpec::mlp(1 << 20, std::vector<int>(16, 65536))).ok());
  // A cnn2d whose dense layer alone is 2^16 * (2^16 * 2^10 * 2^10) = 2^52
  // weights (its inputs stay within 2^24).
  EXPECT_FALSE(
      validate(ModelSpec{Architecture::cnn2d, {1, 1 << 12, 1 << 12}, {1, 65536, 65536}, 2}).ok());
  // Inputs at the bound are fine.
  EXPECT_TRUE(validate(ModelSpec::mlp(1 << 20, {})).ok());
  EXPECT_FALSE(validate(ModelSpec{Architecture::cnn2d, {2, 4096, 4097}, {1, 1, 1}, 2}).ok());
}

// docs/PROTOCOL.md §17.1 lists the tensors of one example spec per
// architecture in ```text blocks whose first line is "spec JSON" and whose
// other lines are "name dims..." ("(scalar, int64)" for a rank-0 tensor).
// The lists must be the networks': learning's layout and a real model's blob.
TEST(ProtocolLayout, DocumentedTensorsAreTheNetworks) {
  std::ifstream doc(testing::source_dir() / "docs" / "PROTOCOL.md");
  ASSERT_TRUE(doc.good());
  std::string line;
  std::vector<std::pair<std::string, std::vector<TensorLayout>>> documented;
  while (std::getline(doc, line)) {
    if (line != "```text" || !std::getline(doc, line) || line.rfind("spec ", 0) != 0) continue;
    documented.push_back({line.substr(5), {}});
    while (std::getline(doc, line) && line != "```") {
      std::istringstream fields(line);
      TensorLayout t;
      fields >> t.name;
      for (std::string d; fields >> d;) {
        if (d == "(scalar,") {
          t.is_float = false;
          break;
        }
        t.dims.push_back(std::stoll(d));
      }
      documented.back().second.push_back(std::move(t));
    }
  }
  ASSERT_EQ(documented.size(), 3u) << "one example per architecture";
  std::set<Architecture> seen;
  for (const auto& [json, tensors] : documented) {
    auto spec = spec_from_json(json);
    ASSERT_TRUE(spec.ok()) << json << ": " << spec.error().message;
    EXPECT_EQ(to_json(*spec), json) << "the example is the canonical spec text";
    seen.insert(spec->architecture);
    const auto layout = tensor_layout(*spec);
    auto model = Model::create(*spec, 1);
    ASSERT_TRUE(model.ok()) << model.error().message;
    const auto real = layout_of_blob(serialize(*model));
    ASSERT_EQ(tensors.size(), layout.size()) << json;
    ASSERT_EQ(tensors.size(), real.size()) << json;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      EXPECT_EQ(tensors[i].name, layout[i].name) << json << " tensor " << i;
      EXPECT_EQ(tensors[i].dims, layout[i].dims) << tensors[i].name;
      EXPECT_EQ(tensors[i].is_float, layout[i].is_float) << tensors[i].name;
      EXPECT_EQ(tensors[i].name, real[i].name);
      EXPECT_EQ(tensors[i].dims, real[i].dims) << tensors[i].name;
    }
  }
  EXPECT_EQ(seen.size(), 3u);
}

}  // namespace
}  // namespace baton::learning

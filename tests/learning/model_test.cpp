// Models: specs, deterministic creation, prediction, and the 3D ResNet-18's
// layer structure (read back from the documented blob format, so the test
// needs no LibTorch headers).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include "learning/model.h"
#include "learning/train.h"

namespace baton::learning {
namespace {

Dataset random_rows(std::size_t rows, std::size_t features, int classes, std::uint64_t seed) {
  Dataset d;
  d.rows = rows;
  d.features = features;
  d.num_classes = classes;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (std::size_t i = 0; i < rows * features; ++i) d.x.push_back(normal(rng));
  for (std::size_t i = 0; i < rows; ++i)
    d.y.push_back(static_cast<int>(i % static_cast<std::size_t>(classes)));
  for (std::size_t f = 0; f < features; ++f) d.feature_names.push_back("f" + std::to_string(f));
  for (int c = 0; c < classes; ++c) d.class_names.push_back("c" + std::to_string(c));
  return d;
}

struct BlobTensor {
  std::string name;
  std::vector<std::uint64_t> dims;
};

// An independent reader of the blob layout documented in model.h: it only
// walks the headers, which is enough to list the layers.
std::vector<BlobTensor> list_tensors(const chain::Bytes& b) {
  std::size_t pos = 8 + 4;
  auto le = [&](int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= std::uint64_t{b.at(pos + static_cast<std::size_t>(i))} << (8 * i);
    pos += static_cast<std::size_t>(n);
    return v;
  };
  pos += le(4);  // spec JSON
  std::vector<BlobTensor> out(le(4));
  for (auto& t : out) {
    const auto name_len = le(2);
    t.name.assign(reinterpret_cast<const char*>(b.data() + pos), name_len);
    pos += name_len;
    const auto dtype = le(1);
    const auto rank = le(1);
    std::uint64_t count = 1;
    for (std::uint64_t i = 0; i < rank; ++i) {
      t.dims.push_back(le(8));
      count *= t.dims.back();
    }
    pos += count * (dtype == 1 ? 4 : 8);
  }
  EXPECT_EQ(pos, b.size());
  return out;
}

TEST(ModelSpec, JsonIsCanonicalAndRoundTrips) {
  const auto spec = ModelSpec::mlp(30, {64, 32});
  EXPECT_EQ(to_json(spec),
            R"({"architecture":"mlp","hidden":[64,32],"input_shape":[30],"num_classes":2})");
  auto back = spec_from_json(to_json(spec));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, spec);
  const auto cnn = ModelSpec::cnn2d({1, 28, 28}, 2);
  auto cnn_back = spec_from_json(to_json(cnn));
  ASSERT_TRUE(cnn_back.ok());
  EXPECT_EQ(*cnn_back, cnn);
}

TEST(ModelSpec, RefusesMalformedOrOversizedSpecs) {
  EXPECT_FALSE(spec_from_json("not json").ok());
  EXPECT_FALSE(
      spec_from_json(
          R"({"architecture":"transformer","hidden":[],"input_shape":[3],"num_classes":2})")
          .ok());
  EXPECT_FALSE(
      spec_from_json(R"({"architecture":"mlp","hidden":[0],"input_shape":[3],"num_classes":2})")
          .ok());
  EXPECT_FALSE(
      spec_from_json(R"({"architecture":"mlp","hidden":[],"input_shape":[3],"num_classes":1})")
          .ok());
  EXPECT_FALSE(
      spec_from_json(R"({"architecture":"mlp","hidden":["8"],"input_shape":[3],"num_classes":2})")
          .ok());
  // 2^20 inputs × 65536 hidden would be 2^36 parameters: refused before any allocation.
  auto huge = spec_from_json(
      R"({"architecture":"mlp","hidden":[65536],"input_shape":[1048576],"num_classes":2})");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().message.find("parameters"), std::string::npos);
  EXPECT_FALSE(validate(ModelSpec::cnn2d({28, 28}, 2)).ok());
  EXPECT_FALSE(validate(ModelSpec::resnet3d({16, 120, 160})).ok());
  EXPECT_FALSE(Model::create(ModelSpec::mlp(0, {}), 1).ok());
}

TEST(Model, SameSeedGivesBitIdenticalWeightsAndOtherSeedDoesNot) {
  const auto spec = ModelSpec::mlp(30, {64, 32});
  auto a = Model::create(spec, 7);
  auto b = Model::create(spec, 7);
  auto c = Model::create(spec, 8);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(serialize(*a), serialize(*b));
  EXPECT_EQ(model_hash(*a), model_hash(*b));
  EXPECT_NE(model_hash(*a), model_hash(*c));
  EXPECT_EQ(a->parameter_count(), std::size_t{30 * 64 + 64 + 64 * 32 + 32 + 32 + 1});
}

TEST(Model, BinaryPredictionsAreProbabilitiesThatSumToOne) {
  auto model = Model::create(ModelSpec::mlp(5, {8}), 1);
  ASSERT_TRUE(model.ok());
  const auto data = random_rows(300, 5, 2, 3);  // more than one prediction chunk
  auto p = model->predict(data);
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->rows, 300u);
  ASSERT_EQ(p->probabilities.size(), 600u);
  const auto scores = p->scores();
  for (std::size_t i = 0; i < p->rows; ++i) {
    EXPECT_GT(scores[i], 0.0);
    EXPECT_LT(scores[i], 1.0);
    EXPECT_NEAR(p->probabilities[2 * i] + p->probabilities[2 * i + 1], 1.0, 1e-12);
  }
  // Each row is predicted independently of its chunk.
  const std::vector<std::size_t> last = {299};
  auto single = model->predict(data.subset(last));
  ASSERT_TRUE(single.ok());
  EXPECT_DOUBLE_EQ(single->scores()[0], scores[299]);
}

TEST(Model, MultiClassPredictionsUseSoftmax) {
  auto model = Model::create(ModelSpec::mlp(4, {6}, 3), 2);
  ASSERT_TRUE(model.ok());
  auto p = model->predict(random_rows(10, 4, 3, 1));
  ASSERT_TRUE(p.ok());
  const auto rows = p->per_row();
  ASSERT_EQ(rows.size(), 10u);
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 3u);
    EXPECT_NEAR(r[0] + r[1] + r[2], 1.0, 1e-6);
  }
}

TEST(Model, PredictRefusesDataOfAnotherShape) {
  auto model = Model::create(ModelSpec::mlp(5, {8}), 1);
  ASSERT_TRUE(model.ok());
  auto wrong_features = model->predict(random_rows(4, 6, 2, 1));
  ASSERT_FALSE(wrong_features.ok());
  EXPECT_NE(wrong_features.error().message.find("6 features"), std::string::npos);
  EXPECT_FALSE(model->predict(random_rows(4, 5, 3, 1)).ok());
}

TEST(Model, CloneIsADeepCopy) {
  auto model = Model::create(ModelSpec::mlp(5, {8}), 1);
  ASSERT_TRUE(model.ok());
  const auto before = model_hash(*model);
  auto copy = model->clone();
  EXPECT_EQ(model_hash(copy), before);
  TrainSettings s;
  s.epochs = 2;
  ASSERT_TRUE(train(copy, random_rows(40, 5, 2, 9), s).ok());
  EXPECT_NE(model_hash(copy), before);
  EXPECT_EQ(model_hash(*model), before);
}

TEST(Cnn2d, PredictsOn28x28Images) {
  auto model = Model::create(ModelSpec::cnn2d({1, 28, 28}, 2), 5);
  ASSERT_TRUE(model.ok());
  auto data = random_rows(3, 28 * 28, 2, 4);
  data.image_shape = {1, 28, 28};
  auto p = model->predict(data);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->rows, 3u);
  const auto tensors = list_tensors(serialize(*model));
  ASSERT_EQ(tensors.size(), 8u);
  EXPECT_EQ(tensors[0].name, "conv1.weight");
  EXPECT_EQ(tensors[0].dims, (std::vector<std::uint64_t>{16, 1, 3, 3}));
  EXPECT_EQ(tensors[4].name, "fc.weight");
  EXPECT_EQ(tensors[4].dims, (std::vector<std::uint64_t>{64, 32 * 7 * 7}));
}

TEST(ResNet3d, HasSeventeenConvolutionsOneLinearLayerAndThreeProjections) {
  auto model = Model::create(ModelSpec::resnet3d({1, 16, 120, 160}), 3);
  ASSERT_TRUE(model.ok());
  int convs = 0, projections = 0, linear = 0;
  for (const auto& t : list_tensors(serialize(*model))) {
    if (t.dims.size() == 5) {
      const bool pointwise = t.dims[2] == 1 && t.dims[3] == 1 && t.dims[4] == 1;
      (pointwise ? projections : convs) += 1;
    }
    if (t.dims.size() == 2) {
      ++linear;
      EXPECT_EQ(t.dims, (std::vector<std::uint64_t>{1, 512}));
    }
    if (t.name == "stem.weight") {
      EXPECT_EQ(t.dims, (std::vector<std::uint64_t>{64, 1, 7, 7, 7}));
    }
  }
  EXPECT_EQ(convs, 17);
  EXPECT_EQ(linear, 1);
  EXPECT_EQ(projections, 3);
  // Reference: the same layers built from python3-torch 1.13's nn.Conv3d(bias=False),
  // nn.BatchNorm3d and nn.Linear(512, 1), summing p.numel() over parameters().
  EXPECT_EQ(model->parameter_count(), 33160513u);
}

TEST(ResNet3d, TrainsAndPredictsOnATinyVolume) {
  // 1×8×16×16 keeps the test fast; global average pooling makes any volume
  // of at least 1×1×1 after the strides valid.
  auto spec = ModelSpec::resnet3d({1, 8, 16, 16}, 8);
  auto model = Model::create(spec, 11);
  ASSERT_TRUE(model.ok()) << model.error().message;
  auto data = random_rows(4, 8 * 16 * 16, 2, 6);
  data.image_shape = {1, 8, 16, 16};
  const auto before = model_hash(*model);
  TrainSettings s;
  s.epochs = 1;
  s.batch_size = 2;
  auto report = train(*model, data, s);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->steps, 2u);
  EXPECT_NE(model_hash(*model), before);
  auto p = model->predict(data);
  ASSERT_TRUE(p.ok());
  for (double s1 : p->scores()) EXPECT_TRUE(s1 > 0.0 && s1 < 1.0);
}

// predict() runs volumes in chunks and never a chunk of one (a lone volume
// runs twice, a remainder of one joins the chunk before it): each row's score
// must still be its own, whatever the set's size.
TEST(ResNet3d, ScoresEachVolumeAsOnItsOwnWhateverTheChunking) {
  auto spec = ModelSpec::resnet3d({1, 8, 16, 16}, 4);
  auto model = Model::create(spec, 5);
  ASSERT_TRUE(model.ok()) << model.error().message;
  auto data = random_rows(7, 8 * 16 * 16, 2, 9);
  data.image_shape = {1, 8, 16, 16};
  auto all = model->predict(data);
  ASSERT_TRUE(all.ok()) << all.error().message;
  for (std::size_t n : {1, 2, 3, 5, 6, 7}) {
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < n; ++i) rows.push_back(6 - i);  // reversed: other chunks
    auto part = model->predict(data.subset(rows));
    ASSERT_TRUE(part.ok()) << part.error().message;
    ASSERT_EQ(part->scores().size(), n);
    for (std::size_t i = 0; i < n; ++i)
      EXPECT_NEAR(part->scores()[i], all->scores()[6 - i], 1e-5) << n << " rows, row " << i;
  }
}

}  // namespace
}  // namespace baton::learning

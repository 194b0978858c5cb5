// Model blobs: the documented layout, lossless round trips, and refusal of
// every kind of damaged input without aborting.
#include <gtest/gtest.h>

#include <string>

#include "learning/model.h"
#include "learning/train.h"

namespace baton::learning {
namespace {

Dataset tiny_data() {
  Dataset d;
  d.rows = 20;
  d.features = 3;
  for (std::size_t i = 0; i < d.rows; ++i) {
    const int label = static_cast<int>(i % 2);
    d.y.push_back(label);
    for (std::size_t f = 0; f < d.features; ++f)
      d.x.push_back(static_cast<float>(label) + 0.1f * static_cast<float>(i + f));
  }
  d.feature_names = {"a", "b", "c"};
  d.class_names = {"no", "yes"};
  return d;
}

Model trained_model() {
  auto model = Model::create(ModelSpec::mlp(3, {4}), 1);
  if (!model.ok()) std::abort();
  TrainSettings s;
  s.epochs = 3;
  s.batch_size = 4;
  if (!train(*model, tiny_data(), s).ok()) std::abort();
  return std::move(model).value();
}

std::uint32_t u32_at(const chain::Bytes& b, std::size_t at) {
  return std::uint32_t{b[at]} | std::uint32_t{b[at + 1]} << 8 | std::uint32_t{b[at + 2]} << 16 |
         std::uint32_t{b[at + 3]} << 24;
}

TEST(ModelBlob, HeaderFollowsTheDocumentedLayout) {
  const auto model = trained_model();
  const auto blob = serialize(model);
  ASSERT_GT(blob.size(), 16u);
  EXPECT_EQ(std::string(blob.begin(), blob.begin() + 8), "BATONMDL");
  EXPECT_EQ(u32_at(blob, 8), 1u);
  const auto spec_len = u32_at(blob, 12);
  EXPECT_EQ(std::string(blob.begin() + 16, blob.begin() + 16 + spec_len), to_json(model.spec()));
  EXPECT_EQ(u32_at(blob, 16 + spec_len), 4u);  // hidden0.weight, hidden0.bias, out.weight, out.bias
  // 4 tensors of 12 + 4 + 4 + 1 floats, each with a header of 2 + name + 1 + 1 + 8·rank bytes.
  const std::size_t headers =
      (2 + 14 + 2 + 16) + (2 + 12 + 2 + 8) + (2 + 10 + 2 + 16) + (2 + 8 + 2 + 8);
  EXPECT_EQ(blob.size(), 16 + spec_len + 4 + headers + 4 * (12 + 4 + 4 + 1));
  EXPECT_EQ(chain::sha256(blob), model_hash(model));
}

TEST(ModelBlob, RoundTripKeepsEveryBitAndEveryPrediction) {
  const auto model = trained_model();
  const auto blob = serialize(model);
  auto back = deserialize(blob, model.spec());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(serialize(*back), blob);
  EXPECT_EQ(back->spec(), model.spec());
  auto p1 = model.predict(tiny_data());
  auto p2 = back->predict(tiny_data());
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_EQ(p1->probabilities, p2->probabilities);
}

TEST(ModelBlob, RoundTripKeepsBatchNormStatistics) {
  auto model = Model::create(ModelSpec::resnet3d({1, 4, 8, 8}, 2), 1);
  ASSERT_TRUE(model.ok());
  Dataset d;
  d.rows = 2;
  d.features = 256;
  d.y = {0, 1};
  for (std::size_t i = 0; i < 512; ++i) d.x.push_back(static_cast<float>(i % 7) * 0.3f);
  d.class_names = {"0", "1"};
  TrainSettings s;
  s.epochs = 1;
  s.batch_size = 2;
  ASSERT_TRUE(train(*model, d, s).ok());
  const auto blob = serialize(*model);
  auto back = deserialize(blob, model->spec());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(serialize(*back), blob);
  EXPECT_EQ(model->predict(d)->probabilities, back->predict(d)->probabilities);
}

TEST(ModelBlob, RefusesGarbageWithASentence) {
  const auto blob = serialize(trained_model());
  const ModelSpec spec = ModelSpec::mlp(3, {4});
  auto expect_refused = [&](const chain::Bytes& b, const std::string& phrase,
                            ModelBlobErrc code = ModelBlobErrc::malformed) {
    auto r = deserialize(b, spec);
    ASSERT_FALSE(r.ok()) << "accepted a damaged blob (expected: " << phrase << ")";
    EXPECT_NE(r.error().message.find(phrase), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.back(), '.');
    EXPECT_EQ(r.error().code, static_cast<int>(code)) << r.error().message;
  };
  expect_refused({}, "BATONMDL");
  chain::Bytes text(std::string_view("hello, this is not a model at all").begin(),
                    std::string_view("hello, this is not a model at all").end());
  expect_refused(text, "BATONMDL");
  auto wrong_version = blob;
  wrong_version[8] = 2;
  expect_refused(wrong_version, "version");
  auto trailing = blob;
  trailing.push_back(0);
  expect_refused(trailing, "282 bytes long where a model of its spec is 281");
  auto renamed = blob;
  const auto spec_len = u32_at(blob, 12);
  renamed[16 + spec_len + 4 + 2] = 'X';  // first letter of the first tensor's name
  expect_refused(renamed, "appears where");
  // A spec edited to 5 hidden units is not the expected spec.
  auto json = to_json(ModelSpec::mlp(3, {5}));
  ASSERT_EQ(json.size(), spec_len);
  auto respecced = blob;
  std::copy(json.begin(), json.end(), respecced.begin() + 16);
  expect_refused(respecced, "is expected", ModelBlobErrc::wrong_spec);
  auto bad_json = blob;
  bad_json[16] = '[';
  expect_refused(bad_json, "is expected", ModelBlobErrc::wrong_spec);
  // The right spec with a tensor of another shape (rows and columns swapped).
  auto reshaped = blob;
  const std::size_t dims_at = 16 + spec_len + 4 + 2 + 14 + 2;  // hidden0.weight's dims
  reshaped[dims_at] = 3;
  reshaped[dims_at + 8] = 4;
  expect_refused(reshaped, "shape");
}

// A blob that is only a header declaring a 2^28-parameter MLP: before, each
// voter built that network (1.2 GB, 1.4 s) and only then found the blob
// truncated. The spec is now compared with the expected one as text first.
chain::Bytes header_only_blob(const std::string& spec_json) {
  chain::Bytes b = {'B', 'A', 'T', 'O', 'N', 'M', 'D', 'L', 1, 0, 0, 0};
  const auto n = static_cast<std::uint32_t>(spec_json.size());
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  b.insert(b.end(), spec_json.begin(), spec_json.end());
  for (std::uint8_t v : {4, 0, 0, 0}) b.push_back(v);  // tensor count
  return b;
}

TEST(ModelBlob, RefusesAnotherSpecBeforeBuildingAnything) {
  const ModelSpec huge = ModelSpec::mlp(16383, {16383});  // 2^28 parameters, valid
  ASSERT_TRUE(validate(huge).ok());
  const auto blob = header_only_blob(to_json(huge));
  EXPECT_LT(blob.size(), 100u);
  auto r = deserialize(blob, ModelSpec::mlp(30, {64, 32}));
  ASSERT_FALSE(r.ok());
  // wrong_spec is decided on the header alone: no network is built before it.
  EXPECT_EQ(r.error().code, static_cast<int>(ModelBlobErrc::wrong_spec)) << r.error().message;
  EXPECT_NE(r.error().message.find("\"hidden\":[64,32]"), std::string::npos) << r.error().message;
  // A spec that is not even valid JSON or within bounds is refused the same way.
  for (const std::string& bad :
       {std::string("{\"architecture\":\"mlp\",\"hidden\":[1048576],\"input_shape\":[1048576],"
                    "\"num_classes\":2}"),
        std::string(60000, '{')}) {
    auto again = deserialize(header_only_blob(bad), ModelSpec::mlp(30, {64, 32}));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, static_cast<int>(ModelBlobErrc::wrong_spec));
  }
}

TEST(ModelBlob, RefusesTheRightSpecWithTheWrongLengthBeforeBuildingIt) {
  // The expected spec's header with no tensors after it: refused on its
  // length (the size serialized_size gives), before the network is built.
  const ModelSpec spec = ModelSpec::mlp(30, {64, 32});
  auto r = deserialize(header_only_blob(to_json(spec)), spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, static_cast<int>(ModelBlobErrc::malformed));
  EXPECT_NE(r.error().message.find("bytes long where a model of its spec is " +
                                   std::to_string(serialized_size(spec))),
            std::string::npos)
      << r.error().message;
}

TEST(ModelBlob, RefusesAnInvalidExpectedSpec) {
  const auto blob = serialize(trained_model());
  auto r = deserialize(blob, ModelSpec::mlp(0, {4}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, static_cast<int>(ModelBlobErrc::wrong_spec));
}

TEST(ModelBlob, RefusesEveryTruncation) {
  const auto blob = serialize(trained_model());
  for (std::size_t len = 0; len < blob.size(); ++len) {
    const chain::Bytes cut(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(len));
    EXPECT_FALSE(deserialize(cut, ModelSpec::mlp(3, {4})).ok())
        << "accepted a blob cut to " << len << " bytes";
  }
}

TEST(ModelBlob, AFlippedWeightByteChangesTheHashButStillLoads) {
  const auto model = trained_model();
  auto blob = serialize(model);
  blob[blob.size() - 2] ^= 0x01;  // inside the last float
  auto back = deserialize(blob, model.spec());
  ASSERT_TRUE(back.ok());  // the format cannot know; the ledger's hash does
  EXPECT_NE(model_hash(*back), model_hash(model));
  EXPECT_EQ(model_hash(*back), chain::sha256(blob));
}

}  // namespace
}  // namespace baton::learning

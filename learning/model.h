// Models for chained learning: an MLP for tabular data, a small 2D CNN for
// 28×28 images and the paper's 3D ResNet-18 for CT volumes. LibTorch lives
// behind a pimpl: this header is torch-free so tools/ and node/ compile fast.
//
// A Model is an owned value (move-only; clone() copies). It is not safe to use
// one Model from two threads at once; distinct Models may be used from
// distinct threads, but LibTorch's thread pool is process-wide (init_torch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chain/crypto.h"
#include "chain/result.h"
#include "learning/dataset.h"

namespace baton::learning {

// Sets LibTorch's intra-op thread count to `threads` (>= 1) and its inter-op
// pool to one thread. Call it once at start-up, before any other LibTorch
// call (FACTS.md: several threads each calling into torch oversubscribe the
// cores). Idempotent: later calls with the same count do nothing; a later
// call with another count changes the intra-op count only (the inter-op pool
// can be sized once per process). Model::create() initialises with 1 thread
// when nobody called it yet; train() calls it with its settings' count.
void init_torch(int threads = 1);

enum class Architecture {
  mlp,       // Linear+ReLU layers of `hidden` widths, then the output layer
  cnn2d,     // 2× (3×3 conv, ReLU, 2×2 max-pool), dense layer, output layer
  resnet3d,  // 3D ResNet-18: stem conv + BasicBlocks [2,2,2,2] + fc
};

std::string_view architecture_name(Architecture a);

// What to build. The output layer has one logit (sigmoid) when num_classes is
// 2 and num_classes logits (softmax) otherwise.
struct ModelSpec {
  Architecture architecture = Architecture::mlp;
  // mlp: {features}; cnn2d: {channels, height, width};
  // resnet3d: {channels, depth, height, width} (the paper: {1, 16, 120, 160}).
  std::vector<int> input_shape;
  // mlp: hidden layer widths (may be empty: logistic regression);
  // cnn2d: {conv1 channels, conv2 channels, dense width} (default {16, 32, 64});
  // resnet3d: {base width} (default {64}: stages of 64, 128, 256, 512).
  std::vector<int> hidden;
  int num_classes = 2;

  static ModelSpec mlp(int features, std::vector<int> hidden, int num_classes = 2);
  static ModelSpec cnn2d(std::vector<int> image_shape, int num_classes = 2);
  static ModelSpec resnet3d(std::vector<int> volume_shape = {1, 16, 120, 160}, int base_width = 64);

  // Number of input values per sample (product of input_shape).
  std::size_t input_size() const;
  // 1 for binary models (P(positive)), num_classes otherwise.
  int output_size() const { return num_classes == 2 ? 1 : num_classes; }

  bool operator==(const ModelSpec&) const = default;
};

// Checks that the spec describes a model this build can create within the
// size limits (at most 2^28 parameters; every dimension within bounds). The
// error says which field is wrong.
Status validate(const ModelSpec& spec);

// The spec as canonical JSON (sorted keys, no spaces), e.g.
// {"architecture":"mlp","hidden":[64,32],"input_shape":[30],"num_classes":2}.
// This exact text is part of the serialized model, so it is stable.
std::string to_json(const ModelSpec& spec);
Result<ModelSpec> spec_from_json(std::string_view json);

// Predicted probabilities for each row of a dataset.
struct Predictions {
  std::size_t rows = 0;
  int num_classes = 2;
  // rows × num_classes, row-major; each row sums to 1. Binary: column 1 is
  // P(positive class), column 0 is 1 − that.
  std::vector<double> probabilities;

  // Binary: P(positive) per row (the score for ROC AUC). Multi-class: the
  // probability of class `cls` per row (one-vs-rest score).
  std::vector<double> scores(int cls = 1) const;
  // rows × classes as nested vectors (the shape one_vs_rest_auc takes).
  std::vector<std::vector<double>> per_row() const;
};

class Model {
 public:
  // Builds the network with weights drawn deterministically from `seed`: the
  // same spec and seed give bit-identical weights. Fails (no abort) when the
  // spec does not validate.
  static Result<Model> create(const ModelSpec& spec, std::uint64_t seed);

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  // A deep copy (weights and buffers); the copy trains independently.
  Model clone() const;

  const ModelSpec& spec() const;
  std::size_t parameter_count() const;  // trainable values

  // Runs the model in evaluation mode on every row. Fails when the dataset's
  // feature count or class count does not match the spec.
  Result<Predictions> predict(const Dataset& data) const;

  // Internal: the LibTorch side (learning/torch_model.h). Not for callers
  // outside learning/.
  struct Impl;
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Serialized model format (docs/PROTOCOL.md, "Model blob"), all integers
// little-endian:
//   "BATONMDL"            8 bytes magic
//   u32 version = 1
//   u32 n, n bytes        the spec, canonical JSON (to_json)
//   u32 count             tensors, in the architecture's fixed order
//   per tensor: u16 name length, name (ASCII, e.g. "layers.0.weight"),
//               u8 dtype (1 = float32, 2 = int64), u8 rank, rank × u64 dims,
//               the values, little-endian, row-major
// Parameters come first, then buffers (batch-norm statistics), each in
// registration order. The bytes depend only on the spec and the weights, so
// equal weights give equal bytes and equal hashes.
chain::Bytes serialize(const Model& model);

// Parses a serialized model. Never trusts the bytes: a wrong magic, version,
// spec, tensor name, shape, dtype, a truncated or over-long blob each give an
// error sentence; nothing aborts.
Result<Model> deserialize(chain::ByteView bytes);

// SHA-256 of serialize(model).
chain::Hash model_hash(const Model& model);

}  // namespace baton::learning

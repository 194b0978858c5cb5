// What a model is, without the model: the spec of a network (architecture,
// input shape, widths, classes), its canonical JSON, its validation against
// this build's size limits, and what follows from the spec alone (the
// tensors the network has, the exact size of its serialized blob, the work
// of a forward pass). Torch-free and defined in baton_learning_core
// (model_spec.cpp, model_layout.cpp): the `baton` CLI checks training plans
// with it without linking LibTorch, and a voter bounds a candidate's size and
// evaluation time with it before building any network. The model itself
// (create, predict, serialize) is learning/model.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chain/result.h"

namespace baton::learning {

enum class Architecture {
  mlp,       // Linear+ReLU layers of `hidden` widths, then the output layer
  cnn2d,     // 2× (3×3 conv, ReLU, 2×2 max-pool), dense layer, output layer
  resnet3d,  // 3D ResNet-18: stem conv + BasicBlocks [2,2,2,2] + fc
};

std::string_view architecture_name(Architecture a);

// The ResNet's normalization layers. Batch norm (the paper's) mixes the rows
// of a batch, so one row's gradient depends on the others' and DP-SGD's
// per-sample clipping would not bound it: DP-SGD trains a ResNet with group
// norm (Wu & He 2018; Opacus asks the same): gcd(32, width) groups per
// layer (32 for the default widths), affine, no running statistics. The MLP and
// the 2D CNN have no normalization layer; their specs keep `batch` (unused).
enum class Normalization { batch, group };

std::string_view normalization_name(Normalization n);  // "batch" | "group"

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
  // resnet3d only (validate refuses group elsewhere). JSON key "norm",
  // written only when group, so specs from before it keep their bytes.
  Normalization normalization = Normalization::batch;

  static ModelSpec mlp(int features, std::vector<int> hidden, int num_classes = 2);
  static ModelSpec cnn2d(std::vector<int> image_shape, int num_classes = 2);
  static ModelSpec resnet3d(std::vector<int> volume_shape = {1, 16, 120, 160}, int base_width = 64,
                            Normalization normalization = Normalization::batch);

  // Number of input values per sample (product of input_shape); 0 when
  // input_shape is empty, SIZE_MAX when the product overflows (validate()
  // refuses both).
  std::size_t input_size() const;
  // 1 for binary models (P(positive)), num_classes otherwise.
  int output_size() const { return num_classes == 2 ? 1 : num_classes; }

  bool operator==(const ModelSpec&) const = default;
};

// True when the network has batch-norm layers (a resnet3d with batch norm):
// DP-SGD refuses such a model (train(), tools/plan_check.cpp).
bool has_batch_norm(const ModelSpec& spec);

// The largest model this build creates, loads or votes on. Bounds every
// allocation a plan (or a blob naming one) can cause: parameters take 4 bytes
// each, so a model is at most 1 GiB of weights and its blob (serialized_size)
// a little more; a sample is at most 2^24 values (64 MiB of float32; the
// paper's CT volume, 1x16x120x160, is 307,200). Every product in the checks
// is overflow-checked (a 4-D input_shape of 2^20-wide dimensions is 2^80).
inline constexpr std::uint64_t kMaxParameters = std::uint64_t{1} << 28;
inline constexpr std::uint64_t kMaxInputValues = std::uint64_t{1} << 24;

// Checks that the spec describes a model this build can create within the
// size limits above (every dimension within bounds, no product overflowing).
// The error says which field is wrong.
Status validate(const ModelSpec& spec);

// One tensor of a model's serialized form (docs/PROTOCOL.md section 17), in
// the order serialize() (learning/model.h) writes them.
struct TensorLayout {
  std::string name;        // e.g. "hidden0.weight", "layer2_0.bn1.running_mean"
  bool is_float = true;    // float32; else int64 (batch-norm num_batches_tracked)
  bool is_buffer = false;  // a buffer (batch-norm statistics), not a parameter
  std::vector<std::int64_t> dims;
};

// The tensors the network of `spec` has, computed from the spec alone (no
// LibTorch, no allocation sized by anything but the tensor count). Pre:
// validate(spec) passed. tests/learning checks it against the real networks.
std::vector<TensorLayout> tensor_layout(const ModelSpec& spec);

// Exact size in bytes of serialize() of any model of `spec`. Pre: validate(spec).
std::uint64_t serialized_size(const ModelSpec& spec);

// Multiply-accumulates of one forward pass of one sample through `spec`'s
// network (convolutions, dense layers; element-wise ops not counted), as a
// double (no overflow). Pre: validate(spec). For evaluation budgets.
double forward_macs(const ModelSpec& spec);

// The spec as canonical JSON (sorted keys, no spaces), e.g.
// {"architecture":"mlp","hidden":[64,32],"input_shape":[30],"num_classes":2};
// a group-norm ResNet adds "norm":"group" (absent: batch; spec_from_json
// also accepts "norm":"batch", which to_json then leaves out).
// This exact text is part of the serialized model, so it is stable.
std::string to_json(const ModelSpec& spec);
Result<ModelSpec> spec_from_json(std::string_view json);

// The model a training plan names, for the plan's binary task read from
// `feature_columns` columns: spec_from_json and validate accept it,
// num_classes is 2 (the labels are the label column equal to the positive
// value or not, and votes compare binary AUCs), an mlp has at least one
// feature column (whether input_shape[0] is the encoded feature count depends
// on each hospital's one-hot columns: the agent checks it on its data), and
// an image model (cnn2d, resnet3d) exactly one, the manifest column of .npy
// paths. The error is one sentence naming the plan's field ("model: ...",
// "model.num_classes is 3, ...", "dataset.feature_columns ..."). What `baton
// run start` and `genesis validate` refuse before anything is signed, and
// what the partner agent parses once per run (agent/run_plan.h).
Result<ModelSpec> plan_model_spec(std::string_view model_spec_json, std::size_t feature_columns);

}  // namespace baton::learning

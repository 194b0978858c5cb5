// Internal to learning/: the LibTorch side of Model. Included only by the
// torch translation units (model.cpp, serialize.cpp, train.cpp); never by a
// public header, because <torch/torch.h> costs ~25 s per translation unit.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "learning/model.h"

namespace baton::learning {

// One trainable layer's input and output in a traced forward pass: what
// DP-SGD needs for per-sample gradients (dp_sgd.cpp). conv_kernel 0: a
// Linear layer (input {N, in}, output {N, out}); else a Conv2d with a
// square kernel of that size, stride 1, padding conv_padding.
struct LayerTrace {
  torch::Tensor input, output;
  torch::Tensor weight, bias;
  int64_t conv_kernel = 0;
  int64_t conv_padding = 0;
};

// Every architecture is a module that maps a batch of flat rows
// {N, input_size} to logits {N, output_size}; it reshapes internally.
class Network : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor flat_rows) = 0;
  // The same forward, appending each trainable layer to `trace` in order and
  // setting `logits`; every parameter belongs to exactly one traced layer.
  // false (nothing run): the architecture has no traced forward (resnet3d),
  // so DP-SGD computes its per-sample gradients one row at a time.
  virtual bool forward_traced(torch::Tensor /*flat_rows*/, std::vector<LayerTrace>& /*trace*/,
                              torch::Tensor& /*logits*/) {
    return false;
  }
};

// Builds the network of `spec` with weights drawn from the generator seeded
// with `seed`. Precondition: validate(spec) passed.
std::shared_ptr<Network> build_network(const ModelSpec& spec, std::uint64_t seed);

struct Model::Impl {
  ModelSpec spec;
  std::shared_ptr<Network> net;
};

// Named tensors in the serialized order: parameters, then buffers, each in
// registration order.
std::vector<std::pair<std::string, torch::Tensor>> ordered_tensors(Network& net);

// A float32 tensor {rows, features} sharing nothing with `data`.
torch::Tensor rows_tensor(const Dataset& data);

// Shared by the training loops (train.cpp, dp_sgd.cpp), defined in train.cpp.
struct TrainSettings;
// SplitMix64 (Steele, Lea, Flood 2014): the next value of the stream `state`.
std::uint64_t splitmix64(std::uint64_t& state);
// Uniform in [0, bound) without modulo bias. Pre: bound >= 1.
std::uint64_t uniform_below(std::uint64_t bound, std::uint64_t& state);
// Adam or SGD over net's parameters, as the settings say.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(Network& net, const TrainSettings& s);
// Each row's class weight rows / (classes × rows of its class), float32 {rows}.
torch::Tensor class_row_weights(const Dataset& data, int num_classes);

}  // namespace baton::learning

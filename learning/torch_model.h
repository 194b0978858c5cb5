// Internal to learning/: the LibTorch side of Model. Included only by the
// torch translation units (model.cpp, serialize.cpp, train.cpp); never by a
// public header, because <torch/torch.h> costs ~25 s per translation unit.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "learning/model.h"

namespace baton::learning {

// Every architecture is a module that maps a batch of flat rows
// {N, input_size} to logits {N, output_size}; it reshapes internally.
class Network : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor flat_rows) = 0;
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

}  // namespace baton::learning

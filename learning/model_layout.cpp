// The tensors of each architecture's network, their serialized size and the
// work of a forward pass, from the spec alone. Torch-free: the `baton` CLI and
// the node's size checks use it without building a network. It must follow
// the networks of model.cpp exactly (registration order, names, shapes);
// tests/learning/model_layout_test.cpp compares the two.
#include <cstdlib>
#include <string>

#include "learning/model_spec.h"

namespace baton::learning {
namespace {

using Dims = std::vector<std::int64_t>;

void add(std::vector<TensorLayout>& out, std::string name, Dims dims) {
  out.push_back(TensorLayout{std::move(name), true, false, std::move(dims)});
}

// A batch norm's parameters go with its module's; its buffers are collected
// in `buffers` (named_buffers lists them after every parameter).
void batch_norm(std::vector<TensorLayout>& params, std::vector<TensorLayout>& buffers,
                const std::string& name, std::int64_t width) {
  add(params, name + ".weight", {width});
  add(params, name + ".bias", {width});
  buffers.push_back(TensorLayout{name + ".running_mean", true, true, {width}});
  buffers.push_back(TensorLayout{name + ".running_var", true, true, {width}});
  buffers.push_back(TensorLayout{name + ".num_batches_tracked", false, true, {}});
}

// A group norm has its affine parameters only (no running statistics).
void norm_layer(const ModelSpec& s, std::vector<TensorLayout>& params,
                std::vector<TensorLayout>& buffers, const std::string& name, std::int64_t width) {
  if (s.normalization == Normalization::group) {
    add(params, name + ".weight", {width});
    add(params, name + ".bias", {width});
  } else {
    batch_norm(params, buffers, name, width);
  }
}

std::vector<TensorLayout> mlp_layout(const ModelSpec& s) {
  std::vector<TensorLayout> out;
  std::int64_t in = s.input_shape[0];
  for (std::size_t i = 0; i < s.hidden.size(); ++i) {
    add(out, "hidden" + std::to_string(i) + ".weight", {s.hidden[i], in});
    add(out, "hidden" + std::to_string(i) + ".bias", {s.hidden[i]});
    in = s.hidden[i];
  }
  add(out, "out.weight", {s.output_size(), in});
  add(out, "out.bias", {s.output_size()});
  return out;
}

std::vector<TensorLayout> cnn2d_layout(const ModelSpec& s) {
  const std::int64_t c = s.input_shape[0], c1 = s.hidden[0], c2 = s.hidden[1], dense = s.hidden[2];
  // Two 2x2 max-pools: floor(floor(x / 2) / 2) = floor(x / 4). At most
  // 2^16 * 2^18 * 2^18 = 2^52: no overflow for any spec within the field bounds.
  const std::int64_t flat = c2 * (s.input_shape[1] / 4) * (s.input_shape[2] / 4);
  std::vector<TensorLayout> out;
  add(out, "conv1.weight", {c1, c, 3, 3});
  add(out, "conv1.bias", {c1});
  add(out, "conv2.weight", {c2, c1, 3, 3});
  add(out, "conv2.bias", {c2});
  add(out, "fc.weight", {dense, flat});
  add(out, "fc.bias", {dense});
  add(out, "out.weight", {s.output_size(), dense});
  add(out, "out.bias", {s.output_size()});
  return out;
}

std::vector<TensorLayout> resnet3d_layout(const ModelSpec& s) {
  const std::int64_t base = s.hidden[0];
  const bool group = s.normalization == Normalization::group;
  std::vector<TensorLayout> params, buffers;
  add(params, "stem.weight", {base, s.input_shape[0], 7, 7, 7});  // no bias
  norm_layer(s, params, buffers, group ? "stem_gn" : "stem_bn", base);
  std::int64_t width = base;
  for (int stage = 0; stage < 4; ++stage) {
    const std::int64_t out = base << stage;
    for (int block = 0; block < 2; ++block) {
      const std::int64_t in = block == 0 ? width : out;
      const std::string name =
          "layer" + std::to_string(stage + 1) + "_" + std::to_string(block) + ".";
      add(params, name + "conv1.weight", {out, in, 3, 3, 3});
      norm_layer(s, params, buffers, name + (group ? "gn1" : "bn1"), out);
      add(params, name + "conv2.weight", {out, out, 3, 3, 3});
      norm_layer(s, params, buffers, name + (group ? "gn2" : "bn2"), out);
      const bool strided = stage > 0 && block == 0;
      if (strided || in != out) {
        add(params, name + "down_conv.weight", {out, in, 1, 1, 1});
        norm_layer(s, params, buffers, name + (group ? "down_gn" : "down_bn"), out);
      }
    }
    width = out;
  }
  add(params, "fc.weight", {s.output_size(), width});
  add(params, "fc.bias", {s.output_size()});
  for (auto& b : buffers) params.push_back(std::move(b));
  return params;
}

// Output length of a convolution or pooling window along one axis.
double window_out(double x, int kernel, int stride, int padding) {
  return static_cast<double>((static_cast<std::int64_t>(x) + 2 * padding - kernel) / stride + 1);
}

double resnet3d_macs(const ModelSpec& s) {
  const double base = s.hidden[0];
  double d = s.input_shape[1], h = s.input_shape[2], w = s.input_shape[3];
  // Stem: 7x7x7, stride (1, 2, 2), padding 3.
  d = window_out(d, 7, 1, 3);
  h = window_out(h, 7, 2, 3);
  w = window_out(w, 7, 2, 3);
  double macs = d * h * w * s.input_shape[0] * 343 * base;
  // 3x3x3 max-pool, stride 2, padding 1.
  d = window_out(d, 3, 2, 1);
  h = window_out(h, 3, 2, 1);
  w = window_out(w, 3, 2, 1);
  double width = base;
  for (int stage = 0; stage < 4; ++stage) {
    const double out = base * (1 << stage);
    for (int block = 0; block < 2; ++block) {
      const double in = block == 0 ? width : out;
      if (stage > 0 && block == 0) {
        d = window_out(d, 3, 2, 1);
        h = window_out(h, 3, 2, 1);
        w = window_out(w, 3, 2, 1);
      }
      const double volume = d * h * w;
      macs += volume * in * 27 * out + volume * out * 27 * out;
      if ((stage > 0 && block == 0) || in != out) macs += volume * in * out;
    }
    width = out;
  }
  return macs + width * s.output_size();
}

}  // namespace

std::vector<TensorLayout> tensor_layout(const ModelSpec& spec) {
  switch (spec.architecture) {
    case Architecture::mlp:
      return mlp_layout(spec);
    case Architecture::cnn2d:
      return cnn2d_layout(spec);
    case Architecture::resnet3d:
      return resnet3d_layout(spec);
  }
  std::abort();
}

std::uint64_t serialized_size(const ModelSpec& spec) {
  // magic, version, spec length, spec, tensor count (docs/PROTOCOL.md section 17)
  std::uint64_t total = 8 + 4 + 4 + to_json(spec).size() + 4;
  for (const auto& t : tensor_layout(spec)) {
    std::uint64_t values = 1;
    for (auto d : t.dims) values *= static_cast<std::uint64_t>(d);
    total += 2 + t.name.size() + 1 + 1 + 8 * t.dims.size() + values * (t.is_float ? 4 : 8);
  }
  return total;
}

double forward_macs(const ModelSpec& spec) {
  switch (spec.architecture) {
    case Architecture::mlp:
    case Architecture::cnn2d: {
      double macs = 0;
      for (const auto& t : tensor_layout(spec)) {
        if (t.dims.size() < 2) continue;  // biases
        double per_output = 1;
        for (auto d : t.dims) per_output *= static_cast<double>(d);
        // A 3x3 convolution with padding 1 keeps its input's height and width:
        // conv1 runs on H x W, conv2 on H/2 x W/2 (after the first max-pool).
        if (t.name == "conv1.weight") per_output *= spec.input_shape[1] * spec.input_shape[2];
        if (t.name == "conv2.weight")
          per_output *= (spec.input_shape[1] / 2) * (spec.input_shape[2] / 2);
        macs += per_output;
      }
      return macs;
    }
    case Architecture::resnet3d:
      return resnet3d_macs(spec);
  }
  std::abort();
}

}  // namespace baton::learning

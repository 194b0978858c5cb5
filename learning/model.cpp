// The LibTorch networks behind Model: MLP, small 2D CNN, 3D ResNet-18; model
// creation, cloning and prediction; LibTorch thread set-up.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>

#include <torch/version.h>

#include "learning/torch_model.h"
#include "learning/torch_version.h"

namespace baton::learning {
namespace {

std::mutex g_torch_mutex;
bool g_torch_initialized = false;
int g_torch_threads = 0;

void init_torch_locked(int threads) {
  if (threads < 1) threads = 1;
  if (!g_torch_initialized) {
    g_torch_initialized = true;
    try {
      at::set_num_interop_threads(1);
    } catch (const std::exception&) {
      // Someone already ran inter-op work (e.g. a host application); the pool
      // keeps its size and only the intra-op count below applies.
    }
  }
  if (g_torch_threads != threads) {
    at::set_num_threads(threads);
    g_torch_threads = threads;
  }
}

// The traced forwards (for DP-SGD's per-sample gradients, dp_sgd.cpp) run
// exactly the layers' own forwards and record what went in and came out.
torch::Tensor traced_linear(torch::nn::LinearImpl& layer, const torch::Tensor& x,
                            std::vector<LayerTrace>& trace) {
  auto z = layer.forward(x);
  trace.push_back(LayerTrace{x, z, layer.weight, layer.bias, 0, 0});
  return z;
}

torch::Tensor traced_conv2d(torch::nn::Conv2dImpl& layer, const torch::Tensor& x,
                            std::vector<LayerTrace>& trace) {
  auto z = layer.forward(x);
  const auto& o = layer.options;
  // Square kernels, stride 1, no dilation (what Cnn2d builds): im2col needs the sizes.
  trace.push_back(LayerTrace{x, z, layer.weight, layer.bias, (*o.kernel_size())[0],
                             (*c10::get<torch::ExpandingArray<2>>(o.padding()))[0]});
  return z;
}

class Mlp final : public Network {
 public:
  explicit Mlp(const ModelSpec& s) {
    int in = s.input_shape[0];
    for (std::size_t i = 0; i < s.hidden.size(); ++i) {
      hidden_.push_back(
          register_module("hidden" + std::to_string(i), torch::nn::Linear(in, s.hidden[i])));
      in = s.hidden[i];
    }
    out_ = register_module("out", torch::nn::Linear(in, s.output_size()));
  }
  torch::Tensor forward(torch::Tensor x) override {
    for (auto& layer : hidden_) x = torch::relu(layer->forward(x));
    return out_->forward(x);
  }
  bool forward_traced(torch::Tensor x, std::vector<LayerTrace>& trace,
                      torch::Tensor& logits) override {
    for (auto& layer : hidden_) x = torch::relu(traced_linear(*layer, x, trace));
    logits = traced_linear(*out_, x, trace);
    return true;
  }

 private:
  std::vector<torch::nn::Linear> hidden_;
  torch::nn::Linear out_{nullptr};
};

class Cnn2d final : public Network {
 public:
  explicit Cnn2d(const ModelSpec& s) : shape_(s.input_shape) {
    const int c1 = s.hidden[0], c2 = s.hidden[1], dense = s.hidden[2];
    conv1_ = register_module(
        "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(shape_[0], c1, 3).padding(1)));
    conv2_ =
        register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(c1, c2, 3).padding(1)));
    fc_ = register_module("fc", torch::nn::Linear(c2 * (shape_[1] / 4) * (shape_[2] / 4), dense));
    out_ = register_module("out", torch::nn::Linear(dense, s.output_size()));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = x.view({-1, shape_[0], shape_[1], shape_[2]});
    x = torch::max_pool2d(torch::relu(conv1_->forward(x)), 2);
    x = torch::max_pool2d(torch::relu(conv2_->forward(x)), 2);
    x = torch::relu(fc_->forward(x.flatten(1)));
    return out_->forward(x);
  }
  bool forward_traced(torch::Tensor x, std::vector<LayerTrace>& trace,
                      torch::Tensor& logits) override {
    x = x.view({-1, shape_[0], shape_[1], shape_[2]});
    x = torch::max_pool2d(torch::relu(traced_conv2d(*conv1_, x, trace)), 2);
    x = torch::max_pool2d(torch::relu(traced_conv2d(*conv2_, x, trace)), 2);
    x = torch::relu(traced_linear(*fc_, x.flatten(1), trace));
    logits = traced_linear(*out_, x, trace);
    return true;
  }

 private:
  std::vector<int> shape_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Linear fc_{nullptr}, out_{nullptr};
};

torch::nn::Conv3d conv3d(int in, int out, int kernel, std::vector<int64_t> stride, int padding) {
  return torch::nn::Conv3d(
      torch::nn::Conv3dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

// One normalization layer of the ResNet (model_spec.h, Normalization): batch
// norm registered as `batch_name`, or group norm with gcd(32, width) groups
// registered as `group_name` (model_layout.cpp names them the same way).
class Norm3d {
 public:
  Norm3d(torch::nn::Module& owner, const std::string& batch_name, const std::string& group_name,
         int width, Normalization n) {
    if (n == Normalization::group) {
      group_ = owner.register_module(group_name, torch::nn::GroupNorm(std::gcd(32, width), width));
    } else {
      batch_ = owner.register_module(batch_name, torch::nn::BatchNorm3d(width));
    }
  }
  torch::Tensor operator()(const torch::Tensor& x) {
    return group_ ? group_->forward(x) : batch_->forward(x);
  }

 private:
  torch::nn::BatchNorm3d batch_{nullptr};
  torch::nn::GroupNorm group_{nullptr};
};

// ResNet BasicBlock in 3D (He et al. 2016; Hara et al. 2018): two 3×3×3
// convolutions with batch (or group) norm, plus the identity (or a 1×1×1
// projection when the shape changes).
class BasicBlock3d final : public torch::nn::Module {
 public:
  BasicBlock3d(int in, int out, int stride, Normalization n) {
    conv1_ = register_module("conv1", conv3d(in, out, 3, {stride, stride, stride}, 1));
    norm1_.emplace(*this, "bn1", "gn1", out, n);
    conv2_ = register_module("conv2", conv3d(out, out, 3, {1, 1, 1}, 1));
    norm2_.emplace(*this, "bn2", "gn2", out, n);
    if (stride != 1 || in != out) {
      down_conv_ = register_module("down_conv", conv3d(in, out, 1, {stride, stride, stride}, 0));
      down_norm_.emplace(*this, "down_bn", "down_gn", out, n);
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::relu((*norm1_)(conv1_->forward(x)));
    y = (*norm2_)(conv2_->forward(y));
    auto shortcut = down_conv_ ? (*down_norm_)(down_conv_->forward(x)) : x;
    return torch::relu(y + shortcut);
  }

 private:
  torch::nn::Conv3d conv1_{nullptr}, conv2_{nullptr}, down_conv_{nullptr};
  std::optional<Norm3d> norm1_, norm2_, down_norm_;
};

// 3D ResNet-18 as in C-DistriM (Zerka et al. 2020, after Hara et al. 2018):
// a 7×7×7 stem convolution (stride 1,2,2) with batch norm and 3×3×3 max-pool,
// four stages of two BasicBlocks (widths b, 2b, 4b, 8b; strides 1, 2, 2, 2),
// global average pooling and one linear output: 17 convolutions + 1 linear
// layer = 18 weight layers (plus three 1×1×1 projection shortcuts).
class ResNet3d final : public Network {
 public:
  explicit ResNet3d(const ModelSpec& s) : shape_(s.input_shape) {
    const int base = s.hidden[0];
    stem_ = register_module("stem", conv3d(shape_[0], base, 7, {1, 2, 2}, 3));
    stem_norm_.emplace(*this, "stem_bn", "stem_gn", base, s.normalization);
    int width = base;
    for (int stage = 0; stage < 4; ++stage) {
      const int out = base << stage;
      for (int block = 0; block < 2; ++block) {
        const int stride = (stage > 0 && block == 0) ? 2 : 1;
        blocks_.push_back(
            register_module("layer" + std::to_string(stage + 1) + "_" + std::to_string(block),
                            std::make_shared<BasicBlock3d>(block == 0 ? width : out, out, stride,
                                                           s.normalization)));
      }
      width = out;
    }
    fc_ = register_module("fc", torch::nn::Linear(width, s.output_size()));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = x.view({-1, shape_[0], shape_[1], shape_[2], shape_[3]});
    x = torch::relu((*stem_norm_)(stem_->forward(x)));
    x = torch::max_pool3d(x, 3, 2, 1);
    for (auto& block : blocks_) x = block->forward(x);
    x = torch::adaptive_avg_pool3d(x, {1, 1, 1}).flatten(1);
    return fc_->forward(x);
  }

 private:
  std::vector<int> shape_;
  torch::nn::Conv3d stem_{nullptr};
  std::optional<Norm3d> stem_norm_;
  std::vector<std::shared_ptr<BasicBlock3d>> blocks_;
  torch::nn::Linear fc_{nullptr};
};

constexpr std::size_t kPredictChunkRows = 256;

}  // namespace

std::string_view libtorch_version() { return TORCH_VERSION; }

int cuda_device_count() {
  return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
}

void init_torch(int threads) {
  std::lock_guard<std::mutex> lock(g_torch_mutex);
  init_torch_locked(threads);
}

std::shared_ptr<Network> build_network(const ModelSpec& spec, std::uint64_t seed) {
  // The default initialisers draw from the global CPU generator; the lock
  // keeps two threads' creations from interleaving their draws.
  std::lock_guard<std::mutex> lock(g_torch_mutex);
  if (!g_torch_initialized) init_torch_locked(1);
  torch::manual_seed(seed);
  std::shared_ptr<Network> net;
  switch (spec.architecture) {
    case Architecture::mlp:
      net = std::make_shared<Mlp>(spec);
      break;
    case Architecture::cnn2d:
      net = std::make_shared<Cnn2d>(spec);
      break;
    case Architecture::resnet3d:
      net = std::make_shared<ResNet3d>(spec);
      break;
  }
  return net;
}

std::vector<std::pair<std::string, torch::Tensor>> ordered_tensors(Network& net) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : net.named_parameters(/*recurse=*/true))
    out.emplace_back(item.key(), item.value());
  for (const auto& item : net.named_buffers(/*recurse=*/true))
    out.emplace_back(item.key(), item.value());
  return out;
}

torch::Tensor rows_tensor(const Dataset& data) {
  return torch::from_blob(const_cast<float*>(data.x.data()),
                          {static_cast<int64_t>(data.rows), static_cast<int64_t>(data.features)},
                          torch::kFloat32)
      .clone();
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Result<Model> Model::create(const ModelSpec& spec, std::uint64_t seed) {
  if (auto st = validate(spec); !st) return st.error();
  auto impl = std::make_unique<Impl>();
  impl->spec = spec;
  impl->net = build_network(spec, seed);
  return Model(std::move(impl));
}

Model Model::clone() const {
  auto impl = std::make_unique<Impl>();
  impl->spec = impl_->spec;
  impl->net = build_network(impl_->spec, 0);
  torch::NoGradGuard no_grad;
  auto src = ordered_tensors(*impl_->net);
  auto dst = ordered_tensors(*impl->net);
  for (std::size_t i = 0; i < src.size(); ++i) dst[i].second.copy_(src[i].second);
  return Model(std::move(impl));
}

const ModelSpec& Model::spec() const { return impl_->spec; }

std::size_t Model::parameter_count() const {
  std::size_t n = 0;
  for (const auto& p : impl_->net->parameters()) n += static_cast<std::size_t>(p.numel());
  return n;
}

std::vector<double> Predictions::scores(int cls) const {
  std::vector<double> out(rows);
  const auto k = static_cast<std::size_t>(num_classes);
  for (std::size_t i = 0; i < rows; ++i)
    out[i] = probabilities[i * k + static_cast<std::size_t>(cls)];
  return out;
}

std::vector<std::vector<double>> Predictions::per_row() const {
  std::vector<std::vector<double>> out(rows);
  const auto k = static_cast<std::size_t>(num_classes);
  for (std::size_t i = 0; i < rows; ++i) {
    out[i].assign(probabilities.begin() + static_cast<std::ptrdiff_t>(i * k),
                  probabilities.begin() + static_cast<std::ptrdiff_t>((i + 1) * k));
  }
  return out;
}

Result<Predictions> Model::predict(const Dataset& data, const PredictOptions& options) const {
  const auto started = std::chrono::steady_clock::now();
  const auto& spec = impl_->spec;
  if (data.features != spec.input_size()) {
    return make_error("The data has " + std::to_string(data.features) +
                      " features per row but the " +
                      std::string(architecture_name(spec.architecture)) + " model expects " +
                      std::to_string(spec.input_size()) +
                      "; encode it with the same schema the model was built for.");
  }
  if (data.num_classes != spec.num_classes) {
    return make_error("The data has " + std::to_string(data.num_classes) +
                      " classes but the model predicts " + std::to_string(spec.num_classes) + ".");
  }
  if (data.x.size() != data.rows * data.features) {
    return make_error("The data's value count does not match its rows × features.");
  }
  Predictions out;
  out.rows = data.rows;
  out.num_classes = spec.num_classes;
  out.probabilities.resize(data.rows * static_cast<std::size_t>(spec.num_classes));
  if (data.rows == 0) return out;

  if (options.flush_denormals) set_denormal_flush(true);  // model.h: weights may be anyone's
  torch::NoGradGuard no_grad;
  auto& net = *impl_->net;
  net.eval();
  std::size_t batches = 0;
  // LibTorch 1.13 runs a 3D convolution on a batch of ONE volume off its
  // oneDNN path, ~15x slower per volume (measured: 3.9 s against 0.26 s of CPU
  // for a 1x16x120x160 ResNet-18 volume), so no chunk holds a single volume:
  // a remainder of one joins the chunk before it, and a lone volume runs
  // twice. Chunks of 4 volumes took ~5% less CPU per volume than chunks of 2,
  // for ~120 MiB more memory (BENCHMARKS.md, "Hand-off").
  const bool volumes = spec.architecture == Architecture::resnet3d;
  const std::size_t chunk = volumes ? 4 : kPredictChunkRows;
  const auto all = torch::from_blob(
      const_cast<float*>(data.x.data()),
      {static_cast<int64_t>(data.rows), static_cast<int64_t>(data.features)}, torch::kFloat32);
  for (std::size_t start = 0; start < data.rows;) {
    std::size_t n = std::min(chunk, data.rows - start);
    if (volumes && data.rows - start - n == 1) ++n;
    auto input = all.narrow(0, static_cast<int64_t>(start), static_cast<int64_t>(n));
    if (volumes && n == 1) input = input.repeat({2, 1});
    auto logits = net.forward(input).narrow(0, 0, static_cast<int64_t>(n));
    torch::Tensor probs;
    if (spec.num_classes == 2) {
      auto p = torch::sigmoid(logits.view({-1})).to(torch::kFloat64);
      probs = torch::stack({1.0 - p, p}, 1);
    } else {
      probs = torch::softmax(logits, 1).to(torch::kFloat64);
    }
    probs = probs.contiguous();
    std::copy_n(
        probs.data_ptr<double>(), n * static_cast<std::size_t>(spec.num_classes),
        out.probabilities.begin() +
            static_cast<std::ptrdiff_t>(start * static_cast<std::size_t>(spec.num_classes)));
    start += n;
    ++batches;
    if (options.batches_run != nullptr) *options.batches_run = batches;
    if (options.budget && std::chrono::steady_clock::now() - started > *options.budget) {
      const auto ms = [](auto d) {
        return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
      };
      return make_error("Scoring took longer than its budget of " + ms(*options.budget) +
                            " ms: " + std::to_string(start) + " of " + std::to_string(data.rows) +
                            " rows were scored in " +
                            ms(std::chrono::steady_clock::now() - started) + " ms.",
                        kPredictOverBudget);
    }
  }
  return out;
}

}  // namespace baton::learning

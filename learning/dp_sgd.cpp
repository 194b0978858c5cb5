// DP-SGD: Poisson-sampled steps, per-sample gradients (traced or one row at a
// time), clipping, Gaussian noise. See dp_sgd.h and docs/PROTOCOL.md §20.3.
#include "learning/dp_sgd.h"

#include <cmath>
#include <string>
#include <unordered_map>

#include <ATen/CPUGeneratorImpl.h>

#include "chain/privacy_budget.h"
#include "learning/torch_model.h"

namespace baton::learning {
namespace {

constexpr std::uint64_t kOneNano = 1'000'000'000;
// Added to a norm before dividing (Opacus uses 1e-6 too): a zero gradient
// gets factor clip / 1e-6, capped at 1, so it stays zero.
constexpr double kNormFloor = 1e-6;

struct Batch {
  torch::Tensor x;  // {B, features}
  torch::Tensor y;  // {B}: float (binary) or int64 (multi-class)
  torch::Tensor w;  // {B} row weights, or undefined (all 1)
};

// Each row's loss (weighted when w is defined), shape {B}.
torch::Tensor row_losses(const torch::Tensor& logits, const Batch& b, bool binary) {
  torch::Tensor loss;
  if (binary) {
    loss = torch::binary_cross_entropy_with_logits(logits.view({-1}), b.y, {}, {},
                                                   torch::Reduction::None);
  } else {
    loss = torch::nll_loss(torch::log_softmax(logits, 1), b.y, {}, torch::Reduction::None);
  }
  return b.w.defined() ? loss * b.w : loss;
}

// Gradients of a batch in the form both methods produce: for each parameter
// (net.parameters() order), either per-row values {B, ...} (`per_row`) or,
// for a traced Linear weight, the factors dz {B, out} and a {B, in} whose
// outer product is the row's gradient.
struct RowGradients {
  std::vector<torch::Tensor> per_row;  // undefined where factored
  std::vector<torch::Tensor> dz, a;    // defined where factored
  torch::Tensor losses;                // {B}, detached
};

std::size_t parameter_index(const std::vector<torch::Tensor>& params, const torch::Tensor& t) {
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].is_same(t)) return i;
  std::abort();  // a traced layer's tensor that is not a parameter: a bug in model.cpp
}

// The traced method: one forward, one backward to the layers' outputs.
RowGradients traced_gradients(Network& net, const Batch& b, bool binary) {
  const auto params = net.parameters();
  std::vector<LayerTrace> trace;
  torch::Tensor logits;
  if (!net.forward_traced(b.x, trace, logits)) std::abort();  // pre: has_traced_gradients
  const auto losses = row_losses(logits, b, binary);
  std::vector<torch::Tensor> outputs;
  for (const auto& t : trace) outputs.push_back(t.output);
  const auto dzs = torch::autograd::grad({losses.sum()}, outputs);
  RowGradients g;
  g.per_row.resize(params.size());
  g.dz.resize(params.size());
  g.a.resize(params.size());
  std::vector<bool> seen(params.size(), false);
  const int64_t rows = b.x.size(0);
  for (std::size_t l = 0; l < trace.size(); ++l) {
    const auto& t = trace[l];
    const auto wi = parameter_index(params, t.weight);
    const auto bi = parameter_index(params, t.bias);
    seen[wi] = seen[bi] = true;
    const auto a = t.input.detach();
    const auto& dz = dzs[l];
    if (t.conv_kernel == 0) {
      g.dz[wi] = dz;
      g.a[wi] = a;
      g.per_row[bi] = dz;
    } else {
      // Row i's weight gradient is the correlation of its input a_i with its
      // dz_i: one grouped convolution over the whole batch (Rochette et al.
      // 2019), the batch as channels: input aᵀ {Cin, B, H, W}, one group per
      // row with dz_i's Cout maps as kernels -> {Cin, B·Cout, k, k}. oneDNN
      // runs it; the im2col-and-bmm form ran on the reference BLAS, 3x slower.
      const auto cin = a.size(1), cout = dz.size(1);
      const auto corr =
          torch::conv2d(a.transpose(0, 1), dz.reshape({rows * cout, 1, dz.size(2), dz.size(3)}), {},
                        1, t.conv_padding, 1, rows);
      g.per_row[wi] = corr.view({cin, rows, cout, corr.size(2), corr.size(3)})
                          .permute({1, 2, 0, 3, 4})
                          .contiguous();
      const auto dz_flat = dz.reshape({rows, cout, -1});
      g.per_row[bi] = dz_flat.sum(2);
    }
  }
  for (bool s : seen)
    if (!s) std::abort();  // a parameter outside every traced layer: a bug in model.cpp
  g.losses = losses.detach();
  return g;
}

// Squared L2 norm of each row's whole gradient, {B}.
torch::Tensor squared_norms(const RowGradients& g, int64_t rows) {
  auto total = torch::zeros({rows});
  for (std::size_t p = 0; p < g.per_row.size(); ++p) {
    if (g.dz[p].defined()) {
      // |dz_i ⊗ a_i|² = |dz_i|² |a_i|² (the "ghost norm": no {B, out, in} tensor).
      total += g.dz[p].pow(2).sum(1) * g.a[p].pow(2).sum(1);
    } else {
      total += g.per_row[p].reshape({rows, -1}).pow(2).sum(1);
    }
  }
  return total;
}

// Σ_i factor_i × gradient_i for each parameter.
std::vector<torch::Tensor> weighted_sum(const RowGradients& g, const torch::Tensor& factor,
                                        const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out(params.size());
  const int64_t rows = factor.size(0);
  for (std::size_t p = 0; p < params.size(); ++p) {
    if (g.dz[p].defined()) {
      out[p] = torch::mm((g.dz[p] * factor.unsqueeze(1)).t(), g.a[p]);
    } else {
      out[p] =
          torch::mm(factor.unsqueeze(0), g.per_row[p].reshape({rows, -1})).view(params[p].sizes());
    }
  }
  return out;
}

torch::Tensor clip_factors(const torch::Tensor& squared, double clip) {
  return (clip / (squared.sqrt() + kNormFloor)).clamp_max(1.0);
}

// The loop method: one forward and backward per row; `each(i, grads, loss)`
// receives row i's gradients (net.parameters() order).
template <typename Each>
void loop_gradients(Network& net, const Batch& b, bool binary, Each&& each) {
  const auto params = net.parameters();
  for (int64_t i = 0; i < b.x.size(0); ++i) {
    Batch one{b.x.narrow(0, i, 1), b.y.narrow(0, i, 1),
              b.w.defined() ? b.w.narrow(0, i, 1) : torch::Tensor()};
    const auto loss = row_losses(net.forward(one.x), one, binary).sum();
    auto grads = torch::autograd::grad({loss}, params, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                       /*create_graph=*/false, /*allow_unused=*/true);
    for (std::size_t p = 0; p < grads.size(); ++p)
      if (!grads[p].defined()) grads[p] = torch::zeros_like(params[p]);
    each(i, grads, loss.item<double>());
  }
}

// The clipped sum of a batch's row gradients and the sum of its rows' losses.
std::vector<torch::Tensor> clipped_sum(Network& net, const Batch& b, bool binary, double clip,
                                       PerSampleMethod method, double& loss_sum) {
  const auto params = net.parameters();
  if (method == PerSampleMethod::traced) {
    const auto g = traced_gradients(net, b, binary);
    loss_sum += g.losses.sum().item<double>();
    return weighted_sum(g, clip_factors(squared_norms(g, b.x.size(0)), clip), params);
  }
  std::vector<torch::Tensor> sum;
  for (const auto& p : params) sum.push_back(torch::zeros_like(p));
  loop_gradients(net, b, binary, [&](int64_t, std::vector<torch::Tensor>& grads, double loss) {
    auto squared = torch::zeros({1});
    for (const auto& g : grads) squared += g.pow(2).sum();
    const auto factor = clip_factors(squared, clip);
    for (std::size_t p = 0; p < grads.size(); ++p) sum[p] += grads[p] * factor;
    loss_sum += loss;
  });
  return sum;
}

Batch whole_data(const Model& model, const Dataset& data, bool class_weighting) {
  const bool binary = model.spec().num_classes == 2;
  Batch b;
  b.x = rows_tensor(data);
  std::vector<int64_t> labels(data.y.begin(), data.y.end());
  b.y = torch::from_blob(labels.data(), {static_cast<int64_t>(data.rows)}, torch::kInt64).clone();
  if (binary) b.y = b.y.to(torch::kFloat32);
  if (class_weighting) b.w = class_row_weights(data, model.spec().num_classes);
  return b;
}

std::vector<float> flatten(const std::vector<torch::Tensor>& tensors) {
  std::vector<float> out;
  for (const auto& t : tensors) {
    const auto c = t.contiguous();
    out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return out;
}

PerSampleMethod method_for(const ModelSpec& spec) {
  return has_traced_gradients(spec) ? PerSampleMethod::traced : PerSampleMethod::loop;
}

}  // namespace

bool has_traced_gradients(const ModelSpec& spec) {
  return spec.architecture == Architecture::mlp || spec.architecture == Architecture::cnn2d;
}

Result<TrainReport> train_dp_sgd(Model& model, const Dataset& data, const TrainSettings& s) {
  const auto& dp = *s.dp_sgd;
  auto& net = *model.impl().net;
  const bool binary = model.spec().num_classes == 2;
  const auto method = method_for(model.spec());
  const auto rows = static_cast<int64_t>(data.rows);
  const auto all = whole_data(model, data, s.class_weighting);
  const auto params = net.parameters();
  const std::uint64_t steps = chain::dp_steps_per_epoch(dp.sampling_rate_nano);
  const double q = static_cast<double>(dp.sampling_rate_nano) / static_cast<double>(kOneNano);
  const double expected_batch = q * static_cast<double>(rows);
  const double noise_std = dp.noise_multiplier * dp.clip;
  int64_t total_values = 0;
  for (const auto& p : params) total_values += p.numel();

  // Two streams from the one seed: the row draws (SplitMix64 from the seed,
  // as plain training's shuffle) and the noise (a LibTorch CPU generator
  // seeded with a value derived from it, so the two never coincide).
  std::uint64_t sample_state = s.seed;
  std::uint64_t noise_seed_state = s.seed ^ 0x6470736764206e6full;  // "dpsgd no"
  auto noise = at::make_generator<at::CPUGeneratorImpl>(splitmix64(noise_seed_state));

  auto optimizer = make_optimizer(net, s);
  net.train();
  TrainReport report;
  std::vector<int64_t> picked;
  for (int epoch = 0; epoch < s.epochs; ++epoch) {
    double loss_sum = 0;
    std::size_t loss_rows = 0;
    for (std::uint64_t step = 0; step < steps; ++step) {
      picked.clear();
      for (int64_t i = 0; i < rows; ++i)
        if (uniform_below(kOneNano, sample_state) < dp.sampling_rate_nano) picked.push_back(i);
      std::vector<torch::Tensor> sum;
      if (picked.empty()) {
        for (const auto& p : params) sum.push_back(torch::zeros_like(p));
      } else {
        const auto index =
            torch::from_blob(picked.data(), {static_cast<int64_t>(picked.size())}, torch::kInt64);
        const Batch b{all.x.index_select(0, index), all.y.index_select(0, index),
                      all.w.defined() ? all.w.index_select(0, index) : torch::Tensor()};
        sum = clipped_sum(net, b, binary, dp.clip, method, loss_sum);
        loss_rows += picked.size();
      }
      // One draw for every parameter value (serialized order), then views.
      const auto draws = torch::normal(0.0, noise_std, {total_values}, noise);
      int64_t offset = 0;
      for (std::size_t p = 0; p < params.size(); ++p) {
        const auto n = params[p].numel();
        params[p].mutable_grad() =
            (sum[p] + draws.narrow(0, offset, n).view(params[p].sizes())) / expected_batch;
        offset += n;
      }
      optimizer->step();
      ++report.steps;
    }
    const double mean = loss_rows ? loss_sum / static_cast<double>(loss_rows) : 0.0;
    if (!std::isfinite(mean)) {
      return make_error("Training diverged: the loss became " + std::to_string(mean) +
                        " in epoch " + std::to_string(epoch + 1) +
                        "; check the data for infinite values or lower the learning rate.");
    }
    report.epoch_loss.push_back(mean);
    report.samples_seen += data.rows;
  }
  net.eval();
  return report;
}

Result<std::vector<std::vector<float>>> per_sample_gradients(Model& model, const Dataset& data,
                                                             bool class_weighting,
                                                             PerSampleMethod method) {
  if (method == PerSampleMethod::traced && !has_traced_gradients(model.spec()))
    return make_error("This architecture has no traced per-sample gradients; use the loop.");
  auto& net = *model.impl().net;
  const bool binary = model.spec().num_classes == 2;
  const auto b = whole_data(model, data, class_weighting);
  const auto rows = static_cast<int64_t>(data.rows);
  std::vector<std::vector<float>> out(data.rows);
  try {
    if (method == PerSampleMethod::loop) {
      loop_gradients(net, b, binary, [&](int64_t i, std::vector<torch::Tensor>& grads, double) {
        out[static_cast<std::size_t>(i)] = flatten(grads);
      });
      return out;
    }
    const auto g = traced_gradients(net, b, binary);
    for (int64_t i = 0; i < rows; ++i) {
      std::vector<torch::Tensor> row;
      for (std::size_t p = 0; p < g.per_row.size(); ++p) {
        row.push_back(g.dz[p].defined() ? torch::outer(g.dz[p][i], g.a[p][i]) : g.per_row[p][i]);
      }
      out[static_cast<std::size_t>(i)] = flatten(row);
    }
  } catch (const std::exception& e) {
    return make_error(std::string("Per-sample gradients failed inside LibTorch: ") + e.what());
  }
  return out;
}

Result<std::vector<float>> clipped_gradient_sum(Model& model, const Dataset& data, double clip,
                                                bool class_weighting, PerSampleMethod method) {
  if (method == PerSampleMethod::traced && !has_traced_gradients(model.spec()))
    return make_error("This architecture has no traced per-sample gradients; use the loop.");
  auto& net = *model.impl().net;
  const auto b = whole_data(model, data, class_weighting);
  double loss_sum = 0;
  try {
    return flatten(clipped_sum(net, b, model.spec().num_classes == 2, clip, method, loss_sum));
  } catch (const std::exception& e) {
    return make_error(std::string("Clipped gradients failed inside LibTorch: ") + e.what());
  }
}

}  // namespace baton::learning

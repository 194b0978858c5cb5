// The local training loop (mini-batch, Adam or SGD, optional class weights),
// deterministic on CPU for a given seed and thread count; under DP-SGD,
// train() hands over to dp_sgd.cpp.
#include <cmath>
#include <memory>
#include <string>

#include "learning/dp_sgd.h"
#include "learning/torch_model.h"
#include "learning/train.h"

namespace baton::learning {

// SplitMix64 (Steele, Lea, Flood 2014): tiny, fully specified, good enough to
// shuffle batches. Written out so the order never depends on a library.
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, bound) without modulo bias (rejection of the short range).
std::uint64_t uniform_below(std::uint64_t bound, std::uint64_t& state) {
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t r = splitmix64(state);
    if (r >= threshold) return r % bound;
  }
}

torch::Tensor class_row_weights(const Dataset& data, int num_classes) {
  const auto counts = data.class_counts();
  std::vector<float> w(data.rows);
  for (std::size_t i = 0; i < data.rows; ++i) {
    const auto c = counts[static_cast<std::size_t>(data.y[i])];
    w[i] =
        static_cast<float>(static_cast<double>(data.rows) / (static_cast<double>(num_classes) * c));
  }
  return torch::from_blob(w.data(), {static_cast<int64_t>(data.rows)}, torch::kFloat32).clone();
}

namespace {

constexpr std::size_t kEpochGatherBytes = std::size_t{256} << 20;

Result<TrainReport> train_loop(Model& model, const Dataset& data, const TrainSettings& s) {
  const auto& spec = model.spec();
  auto& net = *model.impl().net;
  const bool binary = spec.num_classes == 2;
  const auto rows = static_cast<int64_t>(data.rows);

  // On the CPU every tensor stays where it is (to() is then a no-op).
  const torch::Device device(s.device);
  net.to(device);
  const auto x = rows_tensor(data).to(device);
  std::vector<int64_t> labels(data.y.begin(), data.y.end());
  const auto y_index = torch::from_blob(labels.data(), {rows}, torch::kInt64).clone().to(device);
  const auto y_float = y_index.to(torch::kFloat32);

  torch::Tensor row_weight;  // undefined: plain mean
  if (s.class_weighting) row_weight = class_row_weights(data, spec.num_classes).to(device);

  auto optimizer = make_optimizer(net, s);
  net.train();
  TrainReport report;
  std::uint64_t rng = s.seed;
  for (int epoch = 0; epoch < s.epochs; ++epoch) {
    const auto order = shuffled_order(data.rows, rng);
    std::vector<int64_t> order64(order.begin(), order.end());
    const auto perm = torch::from_blob(order64.data(), {rows}, torch::kInt64).to(device);
    // Small data: one gather per epoch, then batches are views (narrow), which
    // saves two operations per step where per-op overhead dominates. Large
    // data (volumes): gather each batch, so the rows are never held twice.
    const bool gather_epoch = data.x.size() * sizeof(float) <= kEpochGatherBytes;
    const auto x_epoch = gather_epoch ? x.index_select(0, perm) : x;
    const auto y_all = binary ? y_float : y_index;
    const auto y_epoch = y_all.index_select(0, perm);
    const auto w_epoch = row_weight.defined() ? row_weight.index_select(0, perm) : torch::Tensor();
    double loss_sum = 0;
    for (int64_t start = 0; start < rows; start += s.batch_size) {
      const int64_t n = std::min<int64_t>(s.batch_size, rows - start);
      const auto xb =
          gather_epoch ? x_epoch.narrow(0, start, n) : x.index_select(0, perm.narrow(0, start, n));
      const auto yb = y_epoch.narrow(0, start, n);
      optimizer->zero_grad();
      const auto logits = net.forward(xb);
      torch::Tensor loss;
      const auto reduction = row_weight.defined() ? torch::Reduction::None : torch::Reduction::Mean;
      if (binary) {
        loss = torch::binary_cross_entropy_with_logits(logits.view({-1}), yb, {}, {}, reduction);
      } else {
        loss = torch::nll_loss(torch::log_softmax(logits, 1), yb, {}, reduction);
      }
      if (row_weight.defined()) {
        const auto wb = w_epoch.narrow(0, start, n);
        loss = (loss * wb).sum() / wb.sum();
      }
      loss.backward();
      optimizer->step();
      const double value = loss.item<double>();
      if (!std::isfinite(value)) {
        return make_error("Training diverged: the loss became " + std::to_string(value) +
                          " in epoch " + std::to_string(epoch + 1) +
                          "; check the data for infinite values or lower the learning rate.");
      }
      loss_sum += value * static_cast<double>(n);
      ++report.steps;
    }
    report.epoch_loss.push_back(loss_sum / static_cast<double>(rows));
    report.samples_seen += data.rows;
  }
  net.to(torch::kCPU);
  net.eval();
  return report;
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(Network& net, const TrainSettings& s) {
  if (s.optimizer == Optimizer::adam) {
    return std::make_unique<torch::optim::Adam>(
        net.parameters(), torch::optim::AdamOptions(s.learning_rate).weight_decay(s.weight_decay));
  }
  return std::make_unique<torch::optim::SGD>(
      net.parameters(),
      torch::optim::SGDOptions(s.learning_rate).momentum(s.momentum).weight_decay(s.weight_decay));
}

std::string_view optimizer_name(Optimizer o) { return o == Optimizer::adam ? "adam" : "sgd"; }

Result<Optimizer> parse_optimizer(std::string_view name) {
  if (name == "adam") return Optimizer::adam;
  if (name == "sgd") return Optimizer::sgd;
  return make_error("Unknown optimizer \"" + std::string(name) + "\"; use \"adam\" or \"sgd\".");
}

Status validate(const TrainSettings& s) {
  if (s.epochs < 0 || s.epochs > 100000) return make_error("epochs must be between 0 and 100000.");
  if (s.batch_size < 1 || s.batch_size > 1000000)
    return make_error("batch size must be between 1 and 1000000.");
  if (!(s.learning_rate > 0) || !std::isfinite(s.learning_rate)) {
    return make_error("learning rate must be a positive finite number.");
  }
  if (!(s.weight_decay >= 0) || !std::isfinite(s.weight_decay)) {
    return make_error("weight decay must be a finite number >= 0.");
  }
  if (!(s.momentum >= 0) || !std::isfinite(s.momentum))
    return make_error("momentum must be a finite number >= 0.");
  if (s.threads < 1 || s.threads > 256) return make_error("threads must be between 1 and 256.");
  if (s.dp_sgd) {
    const auto& dp = *s.dp_sgd;
    if (!(dp.clip > 0) || !std::isfinite(dp.clip))
      return make_error("DP-SGD clip must be a positive finite number.");
    if (!(dp.noise_multiplier > 0) || !std::isfinite(dp.noise_multiplier))
      return make_error("DP-SGD noise multiplier must be a positive finite number.");
    if (dp.sampling_rate_nano < 1 || dp.sampling_rate_nano > 1'000'000'000) {
      return make_error("DP-SGD sampling rate must be between 1 and 10^9 nano (a rate in (0, 1]).");
    }
  }
  return {};
}

std::vector<std::size_t> shuffled_order(std::size_t n, std::uint64_t& rng_state) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  for (std::size_t i = n; i > 1; --i) {
    const auto j = static_cast<std::size_t>(uniform_below(i, rng_state));
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

Result<TrainReport> train(Model& model, const Dataset& data, const TrainSettings& settings) {
  if (auto st = validate(settings); !st) return st.error();
  const auto& spec = model.spec();
  if (data.features != spec.input_size() || data.num_classes != spec.num_classes) {
    return make_error("The training data has " + std::to_string(data.features) + " features and " +
                      std::to_string(data.num_classes) + " classes but the model expects " +
                      std::to_string(spec.input_size()) + " and " +
                      std::to_string(spec.num_classes) + "; encode it with the model's schema.");
  }
  if (data.x.size() != data.rows * data.features || data.y.size() != data.rows) {
    return make_error("The training data's value or label count does not match its rows.");
  }
  for (int label : data.y) {
    if (label < 0 || label >= spec.num_classes) {
      return make_error("The training data has label " + std::to_string(label) + " outside 0.." +
                        std::to_string(spec.num_classes - 1) + ".");
    }
  }
  if (data.rows == 0) {
    if (settings.epochs > 0)
      return make_error("There are no training rows; a partner needs at least one.");
    return TrainReport{};
  }
  if (settings.dp_sgd && has_batch_norm(spec)) {
    return make_error(
        "DP-SGD cannot train a model with batch norm: batch norm mixes the rows of a batch, so "
        "clipping each row's gradient would not bound its influence; use a resnet3d spec with "
        "\"norm\":\"group\".");
  }
  if (settings.device != "cpu" && settings.dp_sgd)
    return make_error("DP-SGD trains on the CPU only; set [training] device = \"cpu\".");
  init_torch(settings.threads);
  set_denormal_flush(true);  // model.h: the weights (the head) may be anyone's
  try {
    if (settings.dp_sgd) return train_dp_sgd(model, data, settings);
    return train_loop(model, data, settings);
  } catch (const std::exception& e) {
    // LibTorch reports shape problems by exception (e.g. batch norm on a
    // batch of one); they come from the data's shape, so they are errors.
    return make_error(std::string("Training failed inside LibTorch: ") + e.what());
  }
}

}  // namespace baton::learning

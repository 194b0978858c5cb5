// What scoring a hostile candidate costs a voter (issue 11, section 6). The
// partner writes every byte of its candidate; weights of +-1e-39 (denormal
// floats) or normal weights whose products are denormal (1e-20, then 1e-22)
// make x86 arithmetic 15-50x slower unless flush-to-zero is on. For each
// model, this prints the time of one evaluation (Model::predict over the
// validation rows, on this thread and its LibTorch pool):
//   old      flush-to-zero off, as before issue 11 (PredictOptions::
//            flush_denormals = false on threads whose mode was cleared)
//   new      what a voter does now (predict() turns flushing on)
//   budget   the evaluation budget the plan gives (agent/model_handoff.h,
//            default EvaluationBudget), and the MAC rate of the normal model,
//            which the budget's assumed rates must stay well below.
// Asserts nothing.
//
//   baton-bench-candidate [--repeats N] [--threads T] [--rows R] [--resnet]
//                         [--resnet-only] [--volumes V]
// --rows: validation rows of the larger MLP (256-1024-1024-1); --resnet adds
// the paper's 3D ResNet-18 (1x16x120x160 volumes, --volumes of them).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_help.h"
#include "learning/torch_version.h"
#include "learning/model.h"
#include "agent/model_handoff.h"

namespace ln = baton::learning;
namespace nd = baton::agent;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "baton-bench-candidate: %s\n", what.c_str());
  std::exit(1);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

ln::Dataset rows_of(std::size_t rows, std::size_t features) {
  ln::Dataset d;
  d.rows = rows;
  d.features = features;
  d.class_names = {"no", "yes"};
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> u(0.5f, 2.0f);  // positive: ReLUs pass them on
  for (std::size_t i = 0; i < rows; ++i) {
    d.y.push_back(static_cast<int>(i % 2));
    for (std::size_t f = 0; f < features; ++f) d.x.push_back(u(rng));
  }
  return d;
}

// The model of `spec` with every value of every tensor set to value(tensor),
// through its bytes, as a candidate arrives.
ln::Model rewritten(const ln::ModelSpec& spec,
                    const std::function<float(const ln::TensorLayout&)>& value) {
  auto model = ln::Model::create(spec, 1);
  if (!model) die(model.error().message);
  auto blob = ln::serialize(*model);
  std::size_t at = 16 + ln::to_json(spec).size() + 4;
  for (const auto& t : ln::tensor_layout(spec)) {
    at += 2 + t.name.size() + 2 + 8 * t.dims.size();
    std::size_t n = 1;
    for (auto d : t.dims) n *= static_cast<std::size_t>(d);
    if (t.is_float) {
      const float v = value(t);
      for (std::size_t i = 0; i < n; ++i) std::memcpy(blob.data() + at + 4 * i, &v, 4);
    }
    at += (t.is_float ? 4 : 8) * n;
  }
  auto back = ln::deserialize(blob, spec);
  if (!back) die(back.error().message);
  return std::move(*back);
}

bool is_weight(const ln::TensorLayout& t) { return t.dims.size() >= 2; }

// Batch norms pass values through unchanged (scale and variance 1, shift and
// mean 0), so that the weights alone decide what the products are.
std::optional<float> batch_norm_identity(const ln::TensorLayout& t) {
  if (t.dims.size() != 1 || t.name.find("bn") == std::string::npos) return std::nullopt;
  const bool one = t.name.ends_with(".weight") || t.name.ends_with(".running_var");
  return one ? 1.0f : 0.0f;
}

struct Case {
  std::string name;
  ln::Model model;
};

std::vector<Case> cases_for(const ln::ModelSpec& spec) {
  std::vector<Case> out;
  auto normal = ln::Model::create(spec, 1);
  if (!normal) die(normal.error().message);
  out.push_back({"normal weights", std::move(*normal)});
  out.push_back({"weights 1e-39 (denormal)", rewritten(spec, [](const ln::TensorLayout& t) {
                   if (auto bn = batch_norm_identity(t)) return *bn;
                   return is_weight(t) ? 1e-39f : 0.0f;
                 })});
  // The first layer's outputs are ~1e-19, every later product ~1e-41.
  const std::string first = ln::tensor_layout(spec).front().name;
  out.push_back({"weights 1e-20, 1e-22 (denormal products)",
                 rewritten(spec, [first](const ln::TensorLayout& t) {
                   if (auto bn = batch_norm_identity(t)) return *bn;
                   if (!is_weight(t)) return 0.0f;
                   return t.name == first ? 1e-20f : 1e-22f;
                 })});
  return out;
}

double time_predict(const ln::Model& model, const ln::Dataset& data, bool flush, int repeats) {
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    ln::set_denormal_flush(false);  // this thread and its pool, as before issue 11
    ln::PredictOptions options;
    options.flush_denormals = flush;
    const auto t0 = Clock::now();
    auto p = model.predict(data, options);
    times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (!p) die(p.error().message);
  }
  return median(times);
}

void run(const ln::ModelSpec& spec, std::size_t rows, int repeats) {
  const ln::Dataset data = rows_of(rows, spec.input_size());
  const double macs = ln::forward_macs(spec) * static_cast<double>(rows);
  const double budget_s = std::chrono::duration<double>(nd::evaluation_budget(spec, rows)).count();
  std::printf("\n%s, %zu rows: %.3g MAC per evaluation, plan budget %.1f s\n",
              ln::to_json(spec).c_str(), rows, macs, budget_s);
  std::printf("  %-42s %12s %12s %8s %10s\n", "model", "old (s)", "new (s)", "old/new",
              "GMAC/s new");
  for (const auto& c : cases_for(spec)) {
    const double old_s = time_predict(c.model, data, false, repeats);
    const double new_s = time_predict(c.model, data, true, repeats);
    std::printf("  %-42s %12.4f %12.4f %8.1f %10.2f\n", c.name.c_str(), old_s, new_s, old_s / new_s,
                macs / new_s / 1e9);
  }
}

}  // namespace

int main(int argc, char** argv) {
  baton::bench::answer_version(argc, argv, "baton-bench-candidate",
                               baton::learning::libtorch_version());
  baton::bench::answer_help(
      argc, argv,
      "usage: baton-bench-candidate [--repeats N] [--threads T] [--rows N] [--resnet] "
      "[--resnet-only] [--volumes N]\nWhat scoring a hostile (denormal) candidate costs a voter; "
      "prints figures, asserts nothing.\n");
  int repeats = 3, threads = 1;
  std::size_t rows = 1024;
  bool resnet = false, resnet_only = false;
  std::size_t volumes = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--repeats") {
      repeats = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--threads") {
      threads = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--rows") {
      rows = static_cast<std::size_t>(std::max(1, std::atoi(next().c_str())));
    } else if (a == "--resnet") {
      resnet = true;
    } else if (a == "--resnet-only") {
      resnet_only = true;
    } else if (a == "--volumes") {
      volumes = static_cast<std::size_t>(std::max(2, std::atoi(next().c_str())));
    } else {
      die("unknown argument " + a +
          "; usage: baton-bench-candidate [--repeats N] [--threads T] [--rows R] [--resnet] "
          "[--resnet-only] [--volumes V]");
    }
  }
  ln::init_torch(threads);
  std::ifstream loadavg("/proc/loadavg");
  std::string load;
  std::getline(loadavg, load);
  std::printf("baton-bench-candidate: %d LibTorch thread(s), median of %d, loadavg %s\n", threads,
              repeats, load.c_str());
  if (!resnet_only) {
    run(ln::ModelSpec::mlp(30, {64, 32}), 28, std::max(repeats, 21));  // the demo's plan
    run(ln::ModelSpec::mlp(256, {1024, 1024}), rows, repeats);
  }
  if (resnet || resnet_only) run(ln::ModelSpec::resnet3d(), volumes, repeats);  // the paper's
  std::ifstream loadavg_end("/proc/loadavg");
  std::getline(loadavg_end, load);
  std::printf("\nloadavg at the end: %s\n", load.c_str());
  return 0;
}

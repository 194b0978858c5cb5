// 3D ResNet-18 (the paper's CT model): training throughput, forward+backward
// with Adam, batch 2, on synthetic 1×16×120×160 volumes, and the process's
// peak resident memory. Prints figures; asserts nothing.
//
//   baton_bench_resnet3d [--steps N] [--threads T] [--batch B]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "bench/bench_help.h"
#include "learning/torch_version.h"
#include "learning/model.h"
#include "learning/train.h"

namespace ln = baton::learning;

int main(int argc, char** argv) {
  baton::bench::answer_version(argc, argv, "baton_bench_resnet3d",
                               baton::learning::libtorch_version());
  baton::bench::answer_help(
      argc, argv,
      "usage: baton_bench_resnet3d [--steps N] [--threads T] [--batch B]\n3D ResNet-18 training "
      "throughput and peak memory on synthetic volumes; prints figures, asserts nothing.\n");
  int steps = 5, threads = 1, batch = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const int v = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--steps") == 0)
      steps = v;
    else if (std::strcmp(argv[i], "--threads") == 0)
      threads = v;
    else if (std::strcmp(argv[i], "--batch") == 0)
      batch = v;
    else {
      std::fprintf(stderr, "usage: baton_bench_resnet3d [--steps N] [--threads T] [--batch B]\n");
      return 2;
    }
  }
  if (steps < 1 || threads < 1 || batch < 1) {
    std::fprintf(stderr, "baton_bench_resnet3d: --steps, --threads and --batch must be positive\n");
    return 2;
  }
  ln::init_torch(threads);
  const auto spec = ln::ModelSpec::resnet3d({1, 16, 120, 160});
  auto model = ln::Model::create(spec, 1);
  if (!model.ok()) {
    std::fprintf(stderr, "baton_bench_resnet3d: %s\n", model.error().message.c_str());
    return 1;
  }
  // Synthetic volumes: standard normal voxels, alternating labels.
  ln::Dataset data;
  data.rows = static_cast<std::size_t>(batch);
  data.features = spec.input_size();
  data.image_shape = {1, 16, 120, 160};
  data.class_names = {"0", "1"};
  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal(0.f, 1.f);
  data.x.resize(data.rows * data.features);
  for (auto& v : data.x) v = normal(rng);
  for (std::size_t i = 0; i < data.rows; ++i) data.y.push_back(static_cast<int>(i % 2));

  ln::TrainSettings s;
  s.batch_size = batch;
  s.threads = threads;
  s.epochs = 1;                                              // one step per call (rows == batch)
  if (auto warm = ln::train(*model, data, s); !warm.ok()) {  // warm-up step (allocator, kernels)
    std::fprintf(stderr, "baton_bench_resnet3d: %s\n", warm.error().message.c_str());
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  s.epochs = steps;
  auto report = ln::train(*model, data, s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!report.ok()) {
    std::fprintf(stderr, "baton_bench_resnet3d: %s\n", report.error().message.c_str());
    return 1;
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("3D ResNet-18 (%zu parameters), input 1x16x120x160, batch %d, Adam, %d thread(s)\n",
              model->parameter_count(), batch, threads);
  std::printf(
      "  %d timed steps (after 1 warm-up): %.2f s, %.3f s/step, %.3f samples/s "
      "(forward+backward+step)\n",
      steps, seconds, seconds / steps, steps * batch / seconds);
  std::printf("  peak RSS %.0f MiB\n", static_cast<double>(usage.ru_maxrss) / 1024.0);
  return 0;
}

// baton-bench-privacy [--repeat N]
//
// What one call of the Rényi-DP accountant (chain/privacy_accountant.h)
// costs: a node will evaluate it for every SaveRequest of a run with DP-SGD
// (issue 14), so it must stay in the millisecond range whatever a plan says.
// Prints, per case, the median over N repeats of the CPU time of one
// epsilon_spent call (CLOCK_PROCESS_CPUTIME_ID, one thread), and the ε it
// gave so that a reader can check the case is the published one:
//   1-3. TensorFlow Privacy's MNIST table (q = 256/60000, δ = 1e-5,
//        steps = epochs x 234): σ 1.12 x 60 epochs, 0.6 x 30, 1.2 x 10;
//   4.   the slowest corner found when the accountant was written (σ 0.6,
//        q 0.1), where the fractional-order series converge slowest;
//   5.   q = 1 (the closed form at every order);
//   6.   one whole smallest_noise_multiplier bisection (target ε 3, MNIST q).
// The cost does not depend on the number of steps (it is a multiplier).
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_help.h"
#include "bench/bench_util.h"
#include "chain/privacy_accountant.h"

namespace {

namespace chain = baton::chain;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "baton-bench-privacy: %s\n", what.c_str());
  std::exit(2);
}

using baton::bench::load_average;

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <class F>
double median_cpu_ms(int repeat, F&& f) {
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    const double t = cpu_seconds();
    f();
    ms.push_back((cpu_seconds() - t) * 1e3);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

struct Case {
  const char* name;
  chain::PrivacyParameters p;
};

}  // namespace

int main(int argc, char** argv) {
  baton::bench::answer_version(argc, argv, "baton-bench-privacy");
  baton::bench::answer_help(argc, argv,
                            "usage: baton-bench-privacy [--repeat N]\nWhat one call of the "
                            "Renyi-DP accountant costs; prints figures, asserts nothing.\n");
  int repeat = 21;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], v = argv[i + 1];
    if (flag == "--repeat")
      repeat = std::atoi(v.c_str());
    else
      die("unknown flag " + flag + " (usage: baton-bench-privacy [--repeat N])");
  }
  if (repeat <= 0) die("--repeat must be >= 1");
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("machine: %u hardware threads; load average %s\n",
              std::thread::hardware_concurrency(), load_average().c_str());

  constexpr std::uint64_t kMnistQ = 4'266'667;  // ceil(256/60000 x 10^9)
  constexpr std::uint64_t kDelta = 10'000'000;  // 1e-5 in pico-units
  const Case cases[] = {
      {"MNIST sigma 1.12, 60 epochs", {1'120'000, kMnistQ, 60 * 234, kDelta}},
      {"MNIST sigma 0.6, 30 epochs", {600'000, kMnistQ, 30 * 234, kDelta}},
      {"MNIST sigma 1.2, 10 epochs", {1'200'000, kMnistQ, 10 * 234, kDelta}},
      {"sigma 0.6, q 0.1, 1000 steps", {600'000, 100'000'000, 1000, kDelta}},
      {"sigma 1.0, q 1, 1000 steps", {1'000'000, 1'000'000'000, 1000, kDelta}},
  };
  std::printf("%-32s %14s %14s %8s\n", "case", "CPU ms / call", "epsilon", "order");
  for (const Case& c : cases) {
    auto spent = chain::epsilon_spent(c.p);
    if (!spent) die(spent.error().message);
    const double ms = median_cpu_ms(repeat, [&] {
      if (!chain::epsilon_spent(c.p)) die("the accountant failed on a case it passed before");
    });
    std::printf("%-32s %14.3f %14.6f %6u.%u\n", c.name, ms,
                static_cast<double>(spent->epsilon_micro) / 1e6, spent->order_tenths / 10,
                spent->order_tenths % 10);
  }
  chain::PrivacyParameters mnist{0, kMnistQ, 60 * 234, kDelta};
  auto sigma = chain::smallest_noise_multiplier(mnist, 3'000'000);
  if (!sigma) die(sigma.error().message);
  const double ms = median_cpu_ms(std::max(1, repeat / 4), [&] {
    if (!chain::smallest_noise_multiplier(mnist, 3'000'000)) die("the bisection failed");
  });
  std::printf("%-32s %14.3f %14s sigma %.6f\n", "bisection: smallest sigma, eps 3", ms, "",
              static_cast<double>(*sigma) / 1e6);
  return 0;
}

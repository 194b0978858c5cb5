// Flush-to-zero for denormal floats on every thread that runs Baton's LibTorch
// ops (the contract and the reasons are in model.h, above set_denormal_flush).
//
// This file is compiled with -fopenmp (learning/CMakeLists.txt), and must be:
// at::parallel_for is a header template, and without _OPENMP its OpenMP
// version runs the whole range on the calling thread, so the pool's threads
// would never be reached (tests/learning/denormal_test.cpp saw exactly that:
// one thread of two). With it, the parallel region opened here is the same
// libgomp team of the calling thread that ATen's and oneDNN's own kernels use.
#include <mutex>
#include <set>
#include <thread>

#include "learning/torch_model.h"

#ifndef _OPENMP
#error "learning/denormal.cpp must be compiled with OpenMP (see its file comment)"
#endif

namespace baton::learning {
namespace {

// Runs `f` once on the calling thread and once on each other thread of its
// intra-op pool: at::parallel_for over [0, n) with grain 1 gives OpenMP team
// thread i the chunk [i, i + 1), and the team is the calling thread's pool.
template <class F>
void on_each_pool_thread(F f) {
  const int n = at::get_num_threads();
  if (n <= 1 || at::in_parallel_region()) {
    f();
    return;
  }
  at::parallel_for(0, n, 1, [&](std::int64_t, std::int64_t) { f(); });
}

}  // namespace

void set_denormal_flush(bool on) {
  // setFlushDenormal writes the calling thread's MXCSR (FTZ and DAZ).
  at::globalContext().setFlushDenormal(on);
  on_each_pool_thread([on] { at::globalContext().setFlushDenormal(on); });
}

DenormalFlushCheck check_denormal_flush() {
  std::mutex mu;
  std::set<std::thread::id> seen, flushing;
  on_each_pool_thread([&] {
    // Inside a parallel region LibTorch runs these ops on this thread alone.
    const auto denormal = torch::full({8}, 1e-39f);  // below FLT_MIN: denormal
    const auto tiny = torch::full({8}, 1e-20f);      // normal; its square is not
    const bool daz_or_ftz = (denormal * 1.0f).eq(0).all().item<bool>();
    const bool ftz = (tiny * tiny).eq(0).all().item<bool>();
    std::lock_guard lock(mu);
    seen.insert(std::this_thread::get_id());
    if (daz_or_ftz && ftz) flushing.insert(std::this_thread::get_id());
  });
  return DenormalFlushCheck{static_cast<int>(seen.size()), static_cast<int>(flushing.size()),
                            at::get_num_threads()};
}

}  // namespace baton::learning

// Models for chained learning: an MLP for tabular data, a small 2D CNN for
// 28×28 images and the paper's 3D ResNet-18 for CT volumes, built from a
// ModelSpec (learning/model_spec.h). LibTorch lives behind a pimpl, so this
// header is torch-free and compiles fast, but everything it declares is
// defined in baton_learning, which links LibTorch: code that needs only the
// spec (its JSON, validation, layout and sizes) includes model_spec.h and
// links baton_learning_core.
//
// A Model is an owned value (move-only; clone() copies). It is not safe to use
// one Model from two threads at once; distinct Models may be used from
// distinct threads, but LibTorch's thread pool is process-wide (init_torch).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/crypto.h"
#include "chain/result.h"
#include "learning/dataset.h"
#include "learning/model_spec.h"

namespace baton::learning {

// Sets LibTorch's intra-op thread count to `threads` (>= 1) and its inter-op
// pool to one thread. Call it once at start-up, before any other LibTorch
// call (FACTS.md: several threads each calling into torch oversubscribe the
// cores). Idempotent: later calls with the same count do nothing; a later
// call with another count changes the intra-op count only (the inter-op pool
// can be sized once per process). Model::create() initialises with 1 thread
// when nobody called it yet; train() calls it with its settings' count.
void init_torch(int threads = 1);

// Denormal floats (issue 11, section 6). A candidate's weights are chosen by
// its partner: weights of +-1e-39, or normal weights whose products are
// denormal (1e-20 then 1e-22), slow x86 floating point 15-50x unless the
// MXCSR bits FTZ (flush results to zero) and DAZ (read denormal inputs as
// zero) are set. at::globalContext().setFlushDenormal(true) sets them on the
// calling thread only: MXCSR is per thread (a new thread inherits its
// creator's). The threads that run Baton's LibTorch ops are the calling
// thread and its intra-op pool: this Debian build's ATen and oneDNN both use
// OpenMP (libgomp), whose pool belongs to the thread that opens the parallel
// region (the agent's worker thread has its own, each experiment worker
// too); BLAS is netlib's reference library (Debian 12's default), which runs
// on the calling thread; XNNPACK's pthreadpool and the inter-op pool run
// none of Baton's ops. So the entry points that run a model, predict() and
// train(), call set_denormal_flush(true) on whatever thread calls them, each
// time (a pool may have been resized or recreated since): it sets FTZ/DAZ on
// that thread, then runs one at::parallel_for chunk on each thread of its
// pool that sets them there (OpenMP gives team thread i the chunk [i, i+1),
// and a team's threads are its pool's). That code (learning/denormal.cpp) is
// compiled with -fopenmp: at::parallel_for is a header template that runs
// serially on the calling thread without it, reaching no pool thread, which
// is what the test below first measured. Checked, not assumed:
// tests/learning/denormal_test.cpp clears the mode on a fresh thread and its
// pool (1 and 2 intra-op threads), runs predict() or train() on a denormal
// model there, and reads every thread's mode back with
// check_denormal_flush(). Not covered: a BLAS with a thread pool of its own
// (OpenBLAS's pthreads variant, should an administrator switch the
// libblas.so.3 alternative): a voter's evaluation budget
// (agent/model_handoff.h) still bounds what such a candidate costs.
//
// Sets (on = true) or clears FTZ and DAZ on the calling thread and every
// thread of its LibTorch intra-op pool. Cheap (one parallel region); safe to
// call from any thread. Clearing is for tests (to show the check can fail).
void set_denormal_flush(bool on);

// What check_denormal_flush() saw: `threads` distinct threads ran a chunk
// (the caller and its pool, at::get_num_threads() of them), `flushing` of
// them computed 0 for both 1e-39f * 1 (DAZ or FTZ) and 1e-20f * 1e-20f (FTZ).
struct DenormalFlushCheck {
  int threads = 0;
  int flushing = 0;
  int pool_size = 0;  // at::get_num_threads()
};
// Runs a LibTorch multiplication on denormal-producing inputs on the calling
// thread and on each thread of its intra-op pool, changing no thread's mode.
DenormalFlushCheck check_denormal_flush();

// Predicted probabilities for each row of a dataset.
struct Predictions {
  std::size_t rows = 0;
  int num_classes = 2;
  // rows × num_classes, row-major; each row sums to 1. Binary: column 1 is
  // P(positive class), column 0 is 1 − that.
  std::vector<double> probabilities;

  // Binary: P(positive) per row (the score for ROC AUC). Multi-class: the
  // probability of class `cls` per row (one-vs-rest score).
  std::vector<double> scores(int cls = 1) const;
  // rows × classes as nested vectors (the shape one_vs_rest_auc takes).
  std::vector<std::vector<double>> per_row() const;
};

// Error::code of a predict() stopped by its budget.
inline constexpr int kPredictOverBudget = 1;

struct PredictOptions {
  // Wall-clock time predict() may take. Checked after each batch (256 rows,
  // or 4 volumes), the last included, so it stops at most one batch late and
  // a slow last batch fails too; unset: no limit.
  std::optional<std::chrono::nanoseconds> budget;
  // When set, receives the number of batches run (for tests: counts work).
  std::size_t* batches_run = nullptr;
  // false leaves the threads' floating-point mode as it is: only for
  // bench/denormal_bench.cpp, which measures what flushing saves. Never
  // false for a model someone else wrote.
  bool flush_denormals = true;
};

class Model {
 public:
  // Builds the network with weights drawn deterministically from `seed`: the
  // same spec and seed give bit-identical weights. Fails (no abort) when the
  // spec does not validate.
  static Result<Model> create(const ModelSpec& spec, std::uint64_t seed);

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  // A deep copy (weights and buffers); the copy trains independently.
  Model clone() const;

  const ModelSpec& spec() const;
  std::size_t parameter_count() const;  // trainable values

  // Runs the model in evaluation mode on every row. Fails when the dataset's
  // feature count or class count does not match the spec, and (code
  // kPredictOverBudget) when `options.budget` has passed. Turns denormal
  // flushing on for the calling thread and its pool (set_denormal_flush).
  Result<Predictions> predict(const Dataset& data, const PredictOptions& options = {}) const;

  // Internal: the LibTorch side (learning/torch_model.h). Not for callers
  // outside learning/.
  struct Impl;
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Serialized model format (docs/PROTOCOL.md, "Model blob"), all integers
// little-endian:
//   "BATONMDL"            8 bytes magic
//   u32 version = 1
//   u32 n, n bytes        the spec, canonical JSON (to_json)
//   u32 count             tensors, in the architecture's fixed order
//   per tensor: u16 name length, name (ASCII, e.g. "layers.0.weight"),
//               u8 dtype (1 = float32, 2 = int64), u8 rank, rank × u64 dims,
//               the values, little-endian, row-major
// Parameters come first, then buffers (batch-norm statistics), each in
// registration order. The bytes depend only on the spec and the weights, so
// equal weights give equal bytes and equal hashes.
chain::Bytes serialize(const Model& model);

// Why deserialize() refused a blob; carried in Error::code.
enum class ModelBlobErrc : int {
  malformed = 1,   // not a well-formed model blob (magic, version, tensors, size)
  wrong_spec = 2,  // a well-formed header naming another spec than the expected one
};

// Parses a serialized model that must be of the spec `expected` (the plan's).
// Never trusts the bytes, and allocates nothing sized by them: the magic, the
// version and the spec text (which must be to_json(expected), byte for byte:
// wrong_spec) are checked first, then the blob's length against
// serialized_size(expected), and only then is the expected network built and
// filled. A wrong tensor name, shape or dtype, a truncated or over-long blob
// each give an error sentence (malformed); nothing aborts. Pre:
// validate(expected) passed (else an error, nothing built).
Result<Model> deserialize(chain::ByteView bytes, const ModelSpec& expected);

// SHA-256 of serialize(model).
chain::Hash model_hash(const Model& model);

}  // namespace baton::learning

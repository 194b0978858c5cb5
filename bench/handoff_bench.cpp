// Per hand-off cost of Baton's model pipeline (agent/model_handoff.h) against
// the local training it wraps, for the breast_cancer MLP and the 3D ResNet-18
// on synthetic volumes. Prints a table; asserts nothing.
//
// One hand-off, as the partner agent (agent/agent.h) lives it; voters work in
// parallel on their own machines, so one voter's path is the critical path:
//   sender   train its copy of the head (in memory: the agent keeps the model
//            it voted on, which is the head when its turn comes), serialize,
//            seal + upload (crypto, store). No measure of its own candidate.
//   voter    download (store), unwrap + open with both hashes (crypto), load
//            the model (serialize column), measure the candidate on its
//            validation rows (evaluation). The head's measure is not counted:
//            the agent keeps it per head, and the head was measured as the
//            previous candidate.
// Consensus time per hand-off comes from baton-bench-consensus (BENCHMARKS.md).
// The store is file:// in a fresh temporary directory (loopback-equivalent:
// no network); --store-uri points it elsewhere (e.g. s3://… with BATON_S3_*).
//
//   baton-bench-handoff [--repeats N] [--mlp-epochs E] [--resnet-steps S]
//                       [--resnet-train-volumes N] [--resnet-val V]
//                       [--skip-resnet] [--threads T] [--data-dir DIR]
//                       [--store-uri URI]
// --resnet-train-volumes N: the local training set (one epoch of batch 2 is
// N/2 steps); --resnet-steps S is the same as N = 2 S.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_help.h"
#include "learning/torch_version.h"
#include "chain/keys.h"
#include "learning/datasets.h"
#include "learning/model.h"
#include "learning/train.h"
#include "agent/model_handoff.h"
#include "storage/file_store.h"
#include "storage/object_store.h"

namespace fs = std::filesystem;
namespace ln = baton::learning;
namespace nd = baton::agent;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "baton-bench-handoff: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T must(baton::Result<T> r, const char* what) {
  if (!r.ok()) die(std::string(what) + ": " + r.error().message);
  return std::move(r).value();
}

// CPU seconds of this thread: the pipeline's own work, which a machine shared
// with other jobs inflates less than wall time (fsync waits are not in it).
double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Row {
  std::vector<double> train, serialize, deserialize, seal, put, get, open, evaluate;
  // Thread CPU seconds of: serialize, seal + put, get + open, deserialize,
  // evaluate.
  std::vector<double> cpu_serialize, cpu_seal_put, cpu_get_open, cpu_deserialize, cpu_evaluate;
  std::uint64_t model_bytes = 0;
  std::uint64_t blob_bytes = 0;
};

// One hand-off: `train_once` trains the sender's copy of the head.
template <class TrainFn>
void run_handoffs(Row& row, int repeats, baton::storage::ObjectStore& store, const ln::Model& head,
                  const ln::Dataset& validation, TrainFn train_once, const fs::path& work,
                  const std::vector<baton::chain::MemberSecretKeys>& members,
                  const std::string& run) {
  std::vector<baton::chain::MemberPublicKeys> recipients;
  for (const auto& m : members) recipients.push_back(m.public_keys());
  nd::HandoffOptions options;
  options.work_dir = work;
  for (int r = 0; r < repeats; ++r) {
    ln::Model candidate = head.clone();
    auto t = Clock::now();
    train_once(candidate);
    row.train.push_back(since(t));

    double cpu = thread_cpu_s();
    t = Clock::now();
    const baton::chain::Bytes bytes = ln::serialize(candidate);
    row.serialize.push_back(since(t));
    row.cpu_serialize.push_back(thread_cpu_s() - cpu);
    cpu = thread_cpu_s();
    const nd::ModelBinding binding{"bench-chain", run, "turn-" + std::to_string(r + 1),
                                   "turn-" + std::to_string(r)};
    auto sealed =
        must(nd::seal_and_upload(store, bytes, binding, recipients, options), "seal_and_upload");
    row.seal.push_back(sealed.timings.crypto_s);
    row.put.push_back(sealed.timings.store_s);
    row.model_bytes = sealed.plaintext_size;
    row.blob_bytes = sealed.blob_size;
    row.cpu_seal_put.push_back(thread_cpu_s() - cpu);
    cpu = thread_cpu_s();

    const nd::LedgerModelRef ref{sealed.object_key, sealed.blob_sha256, sealed.model_sha256,
                                 sealed.envelope, nd::expected_blob_size(candidate.spec())};
    auto opened =
        must(nd::fetch_and_open(store, ref, members[1].x25519, binding, options), "fetch_and_open");
    row.get.push_back(opened.timings.store_s);
    row.open.push_back(opened.timings.crypto_s);
    row.cpu_get_open.push_back(thread_cpu_s() - cpu);
    cpu = thread_cpu_s();
    t = Clock::now();
    auto model = must(ln::deserialize(opened.model_bytes, candidate.spec()), "deserialize");
    row.deserialize.push_back(since(t));
    row.cpu_deserialize.push_back(thread_cpu_s() - cpu);
    if (opened.model_bytes != bytes) die("the voter opened other bytes than the sender sealed");

    cpu = thread_cpu_s();
    t = Clock::now();
    auto cand_eval = must(nd::evaluate(model, validation), "evaluate candidate");
    row.evaluate.push_back(since(t));
    row.cpu_evaluate.push_back(thread_cpu_s() - cpu);
    (void)cand_eval;
    if (auto removed = store.remove(sealed.object_key); !removed.ok()) die(removed.error().message);
  }
}

void print_row(const char* name, const Row& row) {
  const double train = median(row.train);
  const double serialize = median(row.serialize) + median(row.deserialize);
  const double seal = median(row.seal), put = median(row.put), get = median(row.get),
               open = median(row.open);
  const double evaluate = median(row.evaluate);
  const double added = serialize + seal + put + get + open + evaluate;
  std::printf("%-14s %9.1f %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f %7.2f%%\n", name,
              static_cast<double>(row.model_bytes) / 1024.0, train, serialize, seal + open,
              put + get, evaluate, added, added + train, 100.0 * added / (added + train));
  std::printf(
      "  parts: serialize %.4f, seal %.4f, put %.4f | get %.4f, open %.4f, deserialize %.4f, "
      "evaluate %.4f s\n",
      median(row.serialize), seal, put, get, open, median(row.deserialize), evaluate);
  std::printf(
      "  CPU of this thread: serialize %.4f, seal+put %.4f | get+open %.4f, deserialize %.4f, "
      "evaluate %.4f s\n",
      median(row.cpu_serialize), median(row.cpu_seal_put), median(row.cpu_get_open),
      median(row.cpu_deserialize), median(row.cpu_evaluate));
}

}  // namespace

int main(int argc, char** argv) {
  baton::bench::answer_version(argc, argv, "baton-bench-handoff",
                               baton::learning::libtorch_version());
  baton::bench::answer_help(
      argc, argv,
      "usage: baton-bench-handoff [--repeats N] [--mlp-epochs E] [--resnet-steps S] "
      "[--resnet-train-volumes V] [--resnet-val V] [--threads T]\nPer hand-off cost of the model "
      "pipeline against the local training it wraps; prints a table, asserts nothing.\n");
  int repeats = 5, mlp_epochs = 10, resnet_train = 10, resnet_val = 8, threads = 1;
  bool skip_resnet = false;
  fs::path data_dir = fs::path(BATON_SOURCE_DIR) / "data";
  std::string store_uri;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--repeats")
      repeats = std::atoi(next().c_str());
    else if (a == "--mlp-epochs")
      mlp_epochs = std::atoi(next().c_str());
    else if (a == "--resnet-steps")
      resnet_train = 2 * std::atoi(next().c_str());
    else if (a == "--resnet-train-volumes")
      resnet_train = std::atoi(next().c_str());
    else if (a == "--resnet-val")
      resnet_val = std::atoi(next().c_str());
    else if (a == "--threads")
      threads = std::atoi(next().c_str());
    else if (a == "--skip-resnet")
      skip_resnet = true;
    else if (a == "--data-dir")
      data_dir = next();
    else if (a == "--store-uri")
      store_uri = next();
    else {
      std::fprintf(stderr,
                   "usage: baton-bench-handoff [--repeats N] [--mlp-epochs E] [--resnet-steps S]\n"
                   "                           [--resnet-train-volumes N] [--resnet-val V] "
                   "[--skip-resnet]\n"
                   "                           [--threads T] [--data-dir DIR] [--store-uri URI]\n");
      return 2;
    }
  }
  if (repeats < 1 || mlp_epochs < 1 || resnet_train < 2 || resnet_val < 2 || threads < 1) {
    die("--repeats, --mlp-epochs, --resnet-steps and --threads must be >= 1, "
        "--resnet-train-volumes and --resnet-val >= 2");
  }
  ln::init_torch(threads);

  char tmpl[] = "/tmp/baton-bench-handoff-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) die("cannot create a temporary directory");
  const fs::path tmp = tmpl;
  std::unique_ptr<baton::storage::ObjectStore> store;
  if (store_uri.empty()) {
    store = std::make_unique<baton::storage::FileObjectStore>(tmp / "store");
  } else {
    store = must(baton::storage::open_object_store(store_uri, {}), "open store");
  }
  std::vector<baton::chain::MemberSecretKeys> members;
  for (const char* name : {"h1", "h2", "h3", "h4"})
    members.push_back(baton::chain::generate_member_keys(name));

  double loadavg[1] = {0};
  getloadavg(loadavg, 1);
  std::printf(
      "Hand-off pipeline, store %s, %d repeat(s) (medians), %d LibTorch thread(s), load average "
      "%.2f\n",
      store->uri().c_str(), repeats, threads, loadavg[0]);
  std::printf("%-14s %9s %9s %9s %9s %9s %9s %9s %9s %8s\n", "model", "KiB", "train_s", "serial_s",
              "crypto_s", "store_s", "eval_s", "added_s", "total_s", "added%");

  // MLP on breast_cancer: one hospital's quarter of the training rows; the
  // voter validates on the held-out test rows' first half.
  {
    auto data = must(ln::load_builtin("breast_cancer", data_dir, {}), "load breast_cancer");
    std::vector<std::size_t> mine, val;
    for (std::size_t i = 0; i < data.train.rows; i += 4) mine.push_back(i);
    for (std::size_t i = 0; i < data.test.rows / 2; ++i) val.push_back(i);
    const ln::Dataset local = data.train.subset(mine);
    const ln::Dataset validation = data.test.subset(val);
    auto head =
        must(ln::Model::create(ln::ModelSpec::mlp(static_cast<int>(data.train.features), {32}), 1),
             "create MLP");
    ln::TrainSettings settings;
    settings.epochs = mlp_epochs;
    settings.threads = threads;
    Row row;
    run_handoffs(
        row, repeats, *store, head, validation,
        [&](ln::Model& m) { must(ln::train(m, local, settings), "train MLP"); }, tmp / "work",
        members, "mlp");
    print_row("MLP", row);
    std::printf("  (breast_cancer: %zu local rows x %d epochs, %zu validation rows)\n", local.rows,
                mlp_epochs, validation.rows);
  }

  if (!skip_resnet) {
    const auto spec = ln::ModelSpec::resnet3d({1, 16, 120, 160});
    auto head = must(ln::Model::create(spec, 1), "create ResNet");
    auto synthetic = [&](int rows, std::uint64_t seed) {
      ln::Dataset d;
      d.rows = static_cast<std::size_t>(rows);
      d.features = spec.input_size();
      d.image_shape = {1, 16, 120, 160};
      d.class_names = {"0", "1"};
      std::mt19937_64 rng(seed);
      std::normal_distribution<float> normal(0.f, 1.f);
      d.x.resize(d.rows * d.features);
      for (auto& v : d.x) v = normal(rng);
      for (std::size_t i = 0; i < d.rows; ++i) d.y.push_back(static_cast<int>(i % 2));
      return d;
    };
    const ln::Dataset local = synthetic(resnet_train, 1);
    const ln::Dataset validation = synthetic(resnet_val, 2);
    ln::TrainSettings settings;
    settings.epochs = 1;
    settings.batch_size = 2;
    settings.threads = threads;
    Row row;
    const int resnet_repeats = std::min(repeats, 2);
    run_handoffs(
        row, resnet_repeats, *store, head, validation,
        [&](ln::Model& m) { must(ln::train(m, local, settings), "train ResNet"); }, tmp / "work",
        members, "resnet");
    print_row("3D ResNet-18", row);
    std::printf(
        "  (synthetic 1x16x120x160 volumes: %d training volumes = %d steps of batch 2, %d "
        "validation volumes, %d repeat(s))\n",
        resnet_train, (resnet_train + 1) / 2, resnet_val, resnet_repeats);
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak RSS %.0f MiB\n", static_cast<double>(usage.ru_maxrss) / 1024.0);
  std::printf(
      "added_s = serialize (sender) + deserialize (voter) + seal/open + put/get + the voter's\n"
      "measure of the candidate; the head's measure is kept per head and the trainer's head is\n"
      "in memory, as in the partner agent. Consensus per hand-off: see baton-bench-consensus.\n");
  std::error_code ec;
  fs::remove_all(tmp, ec);
  return 0;
}

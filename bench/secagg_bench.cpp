// baton-bench-secagg [--repeat N] [--partners P] [--only mlp|resnet]
//
// What secure aggregation (secagg/secagg.h, docs/PROTOCOL.md §21.4) costs
// next to plain fixed-point FedAvg, per round, for the demo's MLP (30 -> 64
// -> 32 -> 1) and the paper's 3D ResNet-18 (1x16x120x160 volumes): the float
// counts come from learning::tensor_layout of the specs, the values are
// synthetic (a trained model is not needed to time arithmetic on its size).
// One thread; wall time (steady clock), the median of N repeats. Prints:
//   - mask generation: add_mask over one model's worth of u64 words (GB/s);
//   - per partner: encode_update (plain) vs encode + mask_update + the
//     masked upload object (secure), and deal() of its shares;
//   - the aggregator: plain_sum + apply_aggregate vs decoding the P uploads +
//     unmask_sum + apply_aggregate, with no dropout and with one;
//   - the round overhead: partners mask in parallel, so a round's wall time
//     grows by one partner's extra work plus the aggregator's extra work.
// The training time of a ResNet round is measured by baton_bench_resnet3d;
// docs/BENCHMARKS.md, "Secure aggregation", puts the two together.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_help.h"
#include "bench/bench_util.h"
#include "chain/training.h"
#include "learning/model_spec.h"
#include "secagg/secagg.h"

namespace {

namespace chain = baton::chain;
namespace ln = baton::learning;
namespace sa = baton::secagg;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "baton-bench-secagg: %s\n", what.c_str());
  std::exit(2);
}

using baton::bench::load_average;

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median wall seconds of `repeat` calls of f.
template <class F>
double median_s(int repeat, F&& f) {
  std::vector<double> s;
  for (int i = 0; i < repeat; ++i) {
    const double t = now_s();
    f();
    s.push_back(now_s() - t);
  }
  std::sort(s.begin(), s.end());
  return s[s.size() / 2];
}

std::size_t float_count(const ln::ModelSpec& spec) {
  std::size_t n = 0;
  for (const auto& t : ln::tensor_layout(spec)) {
    if (!t.is_float) continue;
    std::size_t c = 1;
    for (auto d : t.dims) c *= static_cast<std::size_t>(d);
    n += c;
  }
  return n;
}

void bench_model(const char* name, std::size_t n, std::uint32_t partners, int repeat) {
  const chain::RoundBinding binding{"bench-chain", "bench-run", 1};
  std::mt19937_64 rng(7);
  std::normal_distribution<float> weights(0.0f, 0.05f), steps(0.0f, 0.001f);
  std::vector<float> head(n);
  for (auto& v : head) v = weights(rng);
  std::vector<std::vector<float>> trained(partners, head);
  for (auto& t : trained)
    for (auto& v : t) v += steps(rng);

  std::vector<chain::X25519SecretKey> keys;
  std::vector<chain::X25519PublicKey> recipients;
  std::vector<std::string> names;
  std::vector<sa::RoundSecrets> secrets;
  std::map<std::uint32_t, chain::Hash> sharers;
  for (std::uint32_t r = 0; r < partners; ++r) {
    keys.push_back(chain::X25519SecretKey::generate());
    recipients.push_back(keys.back().public_key());
    names.push_back("hospital-" + std::to_string(r));
    secrets.push_back(sa::derive_round_secrets(keys.back(), binding));
    sharers[r] = secrets.back().ephemeral_public;
  }
  const std::uint64_t weight = 140;
  const std::uint64_t total_weight = weight * partners;
  const double mb = 8.0 * static_cast<double>(n) / 1e9;  // GB of u64 words

  std::printf("\n%s: %zu float32 values, %u partners, median of %d\n", name, n, partners, repeat);

  std::vector<std::uint64_t> words(n, 0);
  const double mask_s = median_s(repeat, [&] { sa::add_mask(words, secrets[0].self_seed, +1); });
  std::printf("  mask generation (add_mask, %zu u64 words):  %10.4f ms  %6.2f GB/s\n", n,
              1e3 * mask_s, mb / mask_s);

  // Per partner.
  std::vector<std::vector<std::uint64_t>> encoded(partners);
  const double encode_s = median_s(repeat,
                                   [&] {
                                     for (std::uint32_t r = 0; r < partners; ++r)
                                       encoded[r] =
                                           sa::encode_update(head, trained[r], weight).values;
                                   }) /
                          partners;
  std::map<std::uint32_t, std::vector<std::uint64_t>> masked;
  const double mask_update_s =
      median_s(repeat,
               [&] {
                 for (std::uint32_t r = 0; r < partners; ++r)
                   masked[r] = sa::mask_update(encoded[r], secrets[r], r, sharers, binding).value();
               }) /
      partners;
  chain::Bytes object;
  const double object_s = median_s(repeat, [&] { object = sa::encode_masked_upload(masked[0]); });
  const double decode_s =
      median_s(repeat, [&] { (void)sa::decode_masked_upload(object, n).value(); });
  const sa::RoundContext context{binding, names};
  const double deal_s = median_s(
      repeat, [&] { (void)sa::deal(secrets[0], context, 0, partners / 2 + 1, recipients); });
  std::printf("  partner: encode_update                       %10.4f ms\n", 1e3 * encode_s);
  std::printf("  partner: mask_update (1 self + %u pair masks) %10.4f ms\n", partners - 1,
              1e3 * mask_update_s);
  std::printf("  partner: encode_masked_upload (%.1f MB)       %10.4f ms\n",
              static_cast<double>(object.size()) / 1e6, 1e3 * object_s);
  std::printf("  partner: deal (shares for %u, sealed)          %10.4f ms\n", partners,
              1e3 * deal_s);

  // The aggregator, plain.
  std::vector<float> plain_model, secure_model;
  const double plain_agg_s = median_s(repeat, [&] {
    plain_model = sa::apply_aggregate(head, sa::plain_sum(encoded), total_weight);
  });
  // The aggregator, secure, no dropout.
  std::map<std::uint32_t, chain::Hash> seeds;
  for (std::uint32_t r = 0; r < partners; ++r) seeds[r] = secrets[r].self_seed;
  const double unmask_s = median_s(repeat, [&] {
    auto sum = sa::unmask_sum(masked, seeds, {}, sharers, binding).value();
    secure_model = sa::apply_aggregate(head, sum, total_weight);
  });
  if (secure_model != plain_model) die("the secure aggregate differs from the plain one");
  // One partner (rank 0) dropped after sharing: its pair masks are removed
  // from the others' sum.
  auto survivors = masked;
  survivors.erase(0);
  auto survivor_seeds = seeds;
  survivor_seeds.erase(0);
  const std::map<std::uint32_t, chain::Hash> dropped = {{0, secrets[0].ephemeral_secret}};
  const double unmask_drop_s = median_s(repeat, [&] {
    auto sum = sa::unmask_sum(survivors, survivor_seeds, dropped, sharers, binding).value();
    (void)sa::apply_aggregate(head, sum, total_weight - weight);
  });
  std::printf("  aggregator: plain_sum + apply_aggregate        %10.4f ms\n", 1e3 * plain_agg_s);
  std::printf("  aggregator: %u x decode + unmask_sum + apply   %10.4f ms (no dropout)\n", partners,
              1e3 * (partners * decode_s + unmask_s));
  std::printf("  aggregator: %u x decode + unmask_sum + apply   %10.4f ms (1 dropped)\n",
              partners - 1, 1e3 * ((partners - 1) * decode_s + unmask_drop_s));

  const double plain_round = encode_s + plain_agg_s;
  const double secure_round =
      encode_s + mask_update_s + object_s + deal_s + partners * decode_s + unmask_s;
  const double secure_round_drop =
      encode_s + mask_update_s + object_s + deal_s + (partners - 1) * decode_s + unmask_drop_s;
  std::printf(
      "  round (one partner's part + the aggregator's), plain fixed-point FedAvg: %.4f ms\n",
      1e3 * plain_round);
  std::printf(
      "  round, secure aggregation: %.4f ms, overhead %.4f ms (1 dropped: %.4f ms, "
      "overhead %.4f ms)\n",
      1e3 * secure_round, 1e3 * (secure_round - plain_round), 1e3 * secure_round_drop,
      1e3 * (secure_round_drop - plain_round));
  std::printf(
      "  encode + mask + unmask_sum + apply throughput: %.2f GB/s of u64 words "
      "(one partner's update through the whole secure path)\n",
      mb / (encode_s + mask_update_s + unmask_s / partners));
}

}  // namespace

int main(int argc, char** argv) {
  baton::bench::answer_version(argc, argv, "baton-bench-secagg");
  baton::bench::answer_help(
      argc, argv,
      "usage: baton-bench-secagg [--repeat N] [--partners P] [--only mlp|resnet]\nWhat secure "
      "aggregation costs next to plain FedAvg, per round; prints figures, asserts nothing.\n");
  int repeat = 3;
  std::uint32_t partners = 4;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], v = argv[i + 1];
    if (flag == "--repeat")
      repeat = std::atoi(v.c_str());
    else if (flag == "--partners")
      partners = static_cast<std::uint32_t>(std::atoi(v.c_str()));
    else if (flag == "--only")
      only = v;
    else
      die("unknown flag " + flag +
          " (usage: baton-bench-secagg [--repeat N] [--partners P] [--only mlp|resnet])");
  }
  if (repeat <= 0) die("--repeat must be >= 1");
  if (partners < 2 || partners > chain::kMaxFederatedPartners) die("--partners must be 2..64");
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("baton-bench-secagg: %u hardware threads, 1 used; load average %s\n",
              std::thread::hardware_concurrency(), load_average().c_str());
  if (only.empty() || only == "mlp") {
    bench_model("MLP 30 -> 64 -> 32 -> 1 (the demo's)",
                float_count(ln::ModelSpec::mlp(30, {64, 32})), partners, std::max(repeat, 101));
  }
  if (only.empty() || only == "resnet") {
    bench_model("3D ResNet-18, 1x16x120x160 (the paper's)", float_count(ln::ModelSpec::resnet3d()),
                partners, repeat);
  }
  std::printf("\nload average at the end %s\n", load_average().c_str());
  return 0;
}

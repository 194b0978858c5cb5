// The simulated members and their behaviours (adversary_members.h), the
// behaviour names, and Shapley values.
#include <algorithm>
#include <array>
#include <cstring>
#include <random>

#include "agent/adversary_members.h"
#include "learning/metrics.h"
#include "learning/splits.h"
#include "learning/train.h"

namespace baton::agent {
namespace sim_detail {
namespace {

constexpr std::array<std::string_view, 9> kNames = {
    "honest", "label_flip", "random_weights", "free_rider", "free_rider_noise",
    "poison", "colluder",   "rival",          "reseal"};

bool flips_labels(Behaviour b) { return b == Behaviour::label_flip || b == Behaviour::colluder; }

learning::Dataset flipped(learning::Dataset d, double fraction, std::uint64_t seed,
                          std::uint32_t member) {
  std::vector<std::size_t> rows(d.rows);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  auto rng = learning::make_engine(seed, 99, member);
  learning::shuffle_indices(rows, rng);
  const auto n = static_cast<std::size_t>(fraction * static_cast<double>(d.rows));
  for (std::size_t k = 0; k < n; ++k) d.y[rows[k]] = 1 - d.y[rows[k]];
  return d;
}

// Members hospital-1..N with fixed keys, equal stratified shares of the
// training rows, each split into its own training and validation rows.

// whose layout learning::tensor_layout gives).
Result<learning::Model> perturbed(const learning::Model& m, double sigma, std::uint64_t seed) {
  chain::Bytes b = learning::serialize(m);
  auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int k = 3; k >= 0; --k) v = (v << 8) | b.at(at + static_cast<std::size_t>(k));
    return v;
  };
  std::size_t at = 12;  // magic, version
  at += 4 + u32(at);    // the spec
  at += 4;              // tensor count
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, static_cast<float>(sigma));
  for (const auto& t : learning::tensor_layout(m.spec())) {
    const std::size_t name = b.at(at) | (static_cast<std::size_t>(b.at(at + 1)) << 8);
    at += 2 + name + 1;
    const std::size_t rank = b.at(at);
    at += 1 + 8 * rank;
    std::size_t n = 1;
    for (auto d : t.dims) n *= static_cast<std::size_t>(d);
    if (!t.is_float) {
      at += 8 * n;
      continue;
    }
    for (std::size_t k = 0; k < n; ++k, at += 4) {
      float v;
      std::memcpy(&v, &b.at(at), 4);  // the host is little-endian, as the format
      v += noise(rng);
      std::memcpy(&b.at(at), &v, 4);
    }
  }
  return learning::deserialize(b, m.spec());
}

}  // namespace

Result<std::vector<Member>> make_members(const learning::PreparedData& data, const SimConfig& c) {
  const std::vector<std::size_t> weights(c.members, 1);
  auto shares = learning::stratified_partition(data.train.y, 2, weights, c.seed, 13);
  std::vector<Member> out;
  for (std::size_t i = 0; i < c.members; ++i) {
    const auto idx = static_cast<std::uint8_t>(i);
    auto key =
        chain::SigningKey::from_seed(chain::Bytes(32, static_cast<std::uint8_t>(0x40 + idx)));
    auto x =
        chain::X25519SecretKey::from_bytes(chain::Bytes(32, static_cast<std::uint8_t>(0x60 + idx)));
    if (!key || !x) return make_error("cannot derive the simulated members' keys");
    Member m{"hospital-" + std::to_string(i + 1), *key, *x, Behaviour::honest, {}, {}, 1};
    if (i % 2 == 1 && i / 2 < c.adversaries) m.behaviour = c.adversary;
    std::vector<int> labels;
    for (auto r : shares[i]) labels.push_back(data.train.y[r]);
    const auto split = learning::stratified_split(labels, 2, c.validation_fraction, c.seed + i);
    std::vector<std::size_t> tr, va;
    for (auto k : split.train) tr.push_back(shares[i][k]);
    for (auto k : split.test) va.push_back(shares[i][k]);
    m.train = data.train.subset(tr);
    m.validation = data.train.subset(va);
    const auto counts = m.validation.class_counts();
    if (counts[0] < 2 || counts[1] < 2) {
      return make_error(m.name +
                        "'s validation rows hold fewer than two rows of a class, so its "
                        "AUC and DeLong test are undefined; use fewer members or more data");
    }
    if (flips_labels(m.behaviour)) m.train = flipped(std::move(m.train), 1.0, c.seed, idx);
    if (m.behaviour == Behaviour::poison)
      m.train = flipped(std::move(m.train), c.poison_fraction, c.seed, idx);
    out.push_back(std::move(m));
  }
  return out;
}

learning::ModelSpec sim_spec(const learning::PreparedData& data, const SimConfig& c) {
  return learning::ModelSpec::mlp(static_cast<int>(data.train.features), c.hidden, 2);
}

Result<learning::Model> train_candidate(const Member& m, const learning::Model& head,
                                        const learning::ModelSpec& spec, const SimConfig& c,
                                        std::uint64_t turn) {
  switch (m.behaviour) {
    case Behaviour::random_weights:
      return learning::Model::create(spec, c.seed * 7919 + turn + 1);
    case Behaviour::free_rider:
    case Behaviour::reseal:
      return head.clone();
    case Behaviour::free_rider_noise:
      return perturbed(head, c.noise_sigma, c.seed * 104729 + turn);
    default: {
      learning::Model model = head.clone();
      learning::TrainSettings s = c.train;
      s.seed = c.seed + turn;  // as the partner agent: plan seed + turn index
      auto report = learning::train(model, m.train, s);
      if (!report) return report.error();
      return model;
    }
  }
}

// One simulated consortium: members, the ledger's spec and state, and every

}  // namespace sim_detail

using namespace sim_detail;

std::string_view to_string(Behaviour b) { return kNames.at(static_cast<std::size_t>(b)); }

std::optional<Behaviour> behaviour_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<Behaviour>(i);
  return std::nullopt;
}

std::vector<Behaviour> adversary_kinds() {
  std::vector<Behaviour> out;
  for (std::size_t i = 1; i < kNames.size(); ++i) out.push_back(static_cast<Behaviour>(i));
  return out;
}

std::string_view refusal_name(chain::ProtocolRejected reason) {
  static constexpr std::array<std::string_view, 18> kReasons = {"unknown",
                                                                "not_admin",
                                                                "run_active",
                                                                "duplicate_run_id",
                                                                "invalid_plan",
                                                                "wrong_run",
                                                                "run_not_active",
                                                                "out_of_turn",
                                                                "wrong_phase",
                                                                "wrong_head",
                                                                "no_open_request",
                                                                "vote_after_deadline",
                                                                "duplicate_vote",
                                                                "not_a_voter",
                                                                "own_request",
                                                                "malformed_request",
                                                                "vote_contradicts_policy",
                                                                "duplicate_model"};
  const auto i = static_cast<std::size_t>(reason);
  return i < kReasons.size() ? kReasons[i] : "unknown";
}

learning::PreparedData binary_view(const learning::PreparedData& data, int positive) {
  if (data.train.num_classes == 2) return data;
  learning::PreparedData out = data;
  const std::string cls = data.train.class_names.at(static_cast<std::size_t>(positive));
  for (learning::Dataset* d : {&out.train, &out.validation, &out.test}) {
    for (auto& y : d->y) y = y == positive ? 1 : 0;
    d->num_classes = 2;
    d->class_names = {"not " + cls, cls};
  }
  out.positive_class = cls;
  out.name = data.name + " (" + cls + " vs rest)";
  return out;
}

std::uint64_t ledger_balance(const chain::LedgerState& state, std::string_view member) {
  return state.training.accounts.balance(member);
}

Result<std::vector<double>> shapley_values(const learning::PreparedData& data, const SimConfig& c) {
  if (c.members < 1 || c.members > 8) return make_error("Shapley values need 1 to 8 members");
  auto members = make_members(data, c);
  if (!members) return members.error();
  const auto spec = sim_spec(data, c);
  const std::size_t n = c.members;
  std::vector<double> value(std::size_t{1} << n);
  for (std::size_t s = 0; s < value.size(); ++s) {
    auto model = learning::Model::create(spec, c.seed);
    if (!model) return model.error();
    for (std::uint32_t cycle = 0; cycle < c.cycles; ++cycle) {
      for (std::size_t i = 0; i < n; ++i) {
        if (!(s & (std::size_t{1} << i))) continue;
        auto next = train_candidate((*members)[i], *model, spec, c, cycle * n + i);
        if (!next) return next.error();
        *model = std::move(*next);
      }
    }
    auto p = model->predict(data.test);
    if (!p) return p.error();
    auto auc = learning::roc_auc(data.test.y, p->scores());
    if (!auc) return auc.error();
    value[s] = *auc;
  }
  // phi_i = sum over S without i of |S|! (n - |S| - 1)! / n! (v(S + i) - v(S)).
  std::vector<double> fact(n + 1, 1.0);
  for (std::size_t k = 1; k <= n; ++k) fact[k] = fact[k - 1] * static_cast<double>(k);
  std::vector<double> phi(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t s = 0; s < value.size(); ++s) {
      if (s & (std::size_t{1} << i)) continue;
      const auto size = static_cast<std::size_t>(__builtin_popcountll(s));
      phi[i] +=
          fact[size] * fact[n - size - 1] / fact[n] * (value[s | (std::size_t{1} << i)] - value[s]);
    }
  }
  return phi;
}

}  // namespace baton::agent

#include "learning/synth_volumes.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numbers>
#include <set>
#include <system_error>

#include "chain/crypto.h"
#include "learning/splits.h"
#include "learning/volumes.h"

namespace baton::learning {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::uint32_t kLabelSubstream = 0xFFFFFFFFu;
constexpr std::size_t kMaxVolumesPerSet = 1'000'000;

// (0, 1): 52 random bits plus one half, so neither end is reached and ln u is finite.
double uniform01(std::mt19937_64& rng) {
  return (static_cast<double>(rng() >> 12) + 0.5) * 0x1.0p-52;
}

double uniform(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * uniform01(rng);
}

std::size_t product(std::span<const int> shape) {
  std::size_t n = 1;
  for (int d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

Status write_text(const fs::path& file, const std::string& text) {
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return make_error("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec)
    return make_error("cannot rename " + tmp.string() + " to " + file.string() + ": " +
                      ec.message());
  return {};
}

std::string index_name(const std::string& prefix, std::size_t i, std::size_t count) {
  const std::size_t width = std::max<std::size_t>(4, std::to_string(count - 1).size());
  std::string digits = std::to_string(i);
  digits.insert(0, width - digits.size(), '0');
  return prefix + "-" + digits + ".npy";
}

struct SetResult {
  std::size_t positive = 0;
  std::string sha256;
  std::string volumes_sha256;
};

// Writes one set's volumes under DIR/volumes and its manifest DIR/MANIFEST.
Result<SetResult> write_set(const SynthVolumeOptions& o, const fs::path& dir,
                            const std::string& manifest, const std::string& prefix,
                            std::size_t count, std::uint32_t stream) {
  std::error_code ec;
  fs::create_directories(dir / "volumes", ec);
  if (ec) return make_error("cannot create " + (dir / "volumes").string() + ": " + ec.message());
  const std::vector<int> labels = synth_labels(count, o.positive_fraction, o.seed, stream);
  SetResult r;
  std::string text = "volume,label\n";
  std::string hashes;
  const std::string preamble = npy_preamble(o.shape);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string rel = "volumes/" + index_name(prefix, i, count);
    const auto values = synth_volume(o.shape, labels[i] == 1, o.amplitude, o.seed, stream,
                                     static_cast<std::uint32_t>(i));
    if (auto s = write_npy(dir / rel, o.shape, values); !s) return s.error();
    chain::Sha256Stream h;
    h.update(chain::as_bytes(preamble));
    // The hash covers the file's bytes: little-endian float32 (as written).
    std::vector<std::uint8_t> le(values.size() * 4);
    for (std::size_t k = 0; k < values.size(); ++k) {
      const auto u = std::bit_cast<std::uint32_t>(values[k]);
      le[4 * k] = static_cast<std::uint8_t>(u);
      le[4 * k + 1] = static_cast<std::uint8_t>(u >> 8);
      le[4 * k + 2] = static_cast<std::uint8_t>(u >> 16);
      le[4 * k + 3] = static_cast<std::uint8_t>(u >> 24);
    }
    h.update(le);
    hashes += h.finish().hex() + "\n";
    text += rel + "," + (labels[i] == 1 ? "1" : "0") + "\n";
    r.positive += labels[i] == 1 ? 1 : 0;
  }
  if (auto s = write_text(dir / manifest, text); !s) return s.error();
  r.sha256 = chain::sha256(text).hex();
  r.volumes_sha256 = chain::sha256(hashes).hex();
  return r;
}

}  // namespace

Status validate(const SynthVolumeOptions& o) {
  if (o.out.empty()) return make_error("the output directory is empty");
  if (o.hospitals.empty()) return make_error("name at least one hospital");
  std::set<std::string> unique(o.hospitals.begin(), o.hospitals.end());
  if (unique.size() != o.hospitals.size()) return make_error("a hospital is named twice");
  for (const auto& h : o.hospitals) {
    if (h.empty() || h.find('/') != std::string::npos || h.find('\\') != std::string::npos ||
        h.front() == '.' || h == "volumes")
      return make_error("the hospital name \"" + h + "\" cannot be a directory name here");
  }
  if (o.train < 1 || o.validation < 1 || o.test < 1)
    return make_error("the training, validation and test counts must each be at least 1");
  if (o.train > kMaxVolumesPerSet || o.validation > kMaxVolumesPerSet || o.test > kMaxVolumesPerSet)
    return make_error("at most 1000000 volumes per set");
  if (o.hospitals.size() > 100000) return make_error("too many hospitals");
  if (o.shape.size() != 3 && o.shape.size() != 4)
    return make_error(
        "the shape must be (channels, height, width) or (channels, depth, height, width)");
  std::size_t n = 1;
  for (int d : o.shape) {
    if (d < 1) return make_error("every dimension of the shape must be at least 1");
    if (static_cast<std::size_t>(d) > kMaxVolumeValues / n)
      return make_error("the shape holds more than " + std::to_string(kMaxVolumeValues) +
                        " values");
    n *= static_cast<std::size_t>(d);
  }
  if (!(o.positive_fraction > 0 && o.positive_fraction < 1))
    return make_error("the positive fraction must lie strictly between 0 and 1");
  if (!(o.amplitude > 0 && o.amplitude <= 1000))
    return make_error("the amplitude must lie in (0, 1000]");
  return {};
}

std::vector<float> synth_volume(std::span<const int> shape, bool positive, double amplitude,
                                std::uint64_t seed, std::uint32_t stream, std::uint32_t index) {
  if (shape.size() != 3 && shape.size() != 4) std::abort();  // precondition
  for (int d : shape)
    if (d < 1) std::abort();  // precondition
  auto rng = make_engine(seed, stream, index);
  const std::span<const int> axes = shape.subspan(1);
  bool blob = true;
  double a = 0;
  if (positive) {
    a = amplitude * uniform(rng, 0.8, 1.2);
  } else {
    blob = uniform01(rng) < 0.5;
    if (blob) a = amplitude * uniform(rng, 0.2, 0.4);
  }
  // One Gaussian profile per spatial axis: the blob is their product.
  std::vector<std::vector<double>> profile(axes.size());
  for (std::size_t k = 0; k < axes.size(); ++k) {
    const int n = axes[k];
    profile[k].assign(static_cast<std::size_t>(n), 0.0);
    if (!blob) continue;
    const double centre = uniform(rng, 0.2, 0.8) * (n - 1);
    const double sd = std::max(0.5, uniform(rng, 0.08, 0.16) * n);
    for (int i = 0; i < n; ++i) {
      const double t = (i - centre) / sd;
      profile[k][static_cast<std::size_t>(i)] = std::exp(-0.5 * t * t);
    }
  }
  const std::size_t spatial = product(axes);
  std::vector<double> added(spatial, 0.0);
  if (blob) {
    std::vector<std::size_t> at(axes.size(), 0);  // the spatial index, odometer-style
    for (std::size_t s = 0; s < spatial; ++s) {
      double v = a;
      for (std::size_t k = 0; k < axes.size(); ++k) v *= profile[k][at[k]];
      added[s] = v;
      for (std::size_t k = axes.size(); k-- > 0;) {
        if (++at[k] < static_cast<std::size_t>(axes[k])) break;
        at[k] = 0;
      }
    }
  }
  const std::size_t total = spatial * static_cast<std::size_t>(shape[0]);
  std::vector<float> out(total);
  for (std::size_t i = 0; i < total; i += 2) {
    const double u1 = uniform01(rng);
    const double u2 = uniform01(rng);
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    out[i] = static_cast<float>(r * std::cos(angle) + added[i % spatial]);
    if (i + 1 < total)
      out[i + 1] = static_cast<float>(r * std::sin(angle) + added[(i + 1) % spatial]);
  }
  return out;
}

std::vector<int> synth_labels(std::size_t count, double positive_fraction, std::uint64_t seed,
                              std::uint32_t stream) {
  const auto positives = static_cast<std::size_t>(std::floor(count * positive_fraction + 0.5));
  std::vector<std::size_t> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = i < positives ? 1 : 0;
  auto rng = make_engine(seed, stream, kLabelSubstream);
  shuffle_indices(order, rng);
  return {order.begin(), order.end()};
}

Result<std::string> write_synthetic_volumes(const SynthVolumeOptions& o) {
  if (auto s = validate(o); !s) return s.error();
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) return make_error("cannot create " + o.out.string() + ": " + ec.message());

  json manifests = json::object();
  json hospitals = json::array();
  auto record = [&](const std::string& rel, std::size_t rows, const SetResult& r) {
    manifests[rel] = {{"rows", rows},
                      {"positive", r.positive},
                      {"sha256", r.sha256},
                      {"volumes_sha256", r.volumes_sha256}};
  };
  auto test = write_set(o, o.out, "test.csv", "test", o.test, 0);
  if (!test) return test.error();
  record("test.csv", o.test, *test);
  for (std::size_t p = 0; p < o.hospitals.size(); ++p) {
    const std::string& name = o.hospitals[p];
    const auto stream = static_cast<std::uint32_t>(1 + 2 * p);
    auto train = write_set(o, o.out / name, "train.csv", "train", o.train, stream);
    if (!train) return train.error();
    record(name + "/train.csv", o.train, *train);
    auto validation =
        write_set(o, o.out / name, "validation.csv", "validation", o.validation, stream + 1);
    if (!validation) return validation.error();
    record(name + "/validation.csv", o.validation, *validation);
    hospitals.push_back(name);
  }
  const json summary{{"generator", "baton synth-volumes 1 (learning/synth_volumes.h)"},
                     {"shape", o.shape},
                     {"seed", o.seed},
                     {"positive_fraction", o.positive_fraction},
                     {"amplitude", o.amplitude},
                     {"hospitals", hospitals},
                     {"train_per_hospital", o.train},
                     {"validation_per_hospital", o.validation},
                     {"test", o.test},
                     {"volume_column", "volume"},
                     {"label_column", "label"},
                     {"positive_value", "1"},
                     {"manifests", manifests}};
  std::string text = summary.dump(2) + "\n";
  if (auto s = write_text(o.out / "synth.json", text); !s) return s.error();
  return text;
}

}  // namespace baton::learning

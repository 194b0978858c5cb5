// ModelSpec: validation, canonical JSON, parameter counting. Torch-free.
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "learning/model.h"

namespace baton::learning {
namespace {

constexpr std::size_t kMaxParameters = std::size_t{1} << 28;
constexpr int kMaxDim = 1 << 20;
constexpr int kMaxClasses = 1000;

std::string dims_text(const std::vector<int>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

// Trainable values of each architecture, computed from the spec alone so that
// validate() can refuse an oversized spec before anything is allocated.
std::size_t mlp_parameters(const ModelSpec& s) {
  std::size_t total = 0;
  std::size_t in = s.input_size();
  for (int h : s.hidden) {
    total += in * static_cast<std::size_t>(h) + static_cast<std::size_t>(h);
    in = static_cast<std::size_t>(h);
  }
  return total + in * static_cast<std::size_t>(s.output_size()) +
         static_cast<std::size_t>(s.output_size());
}

std::size_t cnn2d_parameters(const ModelSpec& s) {
  const std::size_t c = static_cast<std::size_t>(s.input_shape[0]);
  const std::size_t c1 = static_cast<std::size_t>(s.hidden[0]);
  const std::size_t c2 = static_cast<std::size_t>(s.hidden[1]);
  const std::size_t dense = static_cast<std::size_t>(s.hidden[2]);
  const std::size_t h = static_cast<std::size_t>(s.input_shape[1] / 4);
  const std::size_t w = static_cast<std::size_t>(s.input_shape[2] / 4);
  const std::size_t out = static_cast<std::size_t>(s.output_size());
  return (c * 9 * c1 + c1) + (c1 * 9 * c2 + c2) + (c2 * h * w * dense + dense) +
         (dense * out + out);
}

std::size_t resnet3d_parameters(const ModelSpec& s) {
  const std::size_t base = static_cast<std::size_t>(s.hidden[0]);
  const std::size_t in = static_cast<std::size_t>(s.input_shape[0]);
  std::size_t total = in * 343 * base + 2 * base;  // stem conv 7×7×7 (no bias) + BN
  std::size_t width = base;
  for (int stage = 0; stage < 4; ++stage) {
    const std::size_t out = base << stage;
    for (int block = 0; block < 2; ++block) {
      const std::size_t block_in = block == 0 ? width : out;
      total += block_in * 27 * out + 2 * out;                                // conv1 + bn1
      total += out * 27 * out + 2 * out;                                     // conv2 + bn2
      if (block == 0 && block_in != out) total += block_in * out + 2 * out;  // downsample
    }
    width = out;
  }
  return total + width * static_cast<std::size_t>(s.output_size()) +
         static_cast<std::size_t>(s.output_size());
}

}  // namespace

std::string_view architecture_name(Architecture a) {
  switch (a) {
    case Architecture::mlp:
      return "mlp";
    case Architecture::cnn2d:
      return "cnn2d";
    case Architecture::resnet3d:
      return "resnet3d";
  }
  std::abort();
}

ModelSpec ModelSpec::mlp(int features, std::vector<int> hidden, int num_classes) {
  return ModelSpec{Architecture::mlp, {features}, std::move(hidden), num_classes};
}

ModelSpec ModelSpec::cnn2d(std::vector<int> image_shape, int num_classes) {
  return ModelSpec{Architecture::cnn2d, std::move(image_shape), {16, 32, 64}, num_classes};
}

ModelSpec ModelSpec::resnet3d(std::vector<int> volume_shape, int base_width) {
  return ModelSpec{Architecture::resnet3d, std::move(volume_shape), {base_width}, 2};
}

std::size_t ModelSpec::input_size() const {
  std::size_t n = 1;
  for (int d : input_shape) n *= static_cast<std::size_t>(d > 0 ? d : 0);
  return input_shape.empty() ? 0 : n;
}

Status validate(const ModelSpec& s) {
  if (s.num_classes < 2 || s.num_classes > kMaxClasses) {
    return make_error("The model spec has num_classes " + std::to_string(s.num_classes) +
                      "; it must be between 2 and " + std::to_string(kMaxClasses) + ".");
  }
  for (int d : s.input_shape) {
    if (d < 1 || d > kMaxDim) {
      return make_error("The model spec's input_shape " + dims_text(s.input_shape) +
                        " has a dimension outside 1.." + std::to_string(kMaxDim) + ".");
    }
  }
  for (int h : s.hidden) {
    if (h < 1 || h > 65536) {
      return make_error("The model spec's hidden " + dims_text(s.hidden) +
                        " has a width outside 1..65536.");
    }
  }
  std::size_t params = 0;
  switch (s.architecture) {
    case Architecture::mlp:
      if (s.input_shape.size() != 1) {
        return make_error("An mlp spec needs input_shape [features]; got " +
                          dims_text(s.input_shape) + ".");
      }
      if (s.hidden.size() > 16) return make_error("An mlp spec may have at most 16 hidden layers.");
      params = mlp_parameters(s);
      break;
    case Architecture::cnn2d:
      if (s.input_shape.size() != 3 || s.input_shape[1] < 4 || s.input_shape[2] < 4) {
        return make_error(
            "A cnn2d spec needs input_shape [channels, height, width] with height and width "
            "of at least 4; got " +
            dims_text(s.input_shape) + ".");
      }
      if (s.hidden.size() != 3) {
        return make_error(
            "A cnn2d spec needs hidden [conv1 channels, conv2 channels, dense width]; got " +
            dims_text(s.hidden) + ".");
      }
      params = cnn2d_parameters(s);
      break;
    case Architecture::resnet3d:
      if (s.input_shape.size() != 4) {
        return make_error(
            "A resnet3d spec needs input_shape [channels, depth, height, width]; got " +
            dims_text(s.input_shape) + ".");
      }
      if (s.hidden.size() != 1 || s.hidden[0] > 128) {
        return make_error(
            "A resnet3d spec needs hidden [base width] with a width of at most 128; got " +
            dims_text(s.hidden) + ".");
      }
      params = resnet3d_parameters(s);
      break;
  }
  if (params > kMaxParameters || s.input_size() > (std::size_t{1} << 28)) {
    return make_error("The model spec describes " + std::to_string(params) +
                      " parameters or inputs, more than this build accepts (2^28).");
  }
  return {};
}

std::string to_json(const ModelSpec& s) {
  // nlohmann::json objects are std::map-backed: keys come out sorted.
  nlohmann::json j;
  j["architecture"] = std::string(architecture_name(s.architecture));
  j["input_shape"] = s.input_shape;
  j["hidden"] = s.hidden;
  j["num_classes"] = s.num_classes;
  return j.dump();
}

Result<ModelSpec> spec_from_json(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return make_error("The model spec is not a JSON object.");
  const auto int_list = [&](const char* key, std::vector<int>& out) -> bool {
    if (!j.contains(key) || !j[key].is_array()) return false;
    for (const auto& v : j[key]) {
      if (!v.is_number_integer()) return false;
      const auto n = v.get<long long>();
      if (n < -kMaxDim || n > kMaxDim) return false;
      out.push_back(static_cast<int>(n));
    }
    return true;
  };
  ModelSpec s;
  const auto arch = j.contains("architecture") && j["architecture"].is_string()
                        ? j["architecture"].get<std::string>()
                        : std::string();
  if (arch == "mlp") {
    s.architecture = Architecture::mlp;
  } else if (arch == "cnn2d") {
    s.architecture = Architecture::cnn2d;
  } else if (arch == "resnet3d") {
    s.architecture = Architecture::resnet3d;
  } else {
    return make_error("The model spec's architecture must be \"mlp\", \"cnn2d\" or \"resnet3d\".");
  }
  if (!int_list("input_shape", s.input_shape) || !int_list("hidden", s.hidden)) {
    return make_error("The model spec needs input_shape and hidden as arrays of small integers.");
  }
  if (!j.contains("num_classes") || !j["num_classes"].is_number_integer()) {
    return make_error("The model spec needs an integer num_classes.");
  }
  const auto classes = j["num_classes"].get<long long>();
  if (classes < 2 || classes > kMaxClasses) {
    return make_error("The model spec's num_classes must be between 2 and " +
                      std::to_string(kMaxClasses) + ".");
  }
  s.num_classes = static_cast<int>(classes);
  if (auto st = validate(s); !st) return st.error();
  return s;
}

std::vector<double> Predictions::scores(int cls) const {
  std::vector<double> out(rows);
  const auto k = static_cast<std::size_t>(num_classes);
  for (std::size_t i = 0; i < rows; ++i)
    out[i] = probabilities[i * k + static_cast<std::size_t>(cls)];
  return out;
}

std::vector<std::vector<double>> Predictions::per_row() const {
  std::vector<std::vector<double>> out(rows);
  const auto k = static_cast<std::size_t>(num_classes);
  for (std::size_t i = 0; i < rows; ++i) {
    out[i].assign(probabilities.begin() + static_cast<std::ptrdiff_t>(i * k),
                  probabilities.begin() + static_cast<std::ptrdiff_t>((i + 1) * k));
  }
  return out;
}

}  // namespace baton::learning

// ModelSpec: validation (overflow-checked), canonical JSON. Torch-free.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "learning/model_spec.h"

namespace baton::learning {
namespace {

constexpr int kMaxDim = 1 << 20;
constexpr int kMaxClasses = 1000;
constexpr int kMaxWidth = 65536;

std::string dims_text(const std::vector<int>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

// a * b, or nullopt when it does not fit in 64 bits.
std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// Trainable values of the spec's network, summed over tensor_layout() with
// every product and sum checked, so that validate() refuses an oversized spec
// before anything is allocated. Pre: the per-field bounds hold (then every
// single dimension fits; only products can overflow). nullopt on overflow.
std::optional<std::uint64_t> checked_parameters(const ModelSpec& s) {
  std::uint64_t total = 0;
  for (const auto& t : tensor_layout(s)) {
    if (t.is_buffer) continue;
    std::optional<std::uint64_t> values = 1;
    for (auto d : t.dims) {
      values = checked_mul(*values, static_cast<std::uint64_t>(d));
      if (!values) return std::nullopt;
    }
    if (__builtin_add_overflow(total, *values, &total)) return std::nullopt;
  }
  return total;
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

std::string_view normalization_name(Normalization n) {
  return n == Normalization::group ? "group" : "batch";
}

bool has_batch_norm(const ModelSpec& spec) {
  return spec.architecture == Architecture::resnet3d && spec.normalization == Normalization::batch;
}

ModelSpec ModelSpec::mlp(int features, std::vector<int> hidden, int num_classes) {
  return ModelSpec{Architecture::mlp, {features}, std::move(hidden), num_classes};
}

ModelSpec ModelSpec::cnn2d(std::vector<int> image_shape, int num_classes) {
  return ModelSpec{Architecture::cnn2d, std::move(image_shape), {16, 32, 64}, num_classes};
}

ModelSpec ModelSpec::resnet3d(std::vector<int> volume_shape, int base_width,
                              Normalization normalization) {
  return ModelSpec{Architecture::resnet3d, std::move(volume_shape), {base_width}, 2, normalization};
}

std::size_t ModelSpec::input_size() const {
  if (input_shape.empty()) return 0;
  std::uint64_t n = 1;
  for (int d : input_shape) {
    auto next = checked_mul(n, static_cast<std::uint64_t>(d > 0 ? d : 0));
    if (!next || *next > SIZE_MAX) return SIZE_MAX;
    n = *next;
  }
  return static_cast<std::size_t>(n);
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
    if (h < 1 || h > kMaxWidth) {
      return make_error("The model spec's hidden " + dims_text(s.hidden) +
                        " has a width outside 1.." + std::to_string(kMaxWidth) + ".");
    }
  }
  if (s.normalization == Normalization::group && s.architecture != Architecture::resnet3d) {
    return make_error("The model spec's norm \"group\" applies to resnet3d only; the " +
                      std::string(architecture_name(s.architecture)) +
                      " has no normalization layer: leave norm out.");
  }
  switch (s.architecture) {
    case Architecture::mlp:
      if (s.input_shape.size() != 1) {
        return make_error("An mlp spec needs input_shape [features]; got " +
                          dims_text(s.input_shape) + ".");
      }
      if (s.hidden.size() > 16) return make_error("An mlp spec may have at most 16 hidden layers.");
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
      break;
  }
  // Inputs first: they bound the cnn2d dense layer's width, and a product of
  // four dimensions of up to 2^20 each overflows 64 bits.
  if (s.input_size() > kMaxInputValues) {
    return make_error("The model spec's input_shape " + dims_text(s.input_shape) +
                      " has more than 2^24 values per sample, more than this build accepts.");
  }
  const auto params = checked_parameters(s);
  if (!params || *params > kMaxParameters) {
    return make_error("The model spec describes " +
                      (params ? std::to_string(*params) : std::string("more than 2^64")) +
                      " parameters, more than this build accepts (2^28).");
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
  if (s.normalization != Normalization::batch)
    j["norm"] = std::string(normalization_name(s.normalization));
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
  if (j.contains("norm")) {
    const auto norm = j["norm"].is_string() ? j["norm"].get<std::string>() : std::string();
    if (norm == "group") {
      s.normalization = Normalization::group;
    } else if (norm != "batch") {
      return make_error("The model spec's norm must be \"batch\" or \"group\".");
    }
  }
  if (auto st = validate(s); !st) return st.error();
  return s;
}

namespace {

// spec_from_json's errors are whole sentences ("The model spec ... ."); here
// they follow "model: " inside the plan check's sentence.
std::string clause(std::string sentence) {
  if (!sentence.empty() && sentence.back() == '.') sentence.pop_back();
  if (!sentence.empty())
    sentence[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(sentence[0])));
  return sentence;
}

}  // namespace

Result<ModelSpec> plan_model_spec(std::string_view model_spec_json, std::size_t feature_columns) {
  auto spec = spec_from_json(model_spec_json);
  if (!spec) return make_error("model: " + clause(spec.error().message));
  if (spec->num_classes != 2) {
    return make_error("model.num_classes is " + std::to_string(spec->num_classes) +
                      ", but the plan's labels are binary (dataset.label_column equal to "
                      "positive_value or not): set num_classes to 2");
  }
  const std::string arch(architecture_name(spec->architecture));
  if (spec->architecture == Architecture::mlp) {
    if (feature_columns == 0)
      return make_error(
          "dataset.feature_columns is empty; an mlp model needs at least one feature");
    return spec;
  }
  if (feature_columns != 1) {
    return make_error("dataset.feature_columns has " + std::to_string(feature_columns) +
                      " entries, but a " + arch +
                      " model reads one volume per row: name exactly one column, the manifest "
                      "column that holds the .npy paths");
  }
  return spec;
}

}  // namespace baton::learning

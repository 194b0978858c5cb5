// Model blobs: the spec as canonical JSON plus every tensor, little-endian, in
// a fixed order (format in model.h and docs/PROTOCOL.md). Not torch's zip
// pickles, whose bytes are not specified and may change between versions.
#include <bit>
#include <cstring>
#include <string>

#include "learning/torch_model.h"

namespace baton::learning {
namespace {

constexpr char kMagic[8] = {'B', 'A', 'T', 'O', 'N', 'M', 'D', 'L'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint32_t kMaxSpecBytes = 1 << 16;
constexpr std::uint8_t kFloat32 = 1;
constexpr std::uint8_t kInt64 = 2;

void put_le(chain::Bytes& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Appends `count` values of `width` bytes each, converting to little-endian.
void put_values(chain::Bytes& out, const void* data, std::size_t count, std::size_t width) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  const std::size_t at = out.size();
  out.resize(at + count * width);
  if constexpr (std::endian::native == std::endian::little) {
    if (count) std::memcpy(out.data() + at, p, count * width);
  } else {
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t b = 0; b < width; ++b)
        out[at + i * width + b] = p[i * width + (width - 1 - b)];
  }
}

// A bounds-checked reader over untrusted bytes.
class Reader {
 public:
  explicit Reader(chain::ByteView b) : b_(b) {}
  bool take(std::size_t n, const std::uint8_t** p) {
    if (b_.size() - pos_ < n) return false;
    *p = b_.data() + pos_;
    pos_ += n;
    return true;
  }
  bool le(int bytes, std::uint64_t* v) {
    const std::uint8_t* p = nullptr;
    if (!take(static_cast<std::size_t>(bytes), &p)) return false;
    *v = 0;
    for (int i = 0; i < bytes; ++i) *v |= std::uint64_t{p[i]} << (8 * i);
    return true;
  }
  std::size_t remaining() const { return b_.size() - pos_; }
  std::size_t position() const { return pos_; }

 private:
  chain::ByteView b_;
  std::size_t pos_ = 0;
};

std::string dims_text(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

Error blob_error(const std::string& what) {
  return make_error(
      "The model blob is not a valid Baton model: " + what +
          " Check that the file is a model written by this version of Baton and was not altered.",
      static_cast<int>(ModelBlobErrc::malformed));
}

}  // namespace

chain::Bytes serialize(const Model& model) {
  const auto spec = to_json(model.spec());
  auto tensors = ordered_tensors(*const_cast<Model&>(model).impl().net);
  // The exact size first: growing a 100 MiB vector by doubling would copy
  // the weights several times over.
  std::size_t total = sizeof kMagic + 4 + 4 + spec.size() + 4;
  for (const auto& [name, tensor] : tensors) {
    total += 2 + name.size() + 1 + 1 + 8 * static_cast<std::size_t>(tensor.dim()) +
             static_cast<std::size_t>(tensor.numel()) * tensor.element_size();
  }
  chain::Bytes out(sizeof kMagic);
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  out.reserve(total);
  put_le(out, kVersion, 4);
  put_le(out, spec.size(), 4);
  out.insert(out.end(), spec.begin(), spec.end());
  put_le(out, tensors.size(), 4);
  for (auto& [name, tensor] : tensors) {
    put_le(out, name.size(), 2);
    out.insert(out.end(), name.begin(), name.end());
    const auto t = tensor.detach().contiguous();
    const bool is_float = t.scalar_type() == torch::kFloat32;
    if (!is_float && t.scalar_type() != torch::kInt64)
      std::abort();  // a network with another dtype is a bug
    out.push_back(is_float ? kFloat32 : kInt64);
    out.push_back(static_cast<std::uint8_t>(t.dim()));
    for (auto d : t.sizes()) put_le(out, static_cast<std::uint64_t>(d), 8);
    put_values(out, t.data_ptr(), static_cast<std::size_t>(t.numel()), is_float ? 4 : 8);
  }
  return out;
}

Result<Model> deserialize(chain::ByteView bytes, const ModelSpec& expected_spec) {
  if (auto st = validate(expected_spec); !st) {
    return make_error("The expected model spec is invalid: " + st.error().message,
                      static_cast<int>(ModelBlobErrc::wrong_spec));
  }
  Reader r(bytes);
  const std::uint8_t* magic = nullptr;
  if (!r.take(sizeof kMagic, &magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
    return blob_error("it does not start with \"BATONMDL\".");
  }
  std::uint64_t version = 0, spec_len = 0;
  if (!r.le(4, &version) || version != kVersion) {
    return blob_error("its format version is " + std::to_string(version) +
                      ", this build reads version 1.");
  }
  const std::uint8_t* spec_bytes = nullptr;
  if (!r.le(4, &spec_len) || spec_len > kMaxSpecBytes || !r.take(spec_len, &spec_bytes)) {
    return blob_error("its spec is truncated or longer than 64 KiB.");
  }
  // The blob's spec is compared as text, never parsed or built: a blob that
  // declares another (say, a 2^28-parameter) network costs nothing.
  const std::string want_spec = to_json(expected_spec);
  const std::string_view got_spec(reinterpret_cast<const char*>(spec_bytes), spec_len);
  if (got_spec != want_spec) {
    return make_error("The model blob declares the spec " + std::string(got_spec.substr(0, 200)) +
                          (spec_len > 200 ? "..." : "") + " where " + want_spec +
                          " is expected; a model of another architecture is refused.",
                      static_cast<int>(ModelBlobErrc::wrong_spec));
  }
  if (const auto want_size = serialized_size(expected_spec); bytes.size() != want_size) {
    return blob_error("it is " + std::to_string(bytes.size()) +
                      " bytes long where a model of its "
                      "spec is " +
                      std::to_string(want_size) + ".");
  }
  auto model = Model::create(expected_spec, 0);
  if (!model) return model.error();

  auto expected = ordered_tensors(*model->impl().net);
  std::uint64_t count = 0;
  if (!r.le(4, &count) || count != expected.size()) {
    return blob_error("it holds " + std::to_string(count) + " tensors where its spec needs " +
                      std::to_string(expected.size()) + ".");
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : expected) {
    std::uint64_t name_len = 0, dtype = 0, rank = 0;
    const std::uint8_t* name_bytes = nullptr;
    if (!r.le(2, &name_len) || !r.take(name_len, &name_bytes))
      return blob_error("it is truncated.");
    const std::string got(reinterpret_cast<const char*>(name_bytes), name_len);
    if (got != name)
      return blob_error("tensor \"" + got + "\" appears where \"" + name + "\" belongs.");
    const bool is_float = tensor.scalar_type() == torch::kFloat32;
    if (!r.le(1, &dtype) || dtype != (is_float ? kFloat32 : kInt64)) {
      return blob_error("tensor \"" + name + "\" has the wrong value type.");
    }
    const auto want = tensor.sizes().vec();
    if (!r.le(1, &rank) || rank != want.size())
      return blob_error("tensor \"" + name + "\" has the wrong rank.");
    std::vector<int64_t> dims(rank);
    for (auto& d : dims) {
      std::uint64_t v = 0;
      if (!r.le(8, &v)) return blob_error("it is truncated.");
      d = static_cast<int64_t>(v);
    }
    if (dims != want) {
      return blob_error("tensor \"" + name + "\" has shape " + dims_text(dims) +
                        " where its spec needs " + dims_text(want) + ".");
    }
    const std::size_t width = is_float ? 4 : 8;
    const auto n = static_cast<std::size_t>(tensor.numel());
    const std::uint8_t* values = nullptr;
    if (!r.take(n * width, &values)) return blob_error("tensor \"" + name + "\" is truncated.");
    // Straight into the tensor's memory when it is contiguous (as the network
    // builds it) and the host is little-endian; else through a native copy.
    if (std::endian::native == std::endian::little && tensor.is_contiguous()) {
      if (n) std::memcpy(tensor.data_ptr(), values, n * width);
    } else {
      auto host = torch::empty(want, tensor.options());
      chain::Bytes native;
      put_values(native, values, n, width);  // little-endian -> native
      if (n) std::memcpy(host.data_ptr(), native.data(), n * width);
      tensor.copy_(host);
    }
  }
  if (r.remaining() != 0) {
    return blob_error("it has " + std::to_string(r.remaining()) + " bytes after the last tensor.");
  }
  return model;
}

chain::Hash model_hash(const Model& model) { return chain::sha256(serialize(model)); }

}  // namespace baton::learning

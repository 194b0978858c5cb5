// The float32 values of a model blob (PROTOCOL §17), found without LibTorch
// and without the spec: the aggregator reads the head's values, adds the
// aggregate and writes them back into a copy of the head's bytes. The blob
// may come from anywhere, so every length is checked against what is left
// before it is used, and nothing is allocated from a count the bytes declare
// until the bytes are known to hold it.
#include <bit>
#include <cstring>
#include <string>

#include "secagg/secagg.h"

namespace baton::secagg {
namespace {

constexpr char kMagic[8] = {'B', 'A', 'T', 'O', 'N', 'M', 'D', 'L'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint64_t kMaxSpecBytes = 1 << 16;
constexpr std::uint8_t kFloat32 = 1;
constexpr std::uint8_t kInt64 = 2;
// The least a tensor descriptor takes: u16 name length, dtype, rank.
constexpr std::size_t kMinTensorBytes = 4;

class Reader {
 public:
  explicit Reader(ByteView b) : b_(b) {}
  bool skip(std::uint64_t n) {
    if (n > remaining()) return false;
    pos_ += static_cast<std::size_t>(n);
    return true;
  }
  bool le(int bytes, std::uint64_t* v) {
    if (remaining() < static_cast<std::size_t>(bytes)) return false;
    *v = 0;
    for (int i = 0; i < bytes; ++i) *v |= std::uint64_t{b_[pos_ + i]} << (8 * i);
    pos_ += static_cast<std::size_t>(bytes);
    return true;
  }
  const std::uint8_t* here() const { return b_.data() + pos_; }
  std::size_t remaining() const { return b_.size() - pos_; }
  std::size_t position() const { return pos_; }

 private:
  ByteView b_;
  std::size_t pos_ = 0;
};

Error blob_error(const std::string& what) {
  return make_error("The model blob cannot be aggregated: " + what +
                    " Check that it is a model written by this version of Baton (PROTOCOL §17) "
                    "and was not altered.");
}

}  // namespace

Result<BlobLayout> blob_layout(ByteView blob) {
  Reader r(blob);
  if (blob.size() < sizeof kMagic || std::memcmp(blob.data(), kMagic, sizeof kMagic) != 0) {
    return blob_error("it does not start with \"BATONMDL\".");
  }
  (void)r.skip(sizeof kMagic);
  std::uint64_t version = 0, spec_len = 0, count = 0;
  if (!r.le(4, &version)) return blob_error("it ends inside its header.");
  if (version != kVersion) {
    return blob_error("its format version is " + std::to_string(version) +
                      ", this build reads version 1.");
  }
  if (!r.le(4, &spec_len) || spec_len > kMaxSpecBytes || !r.skip(spec_len)) {
    return blob_error("its spec is truncated or longer than 64 KiB.");
  }
  if (!r.le(4, &count)) return blob_error("it ends before its tensor count.");
  if (count > r.remaining() / kMinTensorBytes) {
    return blob_error("it declares " + std::to_string(count) + " tensors in " +
                      std::to_string(r.remaining()) + " bytes.");
  }
  BlobLayout layout;
  for (std::uint64_t t = 0; t < count; ++t) {
    std::uint64_t name_len = 0, dtype = 0, rank = 0;
    if (!r.le(2, &name_len) || !r.skip(name_len) || !r.le(1, &dtype) || !r.le(1, &rank)) {
      return blob_error("it ends inside the descriptor of tensor " + std::to_string(t) + ".");
    }
    if (dtype != kFloat32 && dtype != kInt64) {
      return blob_error("tensor " + std::to_string(t) + " has value type " + std::to_string(dtype) +
                        " (1 float32 and 2 int64 are known).");
    }
    const std::size_t width = dtype == kFloat32 ? 4 : 8;
    // The values must fit in what is left after the dims: bound the product
    // by that at every step so that it cannot overflow.
    if (rank * 8 > r.remaining()) {
      return blob_error("it ends inside the shape of tensor " + std::to_string(t) + ".");
    }
    const std::uint64_t room = (r.remaining() - rank * 8) / width;
    std::uint64_t values = 1;
    bool has_zero = false, too_many = false;
    for (std::uint64_t d = 0; d < rank; ++d) {
      std::uint64_t dim = 0;
      (void)r.le(8, &dim);  // in bounds: checked above
      if (dim == 0) {
        has_zero = true;
      } else if (!too_many && dim > room / values) {
        too_many = true;  // keep reading the dims: a later 0 makes the tensor empty
      } else if (!too_many) {
        values *= dim;
      }
    }
    if (has_zero) values = 0;
    if ((too_many && !has_zero) || values > room) {
      return blob_error("tensor " + std::to_string(t) + " declares more values than the " +
                        std::to_string(r.remaining()) + " bytes left hold.");
    }
    if (dtype == kFloat32) {
      layout.floats.push_back({r.position(), static_cast<std::size_t>(values)});
      layout.float_count += static_cast<std::size_t>(values);
    }
    (void)r.skip(values * width);
  }
  if (r.remaining() != 0) {
    return blob_error("it has " + std::to_string(r.remaining()) + " bytes after the last tensor.");
  }
  return layout;
}

Result<std::vector<float>> blob_floats(ByteView blob) {
  auto layout = blob_layout(blob);
  if (!layout) return layout.error();
  std::vector<float> out(layout->float_count);
  std::size_t at = 0;
  for (const auto& span : layout->floats) {
    const std::uint8_t* p = blob.data() + span.offset;
    for (std::size_t i = 0; i < span.count; ++i, p += 4) {
      const std::uint32_t bits = std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                                 std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
      out[at++] = std::bit_cast<float>(bits);
    }
  }
  return out;
}

Result<Bytes> blob_with_floats(ByteView blob, std::span<const float> values) {
  auto layout = blob_layout(blob);
  if (!layout) return layout.error();
  if (values.size() != layout->float_count) {
    return make_error("The aggregate has " + std::to_string(values.size()) +
                      " values where the head model has " + std::to_string(layout->float_count) +
                      " float32 values; the updates were computed against another model.");
  }
  Bytes out(blob.begin(), blob.end());
  std::size_t at = 0;
  for (const auto& span : layout->floats) {
    std::uint8_t* p = out.data() + span.offset;
    for (std::size_t i = 0; i < span.count; ++i, p += 4) {
      const auto bits = std::bit_cast<std::uint32_t>(values[at++]);
      for (int b = 0; b < 4; ++b) p[b] = static_cast<std::uint8_t>(bits >> (8 * b));
    }
  }
  return out;
}

}  // namespace baton::secagg

// The masked upload object a partner puts in the object store (PROTOCOL
// §21.4): "BATONMSK" | u32 LE version 1 | u64 LE count | count x u64 LE.
#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include "secagg/secagg.h"

namespace baton::secagg {
namespace {

constexpr char kMagic[8] = {'B', 'A', 'T', 'O', 'N', 'M', 'S', 'K'};
constexpr std::uint32_t kVersion = 1;

std::uint64_t load_le(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

void store_le(std::uint8_t* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

Error upload_error(const std::string& what) {
  return make_error("The masked upload is not usable: " + what +
                    " The partner that uploaded it sent something other than a masked update "
                    "of the round's model.");
}

}  // namespace

Bytes encode_masked_upload(std::span<const std::uint64_t> values) {
  Bytes out(masked_upload_size(values.size()));
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  store_le(out.data() + 8, kVersion, 4);
  store_le(out.data() + 12, values.size(), 8);
  std::uint8_t* p = out.data() + 20;
  if constexpr (std::endian::native == std::endian::little) {
    if (!values.empty()) std::memcpy(p, values.data(), values.size() * 8);
  } else {
    for (std::size_t i = 0; i < values.size(); ++i) store_le(p + 8 * i, values[i], 8);
  }
  return out;
}

Result<std::vector<std::uint64_t>> decode_masked_upload(ByteView object,
                                                        std::size_t expected_count) {
  // The size first, from the expected count (the head model's), never from
  // the object: a hostile count allocates nothing.
  if (expected_count > (std::numeric_limits<std::size_t>::max() - 20) / 8) {
    return upload_error("a model of " + std::to_string(expected_count) +
                        " values is beyond any object this build reads.");
  }
  if (object.size() != masked_upload_size(expected_count)) {
    return upload_error("it is " + std::to_string(object.size()) +
                        " bytes where a masked update of " + std::to_string(expected_count) +
                        " values is " + std::to_string(masked_upload_size(expected_count)) +
                        " bytes.");
  }
  if (std::memcmp(object.data(), kMagic, sizeof kMagic) != 0) {
    return upload_error("it does not start with \"BATONMSK\".");
  }
  if (const auto version = load_le(object.data() + 8, 4); version != kVersion) {
    return upload_error("its format version is " + std::to_string(version) +
                        ", this build reads version 1.");
  }
  if (const auto count = load_le(object.data() + 12, 8); count != expected_count) {
    return upload_error("it declares " + std::to_string(count) + " values where the model has " +
                        std::to_string(expected_count) + ".");
  }
  std::vector<std::uint64_t> values(expected_count);
  const std::uint8_t* p = object.data() + 20;
  if constexpr (std::endian::native == std::endian::little) {
    if (expected_count) std::memcpy(values.data(), p, expected_count * 8);
  } else {
    for (std::size_t i = 0; i < expected_count; ++i) values[i] = load_le(p + 8 * i, 8);
  }
  return values;
}

}  // namespace baton::secagg

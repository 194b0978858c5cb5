// libFuzzer target for the two decoders of secure aggregation that read
// another hospital's bytes (secagg/secagg.h): the model blob reader (§17,
// without LibTorch) and the masked upload object (§21.4). Any input must give
// a layout or an error sentence, never a crash, an abort or an allocation
// sized by a count the bytes cannot back.
//
// Checks:
//  - a layout that blob_layout accepts lies inside the input, its spans in
//    order and not overlapping, and writing its own values back
//    (blob_with_floats of blob_floats) gives the input unchanged;
//  - decode_masked_upload accepts the input for the count its size implies
//    exactly when the header is "BATONMSK", version 1 and that count, and
//    encode_masked_upload of what it read gives the input back.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "secagg/secagg.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::uint64_t load_le(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace baton::secagg;
  const baton::chain::ByteView bytes(data, size);

  auto layout = blob_layout(bytes);
  if (layout.ok()) {
    std::size_t end = 0, total = 0;
    for (const auto& span : layout->floats) {
      check(span.offset >= end && span.offset <= size && span.count <= (size - span.offset) / 4);
      end = span.offset + 4 * span.count;
      total += span.count;
    }
    check(total == layout->float_count);
    auto floats = blob_floats(bytes);
    check(floats.ok() && floats->size() == total);
    auto again = blob_with_floats(bytes, *floats);
    check(again.ok() && again->size() == size &&
          (size == 0 || std::memcmp(again->data(), data, size) == 0));
  } else {
    check(!layout.error().message.empty());
  }

  const std::size_t count = size >= 20 ? (size - 20) / 8 : 0;
  auto upload = decode_masked_upload(bytes, count);
  const bool well_formed = size >= 20 && (size - 20) % 8 == 0 &&
                           std::memcmp(data, "BATONMSK", 8) == 0 && load_le(data + 8, 4) == 1 &&
                           load_le(data + 12, 8) == count;
  check(upload.ok() == well_formed);
  if (upload.ok()) {
    const auto back = encode_masked_upload(*upload);
    check(back.size() == size && std::memcmp(back.data(), data, size) == 0);
  }
  return 0;
}

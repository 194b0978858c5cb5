// libFuzzer target for the .npy reader (learning/volumes.h): the preamble
// parser on bytes, and the same bytes read as a volume file. Volumes come
// from hospitals' manifests; any file must give a volume or an error
// sentence naming it, never a crash, an abort or an allocation sized by a
// header the file cannot back.
//
// Input: a whole .npy file (the corpus holds numpy-written ones). Checks:
//  - what parse_npy_header accepts is within the limits volumes.h states,
//    and npy_preamble (the writer) of the same shape parses to that shape;
//  - read_npy_into on the same bytes as a file agrees with the parser: it
//    succeeds exactly when the header parses and the file holds exactly the
//    values it announces, and then reads those values.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "learning/volumes.h"

namespace {

using namespace baton::learning;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Volumes up to this many values are also read from a file (bigger valid
// headers are checked by the parser alone, so that each run stays fast).
constexpr std::size_t kMaxReadValues = std::size_t{1} << 16;

const std::filesystem::path& scratch_file() {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("baton-fuzz-npy-" + std::to_string(::getpid()) + ".npy");
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto header = parse_npy_header(bytes, "fuzz input");
  if (header.ok()) {
    check(!header->shape.empty() && header->shape.size() <= 8);
    std::size_t values = 1;
    std::vector<int> shape;
    for (std::int64_t d : header->shape) {
      check(d >= 1 && static_cast<std::size_t>(d) <= kMaxVolumeValues);
      values *= static_cast<std::size_t>(d);
      check(values <= kMaxVolumeValues);
      shape.push_back(static_cast<int>(d));
    }
    check(values == header->values);
    check(header->data_offset >= 10 && header->data_offset <= 10 + kMaxNpyHeaderBytes);
    check(header->data_offset <= size);
    const std::string written = npy_preamble(shape);
    auto again = parse_npy_header(written, "preamble");
    check(again.ok() && again->shape == header->shape && again->data_offset == written.size());
    check(written.size() % 64 == 0);
  } else {
    check(!header.error().message.empty());
  }
  if (header.ok() && header->values > kMaxReadValues) return 0;

  {
    std::ofstream out(scratch_file(), std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  // Read as the shape the header announces (or a one-value shape when it
  // announces none): exactly the files whose size matches are volumes.
  std::vector<int> shape{1};
  if (header.ok()) shape.assign(header->shape.begin(), header->shape.end());
  std::vector<float> values(header.ok() ? header->values : 1);
  const auto read = read_npy_into(scratch_file(), shape, values);
  const bool exact = header.ok() && size == header->data_offset + header->values * sizeof(float);
  check(read.ok() == exact);
  if (read.ok()) {
    check(std::memcmp(values.data(), data + header->data_offset, values.size() * sizeof(float)) ==
          0);
  } else {
    check(read.error().message.find(scratch_file().string()) != std::string::npos);
  }
  return 0;
}

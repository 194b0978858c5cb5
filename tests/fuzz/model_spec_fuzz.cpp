// libFuzzer target for the model spec parser (learning/model_spec.h): a spec
// arrives as JSON in a training plan (genesis or StartRun, from one admin)
// and inside every model blob (from the partner that wrote it). Torch-free,
// so it runs in the clang fuzz build; the blob decoder itself needs LibTorch
// and has its own target (tests/learning/fuzz/model_blob_fuzz.cpp).
//
// What parses must be valid and within this build's limits, every size
// computed from it must be finite and bounded (voters size downloads and
// evaluation budgets with them before building a network), and its canonical
// JSON must parse back to the same spec.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "learning/model_spec.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace baton::learning;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = spec_from_json(text);
  if (!spec.ok()) {
    check(!spec.error().message.empty());
    return 0;
  }
  check(validate(*spec).ok());
  check(spec->input_size() >= 1 && spec->input_size() <= kMaxInputValues);
  std::uint64_t parameters = 0;
  for (const auto& t : tensor_layout(*spec)) {
    std::uint64_t values = 1;
    for (auto d : t.dims) {
      check(d >= 1);
      values *= static_cast<std::uint64_t>(d);
    }
    if (!t.is_buffer) parameters += values;
    check(parameters <= kMaxParameters);
  }
  const std::uint64_t bytes = serialized_size(*spec);
  check(bytes >= 20 + to_json(*spec).size() + 4 * parameters);
  // Weights of at most 1 GiB, batch-norm buffers no more than the weights,
  // and tensor headers: a voter's download bound stays below 2 GiB + 1 MiB.
  check(bytes <= 2 * 4 * kMaxParameters + (1u << 20));
  const double macs = forward_macs(*spec);
  check(std::isfinite(macs) && macs >= 0);
  auto again = spec_from_json(to_json(*spec));
  check(again.ok() && *again == *spec);
  return 0;
}

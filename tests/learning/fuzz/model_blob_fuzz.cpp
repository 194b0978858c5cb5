// libFuzzer target for the model blob decoder (learning/serialize.cpp) and
// the model spec parser: a candidate's plaintext is written by its partner,
// who holds the data key, so every byte is the attacker's. Any input must
// give a model or an error, never a crash, a sanitizer report, an abort or an
// allocation sized by the input: deserialize() is given the spec the plan
// names and must refuse any other before building anything. Built with
// -DBATON_FUZZ=ON as a libFuzzer binary; otherwise run by ctest as
// fuzz_learning_model on tests/learning/fuzz/model_corpus plus mutations.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "learning/model.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace baton::learning;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Specs arrive as JSON in plans (and inside blobs): what parses is valid,
  // within the bounds, and its sizes compute without overflow.
  if (!text.empty() && text.front() == '{') {
    auto spec = spec_from_json(text);
    if (!spec.ok()) return 0;
    if (!validate(*spec).ok()) __builtin_trap();
    if (spec->input_size() > kMaxInputValues) __builtin_trap();
    if (serialized_size(*spec) < 20 + to_json(*spec).size()) __builtin_trap();
    if (!(forward_macs(*spec) >= 0)) __builtin_trap();
    auto again = spec_from_json(to_json(*spec));
    if (!again.ok() || !(*again == *spec)) __builtin_trap();
    return 0;
  }
  // Blobs: decoded against the plans' specs the corpus was made for (the
  // seeds are blobs of these), so mutations reach the tensor checks.
  static const ModelSpec kSpecs[] = {ModelSpec::mlp(3, {4}),
                                     ModelSpec{Architecture::cnn2d, {1, 4, 4}, {1, 1, 2}, 2}};
  const baton::chain::ByteView bytes(data, size);
  for (const auto& spec : kSpecs) {
    auto model = deserialize(bytes, spec);
    if (!model.ok()) continue;
    // What loads is exactly the input: the blob has one encoding.
    const auto back = serialize(*model);
    if (back.size() != size || !std::equal(back.begin(), back.end(), data)) __builtin_trap();
    if (!(model->spec() == spec)) __builtin_trap();
  }
  return 0;
}

// libFuzzer target for the genesis parser (chain/genesis.h): any bytes become
// a Genesis or an error sentence, never a crash; an accepted genesis encodes
// to text that parses back to the same encoding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chain/genesis.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace baton::chain;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto g = parse_genesis(text);
  if (!g) {
    check(!g.error().message.empty());
    return 0;
  }
  const std::string encoded = encode_genesis(*g);
  auto again = parse_genesis(encoded);
  check(again.ok());
  check(encode_genesis(*again) == encoded);
  return 0;
}

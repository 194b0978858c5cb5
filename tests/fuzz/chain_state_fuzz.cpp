// libFuzzer target for the state decoder (chain/state_decode.h): a state
// snapshot's bytes, which state sync will take from peers. Any bytes become a
// LedgerState or an error sentence, never a crash; an accepted state
// re-encodes to exactly the input (canonical).
#include <cstddef>
#include <cstdint>

#include "chain/state_decode.h"
#include "tests/chain/chain_fixture.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace baton::chain;
  static const Genesis genesis = testing::fixed_genesis();
  const ByteView bytes(data, size);
  auto state = decode_state(bytes, genesis);
  if (!state) {
    check(!state.error().message.empty());
    return 0;
  }
  check(state_encoding(*state) == Bytes(bytes.begin(), bytes.end()));
  return 0;
}

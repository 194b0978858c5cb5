// libFuzzer target for the consensus message decoder (consensus/messages.h):
// bytes from a peer become a ConsensusMessage or a refusal, never a crash.
// A decoded message must encode and decode again to the same message, and
// the signature checks must answer without crashing on whatever it holds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "consensus/messages.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();  // an invariant of the decoder broke: a bug
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace baton::consensus;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = decode_message(bytes, 1 << 16);
  if (!decoded) {
    check(decoded.error().code >= static_cast<int>(MessageVerdict::malformed));
    return 0;
  }
  check(size <= (1 << 16));
  check(check_well_formed(*decoded) == MessageVerdict::accepted);
  const std::string again = encode_message(*decoded);
  auto redecoded = decode_message(again, 1 << 16);
  check(redecoded.ok());
  check(encode_message(*redecoded) == again);
  static const baton::chain::NetworkId network{
      "fuzz-chain", baton::chain::sha256(std::string_view("fuzz-chain/genesis"))};
  if (decoded->has_vote()) {
    (void)verify_vote_signature(network, decoded->vote());
  } else {
    const auto& p = decoded->proposal();
    if (auto id = block_id_of(p.block())) (void)verify_proposal_signature(network, p, *id);
  }
  return 0;
}

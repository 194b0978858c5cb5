// libFuzzer target for the chain decoders (chain/block.h, transaction.h,
// vote.h, validation.h): stored or gossiped bytes become a block, a
// transaction or evidence, or a reason, never a crash. The same bytes are fed
// to every decoder; a committed block that decodes is checked statelessly and
// applied to the genesis state of a fixed four-member chain.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chain/block.h"
#include "chain/validation.h"
#include "tests/chain/chain_fixture.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();  // an invariant of a decoder broke: a bug
}

const baton::chain::testing::TestChain& chain() {
  static const baton::chain::testing::TestChain c;
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace baton::chain;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto& c = chain();

  auto tx =
      check_transaction(bytes, c.spec.network(), c.spec.validators, c.spec.params().max_tx_bytes);
  if (tx) check(encode_transaction(*tx) == bytes);
  (void)check_evidence(c.spec.network(), c.spec.validators, bytes);
  if (auto h = decode_header(bytes)) check(h->SerializeAsString() == bytes);

  auto committed = decode_committed_block(bytes);
  if (!committed) return 0;
  auto decoded = check_block_stateless(c.spec, *committed);
  if (!decoded) {
    check(!decoded.reason().message().empty());
    return 0;
  }
  check(decoded->id == block_id(committed->block()));
  auto after = apply_block(c.spec, c.state, *decoded);
  if (after)
    check(after->height == decoded->header.height() && after->last_block_id == decoded->id);
  return 0;
}

#include "storage/state_snapshot.h"

#include "chain/block.h"
#include "chain/encoding.h"
#include "chain/membership.h"
#include "chain/state_decode.h"
#include "chain/validation.h"

namespace baton::storage {

namespace {

constexpr std::size_t kRecordHeaderBytes = 8 + 32;

SnapshotVerdict refused(std::string why) { return SnapshotVerdict(SnapshotFault{std::move(why)}); }

}  // namespace

std::string encode_snapshot(const chain::LedgerState& state) {
  chain::Bytes out;
  const chain::Bytes body = chain::state_encoding(state);
  out.reserve(kRecordHeaderBytes + body.size());
  chain::append_u64be(out, state.height);
  chain::append_bytes(out, state.last_block_id.view());
  chain::append_bytes(out, body);
  return std::string(out.begin(), out.end());
}

Result<SnapshotVerdict> restore_snapshot(const chain::ChainSpec& spec, const BlockStore& store,
                                         std::uint64_t height) {
  auto record = store.snapshot_at(height);
  if (!record) return record.error();
  if (!record->has_value()) return refused("no snapshot is stored at this height");
  const chain::ByteView bytes = chain::as_bytes(**record);
  if (bytes.size() < kRecordHeaderBytes) return refused("the record is shorter than 40 bytes");
  std::uint64_t named = 0;
  for (std::size_t i = 0; i < 8; ++i) named = (named << 8) | bytes[i];
  if (named != height)
    return refused("the record names height " + std::to_string(named) + ", not its own");
  const chain::Hash block_id = chain::Hash::from_bytes(bytes.subspan(8, 32)).value();

  auto stored = store.block_at(height);
  if (!stored) return stored.error();
  if (!stored->has_value()) return refused("the ledger holds no block at this height");
  auto committed = chain::decode_committed_block(**stored);
  if (!committed)
    return refused("the block at this height does not decode: " + committed.error().message);
  auto state = chain::decode_state(bytes.subspan(kRecordHeaderBytes), spec.genesis);
  if (!state) return refused(state.error().message);
  state->height = height;
  // The header's app_state_hash counts only once the commit for it does. The
  // block's commit and senders belong to the members before it, which the
  // state after it names (§25); a wrong state cannot pass the hash below.
  auto block =
      chain::check_block_stateless(spec, chain::signers_of_state_block(spec, *state), *committed);
  if (!block) return refused("the block at this height is invalid: " + block.reason().message());
  if (block->id != block_id) {
    return refused("the record's block id " + block_id.hex() + " is not the id " + block->id.hex() +
                   " of the block at this height");
  }
  const chain::Hash hash = chain::state_hash(spec.chain_id(), *state);
  auto signed_hash = chain::Hash::from_bytes(chain::as_bytes(block->header.app_state_hash()));
  if (!signed_hash || *signed_hash != hash) {
    return refused("the state hashes to " + hash.hex() +
                   ", not to the app_state_hash signed in the block's header");
  }
  state->height = height;
  state->last_block_id = block_id;
  return SnapshotVerdict(std::move(state).value());
}

}  // namespace baton::storage

#include "node/ledger_replay.h"

#include "chain/block.h"
#include "chain/validation.h"

namespace baton::node {

Result<chain::LedgerState> replay_ledger(const chain::ChainSpec& spec,
                                         const storage::BlockStore& store) {
  chain::LedgerState state = chain::initial_state(spec.genesis_hash);
  const storage::Tip tip = store.tip();
  std::uint64_t next = 1;
  while (next <= tip.height) {
    auto batch = store.blocks_from(next, 256);
    if (!batch) return make_error("cannot read the ledger: " + batch.error().message);
    if (batch->empty()) break;
    for (const std::string& bytes : *batch) {
      auto committed = chain::decode_committed_block(bytes);
      if (!committed) {
        return make_error("the stored block at height " + std::to_string(next) +
                          " cannot be decoded (" + committed.error().message +
                          "); run `baton ledger verify` and restore from a backup");
      }
      auto after = chain::validate_block(spec, state, *committed);
      if (!after) {
        return make_error("the stored block at height " + std::to_string(next) + " is invalid (" +
                          after.reason().message() +
                          "); run `baton ledger verify` and restore from a backup");
      }
      state = std::move(after).value();
      ++next;
    }
  }
  return state;
}

}  // namespace baton::node

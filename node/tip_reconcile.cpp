#include "node/tip_reconcile.h"

#include "chain/block.h"
#include "chain/validation.h"

namespace baton::node {

TipDecision next_tip_step(const storage::Tip& tip, const chain::LedgerState& state) {
  TipDecision out;
  if (tip.height < state.height) {
    out.step = TipStep::refuse;
    out.why = "its tip is height " + std::to_string(tip.height) +
              " but this node had committed height " + std::to_string(state.height) +
              "; restore DATA/ledger from a backup (or another member's copy), or start with an "
              "empty data directory to fetch the chain again";
  } else if (state.height < tip.height) {
    out.step = TipStep::adopt_next;
    out.height = state.height + 1;
  } else if (tip.block_id != state.last_block_id) {
    out.step = TipStep::refuse;
    out.why = "its tip at height " + std::to_string(tip.height) + " is block " +
              tip.block_id.hex() + " but this node committed " + state.last_block_id.hex();
  }
  return out;
}

Result<chain::LedgerState> adopt_stored_block(const chain::ChainSpec& spec,
                                              const chain::LedgerState& state, std::uint64_t height,
                                              std::uint64_t tip_height,
                                              const std::optional<std::string>& stored) {
  const std::string h = std::to_string(height);
  if (!stored) {
    return make_error("its tip is height " + std::to_string(tip_height) + " but height " + h +
                      " is missing");
  }
  auto committed = chain::decode_committed_block(*stored);
  if (!committed) return make_error("height " + h + ": " + committed.error().message);
  auto after = chain::validate_block(spec, state, *committed);
  if (!after) return make_error("height " + h + " is invalid: " + after.reason().message());
  return std::move(after).value();
}

Status tip_reads_back(const chain::LedgerState& state, const std::optional<std::string>& stored) {
  if (state.height == 0) return {};
  auto committed = stored ? chain::decode_committed_block(*stored)
                          : Result<chain::pb::CommittedBlock>(make_error("missing"));
  if (!committed || chain::block_id(committed->block()) != state.last_block_id) {
    return make_error("the stored block at height " + std::to_string(state.height) +
                      " does not read back as the block this node committed");
  }
  return {};
}

}  // namespace baton::node

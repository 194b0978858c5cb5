#include "node/block_exchange.h"

#include <algorithm>
#include <utility>

#include "chain/block.h"
#include "node/peer_messages.h"

namespace baton::node {

BlockServeLimits block_serve_limits(const chain::ConsensusParams& params) {
  BlockServeLimits out;
  // 4 KiB for the NodeMessage and BlockResponse framing around the blocks.
  out.max_bytes = node_message_limit(params) - 4096;
  return out;
}

std::optional<BlockRange> blocks_to_read(const pb::BlockRequest& request,
                                         const BlockServeLimits& limits) {
  const std::uint32_t count = std::min(request.max_count(), limits.max_blocks);
  if (request.from_height() == 0 || count == 0) return std::nullopt;
  return BlockRange{request.from_height(), count};
}

pb::BlockResponse plan_block_response(std::uint64_t from_height, std::vector<std::string> blocks,
                                      const BlockServeLimits& limits) {
  pb::BlockResponse out;
  out.set_from_height(from_height);
  std::size_t used = 0;
  for (std::string& b : blocks) {
    if (out.blocks_size() > 0 && used + b.size() > limits.max_bytes) break;
    used += b.size();
    out.add_blocks(std::move(b));
  }
  return out;
}

std::optional<std::size_t> place_synced_blocks(std::uint64_t from_height, std::size_t count,
                                               std::uint64_t tip_height) {
  const std::uint64_t next = tip_height + 1;
  if (from_height > next) return std::nullopt;  // a gap: nothing here chains on the tip
  const std::uint64_t first = next - from_height;
  if (first >= count) return std::nullopt;  // all at or below the tip: consensus got there first
  return static_cast<std::size_t>(first);
}

chain::Verdict<chain::LedgerState, chain::BlockFault> check_committed_bytes(
    const chain::ChainSpec& spec, const chain::LedgerState& before, const std::string& bytes) {
  auto committed = chain::decode_committed_block(bytes);
  if (!committed) {
    return chain::BlockFault{chain::BlockInvalid::malformed_block, committed.error().message};
  }
  return chain::validate_block(spec, before, *committed);
}

}  // namespace baton::node

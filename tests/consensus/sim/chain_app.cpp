#include "tests/consensus/sim/chain_app.h"

#include "chain/vote.h"

namespace baton::consensus::sim {

chain::Hash ChainApp::tip_id() const {
  if (chain_.empty()) return network_.genesis_hash;
  return chain_.back().block_id;
}

std::string ChainApp::build(std::uint64_t height, std::uint32_t round, std::uint32_t variant,
                            const std::vector<std::string>& evidence, bool filter) const {
  chain::pb::BlockHeader header;
  header.set_chain_id(network_.chain_id);
  header.set_height(height);
  header.set_time_unix_ms(static_cast<std::int64_t>(round));
  const auto parent = tip_id();
  header.set_previous_block_hash(std::string(parent.bytes.begin(), parent.bytes.end()));
  header.set_proposer(std::string(proposer_.bytes.begin(), proposer_.bytes.end()));
  chain::pb::Block block;
  block.add_transactions("note from " + proposer_.hex().substr(0, 8) + " at " +
                         std::to_string(height) + "/" + std::to_string(round) + " v" +
                         std::to_string(variant));
  for (const auto& e : evidence) {
    if (!filter) {
      block.add_evidence(e);
      continue;
    }
    // As chain/ requires: evidence from lower heights, not yet recorded.
    chain::pb::DuplicateVoteEvidence ev;
    chain::pb::Vote vote;
    if (!ev.ParseFromString(e) || !vote.ParseFromString(ev.vote_a()) || vote.height() >= height)
      continue;
    if (!committed_evidence_.count(e)) block.add_evidence(e);
  }
  // The header commits to the body, as the real one does through Merkle roots.
  std::string body;
  for (const auto& t : block.transactions()) body += t;
  for (const auto& e : block.evidence()) body += e;
  const auto root = chain::sha256(body);
  header.set_tx_merkle_root(std::string(root.bytes.begin(), root.bytes.end()));
  block.set_header(header.SerializeAsString());
  return block.SerializeAsString();
}

Result<std::string> ChainApp::make_block(std::uint64_t height, std::uint32_t round,
                                         const std::vector<std::string>& evidence) {
  offered_evidence_ = evidence;
  if (height != chain_.size() + 1)
    return make_error("the chain tip is not at height " + std::to_string(height - 1));
  return build(height, round, 0, evidence, /*filter=*/true);
}

std::string ChainApp::make_variant(std::uint64_t height, std::uint32_t round, std::uint32_t variant,
                                   const std::vector<std::string>& evidence) const {
  return build(height, round, variant, evidence, /*filter=*/false);
}

Status ChainApp::check_block(std::uint64_t height, const std::string& bytes) {
  ++check_calls_;
  if (refuse_all_) return make_error("the test application refuses every block");
  chain::pb::Block block;
  chain::pb::BlockHeader header;
  if (!block.ParseFromString(bytes) || !header.ParseFromString(block.header())) {
    return make_error("the block does not parse");
  }
  if (header.chain_id() != network_.chain_id) return make_error("the block is for another chain");
  if (header.height() != height || height != chain_.size() + 1)
    return make_error("the block has the wrong height");
  const auto parent = tip_id();
  if (header.previous_block_hash() != std::string(parent.bytes.begin(), parent.bytes.end())) {
    return make_error("the block does not extend the tip");
  }
  std::string body;
  for (const auto& t : block.transactions()) body += t;
  for (const auto& e : block.evidence()) body += e;
  const auto root = chain::sha256(body);
  if (header.tx_merkle_root() != std::string(root.bytes.begin(), root.bytes.end())) {
    return make_error("the block body does not match its header");
  }
  for (const auto& e : block.evidence()) {
    chain::pb::DuplicateVoteEvidence ev;
    chain::pb::Vote vote;
    if (!ev.ParseFromString(e) || !vote.ParseFromString(ev.vote_a())) {
      return make_error("the block carries unparsable evidence");
    }
    if (vote.height() >= height)
      return make_error("the block carries evidence from its own height or later");
    if (committed_evidence_.count(e))
      return make_error("the block carries evidence already recorded");
    if (members_ != nullptr) {
      auto checked = chain::check_evidence(network_, *members_, std::string_view(e));
      if (!checked)
        return make_error("the block carries invalid evidence: " +
                          std::string(chain::to_string(checked.reason())));
    }
  }
  return {};
}

bool ChainApp::append(CommittedEntry entry) {
  chain::pb::Block block;
  chain::pb::BlockHeader header;
  if (!block.ParseFromString(entry.block) || !header.ParseFromString(block.header())) return false;
  const auto parent = tip_id();
  if (header.height() != chain_.size() + 1 ||
      header.previous_block_hash() != std::string(parent.bytes.begin(), parent.bytes.end())) {
    return false;
  }
  for (const auto& e : block.evidence()) committed_evidence_.insert(e);
  chain_.push_back(std::move(entry));
  return true;
}

}  // namespace baton::consensus::sim

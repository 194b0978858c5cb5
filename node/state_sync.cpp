#include "node/state_sync.h"

#include <algorithm>
#include <utility>

#include "chain/block.h"
#include "chain/encoding.h"
#include "chain/membership.h"
#include "chain/state_decode.h"
#include "chain/validation.h"
#include "chain/vote.h"
#include "storage/state_snapshot.h"

namespace baton::node {

namespace {

constexpr std::size_t kRecordPrefix = 8 + 32;  // u64be H || block id (§24.1)

SnapshotProblem problem(SnapshotRefusal reason, std::string detail = {}) {
  return SnapshotProblem{reason, std::move(detail)};
}

}  // namespace

// ---------------------------------------------------------------- serving

pb::SnapshotResponse plan_snapshot_response(const pb::SnapshotRequest& request,
                                            const std::optional<std::string>& record,
                                            const std::optional<std::string>& block,
                                            const SnapshotLimits& limits) {
  pb::SnapshotResponse out;
  out.set_height(request.height());
  out.set_offset(request.offset());
  if (!record || !block || record->size() < kRecordPrefix) return out;
  const std::uint64_t state_size = record->size() - kRecordPrefix;
  if (request.offset() > state_size) return out;
  out.set_state_size(state_size);
  if (request.offset() == 0) out.set_block(*block);
  const std::size_t from = kRecordPrefix + static_cast<std::size_t>(request.offset());
  const std::size_t n = std::min<std::size_t>(limits.max_chunk, record->size() - from);
  out.set_chunk(record->substr(from, n));
  return out;
}

// ---------------------------------------------------------------- receiving

const char* to_string(SnapshotRefusal reason) {
  switch (reason) {
    case SnapshotRefusal::not_held:
      return "the peer holds no snapshot at the trusted height";
    case SnapshotRefusal::malformed:
      return "a snapshot chunk that does not follow the request";
    case SnapshotRefusal::oversized:
      return "a snapshot or chunk larger than this node takes";
    case SnapshotRefusal::block_undecodable:
      return "the block at the trusted height does not decode";
    case SnapshotRefusal::wrong_block_id:
      return "the block at the trusted height does not have the trusted id";
    case SnapshotRefusal::invalid_block:
      return "the block at the trusted height is invalid";
    case SnapshotRefusal::bad_commit:
      return "the block at the trusted height is not signed by more than 2/3 of its validators";
    case SnapshotRefusal::bad_state:
      return "the snapshot's state bytes do not decode";
    case SnapshotRefusal::wrong_state_hash:
      return "the snapshot's state does not hash to the block's app_state_hash";
  }
  return "a wrong snapshot";
}

std::string SnapshotProblem::message() const {
  std::string out = to_string(reason);
  if (!detail.empty()) out += ": " + detail;
  return out;
}

std::optional<SnapshotProblem> SnapshotDownload::add(const pb::SnapshotResponse& chunk) {
  if (chunk.height() != height_) {
    return problem(SnapshotRefusal::malformed, "a chunk for height " +
                                                   std::to_string(chunk.height()) + ", not " +
                                                   std::to_string(height_));
  }
  if (chunk.offset() != offset()) {
    return problem(SnapshotRefusal::malformed, "a chunk at offset " +
                                                   std::to_string(chunk.offset()) + ", not " +
                                                   std::to_string(offset()));
  }
  if (chunk.state_size() == 0 && chunk.block().empty() && chunk.chunk().empty())
    return problem(SnapshotRefusal::not_held);
  if (chunk.state_size() > limits_.max_state_bytes) {
    return problem(SnapshotRefusal::oversized, "a state of " + std::to_string(chunk.state_size()) +
                                                   " bytes (at most " +
                                                   std::to_string(limits_.max_state_bytes) + ")");
  }
  if (chunk.chunk().size() > limits_.max_chunk) {
    return problem(SnapshotRefusal::oversized,
                   "a chunk of " + std::to_string(chunk.chunk().size()) + " bytes (at most " +
                       std::to_string(limits_.max_chunk) + ")");
  }
  if (state_size_ && chunk.state_size() != *state_size_)
    return problem(SnapshotRefusal::malformed, "the state size changed between chunks");
  if (chunk.chunk().size() > chunk.state_size() - offset())
    return problem(SnapshotRefusal::malformed, "a chunk past the end of the state");
  // Progress is required so that a peer cannot hold the download forever
  // with empty chunks (a state of 0 bytes does not exist).
  if (chunk.chunk().empty())
    return problem(SnapshotRefusal::malformed, "an empty chunk before the end of the state");
  if (offset() == 0) {
    if (chunk.block().empty())
      return problem(SnapshotRefusal::malformed, "the first chunk carries no block");
    block_ = chunk.block();  // bounded by the transport's message limit
  } else if (!chunk.block().empty()) {
    return problem(SnapshotRefusal::malformed, "a block in a chunk after the first");
  }
  state_size_ = chunk.state_size();
  state_.append(chunk.chunk());
  return std::nullopt;
}

chain::Verdict<TrustedSnapshot, SnapshotProblem> check_trusted_snapshot(
    const chain::ChainSpec& spec, const StateSyncTrust& trust, const std::string& block,
    std::string_view state_bytes) {
  auto committed = chain::decode_committed_block(block);
  if (!committed) return problem(SnapshotRefusal::block_undecodable, committed.error().message);
  // The id first: it is cheap and decides whether anything else matters.
  const chain::Hash id = chain::block_id(committed->block());
  if (id != trust.block_id) {
    return problem(SnapshotRefusal::wrong_block_id,
                   "the peer's block " + std::to_string(trust.height) + " has id " + id.hex() +
                       ", the trusted id is " + trust.block_id.hex());
  }
  auto state = chain::decode_state(chain::as_bytes(state_bytes), spec.genesis);
  if (!state) return problem(SnapshotRefusal::bad_state, state.error().message);
  state->height = trust.height;
  state->last_block_id = id;
  // Block H's senders, proposer and commit belong to the members before H,
  // which the state after H names (§25); until the state hash below matches,
  // a wrong state can only make this block look invalid, not valid.
  const chain::ValidatorSet& signers = chain::signers_of_state_block(spec, *state);
  auto decoded = chain::check_block_stateless(spec, signers, committed->block());
  if (!decoded) return problem(SnapshotRefusal::invalid_block, decoded.reason().message());
  if (decoded->header.height() != trust.height) {
    return problem(SnapshotRefusal::invalid_block,
                   "its header names height " + std::to_string(decoded->header.height()));
  }
  if (auto bad =
          chain::verify_commit(spec.network(), signers, committed->commit(), trust.height, id)) {
    return problem(SnapshotRefusal::bad_commit, std::string(chain::to_string(*bad)));
  }
  const chain::Hash hash = chain::state_hash(spec.chain_id(), *state);
  auto signed_hash = chain::Hash::from_bytes(chain::as_bytes(decoded->header.app_state_hash()));
  if (!signed_hash || *signed_hash != hash) {
    return problem(SnapshotRefusal::wrong_state_hash,
                   "the state hashes to " + hash.hex() + ", the header signs " +
                       (signed_hash ? signed_hash->hex() : std::string("a malformed hash")));
  }
  TrustedSnapshot out;
  out.record = storage::encode_snapshot(*state);
  out.state = std::move(state).value();
  out.block = block;
  return out;
}

// ---------------------------------------------------------------- backfill and repair

std::optional<pb::BlockRequest> backfill_request(std::uint64_t history_from, std::uint32_t batch) {
  if (history_from <= 1 || batch == 0) return std::nullopt;
  const std::uint64_t top = history_from - 1;
  const std::uint64_t from = top >= batch ? top - batch + 1 : 1;
  pb::BlockRequest out;
  out.set_from_height(from);
  out.set_max_count(static_cast<std::uint32_t>(top - from + 1));
  return out;
}

std::optional<std::string> check_linked_block(const chain::ChainSpec& spec, std::uint64_t height,
                                              const chain::Hash& expected_id,
                                              const std::string& bytes,
                                              const chain::ValidatorSet* signers) {
  auto committed = chain::decode_committed_block(bytes);
  if (!committed) return "it does not decode (" + committed.error().message + ")";
  const chain::Hash id = chain::block_id(committed->block());
  if (id != expected_id) {
    return "its id " + id.hex() + " is not " + expected_id.hex() +
           ", the id the block above it names";
  }
  // The id proves the header and the Merkle roots bind the body to it.
  if (signers == nullptr) {
    auto header = chain::check_block_body(spec, committed->block());
    if (!header) return "it is invalid (" + header.error().message + ")";
    if (header->height() != height)
      return "its header names height " + std::to_string(header->height());
    return std::nullopt;
  }
  auto decoded = chain::check_block_stateless(spec, *signers, *committed);
  if (!decoded) return "it is invalid (" + decoded.reason().message() + ")";
  if (decoded->header.height() != height)
    return "its header names height " + std::to_string(decoded->header.height());
  return std::nullopt;
}

std::optional<chain::Hash> id_named_by(const std::string& block_above) {
  auto committed = chain::decode_committed_block(block_above);
  if (!committed) return std::nullopt;
  auto header = chain::decode_header(committed->block().header());
  if (!header) return std::nullopt;
  auto h = chain::Hash::from_bytes(chain::as_bytes(header->previous_block_hash()));
  if (!h) return std::nullopt;
  return *h;
}

// ---------------------------------------------------------------- whom to ask

std::optional<chain::PublicKey> PeerRotation::next(const std::vector<chain::PublicKey>& connected,
                                                   std::uint64_t now_ms) {
  if (asking_ && now_ms < asked_ms_ + timeout_ms_) return std::nullopt;
  std::vector<chain::PublicKey> candidates;
  for (const auto& p : connected) {
    if (!refused(p)) candidates.push_back(p);
  }
  if (candidates.empty()) {
    asking_.reset();
    return std::nullopt;
  }
  const chain::PublicKey chosen = candidates[rotation_++ % candidates.size()];
  asking_ = chosen;
  asked_ms_ = now_ms;
  return chosen;
}

void PeerRotation::answered(const chain::PublicKey& peer) {
  if (asking_ && *asking_ == peer) asking_.reset();
}

void PeerRotation::refuse(const chain::PublicKey& peer) {
  refused_.insert(peer);
  answered(peer);
}

}  // namespace baton::node

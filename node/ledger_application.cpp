#include "node/ledger_application.h"

#include <algorithm>
#include <chrono>

#include "chain/block.h"
#include "chain/encoding.h"
#include "chain/membership.h"
#include "chain/transaction.h"
#include "chain/vote.h"

namespace baton::node {
namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

LedgerApplication::LedgerApplication(const chain::ChainSpec& spec,
                                     const chain::SigningKey& proposer,
                                     const std::shared_ptr<const chain::LedgerState>& state,
                                     Mempool& mempool, const VerifiedTxHashes& verified,
                                     std::size_t max_proposal_txs,
                                     std::shared_ptr<spdlog::logger> log)
    : spec_(spec),
      proposer_(proposer),
      state_(state),
      mempool_(mempool),
      verified_(verified),
      max_proposal_txs_(max_proposal_txs),
      log_(std::move(log)) {}

chain::VerifiedTxs LedgerApplication::verified_txs() const {
  // The mempool holds only verified bytes (Mempool::add verifies;
  // add_checked's precondition); verified_ also remembers those it refused
  // or already dropped.
  return [this](const chain::Hash& h) { return verified_.contains(h) || mempool_.contains(h); };
}

Result<std::string> LedgerApplication::make_block(std::uint64_t height, std::uint32_t round,
                                                  const std::vector<std::string>& evidence) {
  const chain::LedgerState& state = *state_;
  if (height != state.height + 1) {
    return make_error("asked to propose height " + std::to_string(height) + " at tip " +
                      std::to_string(state.height));
  }
  const chain::ConsensusParams& p = spec_.params();
  const std::size_t budget = p.max_block_bytes > kBlockOverhead ? p.max_block_bytes - kBlockOverhead
                                                                : p.max_block_bytes / 2;
  const std::size_t max_txs = std::min<std::uint64_t>(p.max_block_txs, max_proposal_txs_);
  std::vector<std::string> txs = mempool_.reap(
      max_txs, budget, [&state](const chain::PublicKey& k) { return state.next_nonce(k); });
  const std::int64_t now = unix_ms();
  const chain::PublicKey& me = proposer_.public_key();
  const chain::VerifiedTxs verified = verified_txs();
  auto proposal = chain::propose_block(spec_, state, now, me, txs, evidence, verified);
  if (!proposal) {
    log_->warn(
        "cannot propose height {} round {} with {} txs and {} evidence: {}; retrying without "
        "evidence",
        height, round, txs.size(), evidence.size(), proposal.reason().message());
    proposal = chain::propose_block(spec_, state, now, me, txs, {}, verified);
  }
  if (!proposal) {
    // A waiting transaction no longer fits the state; drop what was reaped
    // (submitters see it never committed and resubmit).
    log_->warn("dropping {} mempool transactions that no longer apply: {}", txs.size(),
               proposal.reason().message());
    for (const std::string& t : txs) mempool_.remove(chain::tx_hash(t));
    proposal = chain::propose_block(spec_, state, now, me, {}, {});
    if (!proposal) return make_error("cannot build an empty block: " + proposal.reason().message());
  }
  checked_[proposal->id] = proposal->after;
  return proposal->block.SerializeAsString();
}

Status LedgerApplication::check_block(std::uint64_t height, const std::string& block) {
  if (height != state_->height + 1) {
    return make_error("a block for height " + std::to_string(height) + " does not follow the tip " +
                      std::to_string(state_->height));
  }
  auto parsed = chain::decode_block(block);
  if (!parsed) return make_error("the proposed block is refused: " + parsed.error().message);
  // Block H + 1's senders and proposer are the members after H (§25).
  auto decoded = chain::check_block_stateless(spec_, chain::current_validators(spec_, *state_),
                                              *parsed, verified_txs());
  if (!decoded) return make_error(decoded.reason().message());
  auto after = chain::apply_block(spec_, *state_, *decoded);
  if (!after) return make_error(after.reason().message());
  checked_[decoded->id] = std::move(after).value();
  return {};
}

Result<DecidedBlock> LedgerApplication::accept_decision(const consensus::Decision& decision) {
  chain::pb::CommittedBlock committed;
  auto decided = chain::decode_block(decision.block);
  if (!decided) return make_error("the decided block is refused: " + decided.error().message);
  *committed.mutable_block() = std::move(*decided);
  *committed.mutable_commit() = decision.commit;
  DecidedBlock out;
  if (auto it = checked_.find(decision.block_id); it != checked_.end()) {
    // Checked (or built) when proposed; only the commit is new.
    // Block H's commit is signed by the set after H - 1 (docs/PROTOCOL.md §25).
    if (auto bad = chain::verify_commit(spec_.network(), chain::current_validators(spec_, *state_),
                                        decision.commit, decision.height, decision.block_id)) {
      return make_error("the commit for height " + std::to_string(decision.height) +
                        " is invalid: " + std::string(chain::to_string(*bad)));
    }
    // Taken out of checked_ (cleared on success anyway): if storing fails,
    // a retry of this height validates the block afresh.
    out.after = std::move(checked_.extract(it).mapped());
  } else {
    auto v = chain::validate_block(spec_, *state_, committed);
    if (!v) return make_error("the decided block is invalid: " + v.reason().message());
    out.after = std::move(v).value();
  }
  out.committed_bytes = chain::encode_committed_block(committed);
  return out;
}

}  // namespace baton::node

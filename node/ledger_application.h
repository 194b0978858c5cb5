// LedgerApplication: batond's consensus::Application (consensus/engine.h).
// It decides what block this node proposes at the next height (transactions
// reaped from the mempool, evidence the rules admit), whether a proposed
// block extends the committed state, and whether a decided block with its
// commit may be stored. It remembers the state after each block it checked
// or built at the current height, so that a decided block is not validated
// twice.
//
// Ownership: it reads the node's committed state through `state` (a
// reference to the node's pointer, which the node replaces at each commit)
// and uses the node's mempool and verified-signature cache; the node owns
// all three and this object.
// Thread: the node's event loop only, like everything it touches.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "chain/chain_spec.h"
#include "chain/keys.h"
#include "chain/ledger_state.h"
#include "chain/validation.h"
#include "consensus/engine.h"
#include "node/mempool.h"
#include "node/verified_tx_hashes.h"

namespace baton::node {

// A decided block ready to store: its exact bytes and the state after it.
struct DecidedBlock {
  std::string committed_bytes;  // a serialized chain.pb.CommittedBlock
  chain::LedgerState after;
};

class LedgerApplication final : public consensus::Application {
 public:
  // Room left in a block for the header and evidence when reaping transactions.
  static constexpr std::size_t kBlockOverhead = 64 * 1024;

  // `max_proposal_txs`: the node's cap on transactions per proposal (the
  // genesis' max_block_txs still binds).
  LedgerApplication(const chain::ChainSpec& spec, const chain::SigningKey& proposer,
                    const std::shared_ptr<const chain::LedgerState>& state, Mempool& mempool,
                    const VerifiedTxHashes& verified, std::size_t max_proposal_txs,
                    std::shared_ptr<spdlog::logger> log);

  // consensus::Application. make_block drops from the mempool transactions
  // that no longer apply to the state.
  Result<std::string> make_block(std::uint64_t height, std::uint32_t round,
                                 const std::vector<std::string>& evidence) override;
  Status check_block(std::uint64_t height, const std::string& block) override;

  // The decided block at `decision.height` (tip + 1) with its commit, checked
  // (the commit's signatures; the block itself unless checked before). An
  // error says why it cannot be stored.
  Result<DecidedBlock> accept_decision(const consensus::Decision& decision);

  // A new state was committed: what was checked for the old tip is void.
  void on_committed() { checked_.clear(); }

  // The predicate block checks use to skip signatures verified before: the
  // verified-signature cache and the mempool (which holds verified bytes only).
  chain::VerifiedTxs verified_txs() const;

 private:
  const chain::ChainSpec& spec_;
  const chain::SigningKey& proposer_;
  const std::shared_ptr<const chain::LedgerState>& state_;
  Mempool& mempool_;
  const VerifiedTxHashes& verified_;
  const std::size_t max_proposal_txs_;
  std::shared_ptr<spdlog::logger> log_;
  // Blocks checked or proposed at the current height: id -> state after.
  std::map<chain::Hash, chain::LedgerState> checked_;
};

}  // namespace baton::node

// A small in-memory ledger for consensus tests and the simulation: it builds
// blocks on its own chain tip and checks proposed blocks against it. It
// stands in for node/'s real application (chain/ + storage/); only the
// consensus-relevant checks are made (chain id, height, parent hash, and,
// when check_evidence_with is set, chain/'s rule for evidence).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "chain/crypto.h"
#include "chain/proto/ledger.pb.h"
#include "chain/validator_set.h"
#include "consensus/engine.h"

namespace baton::consensus::sim {

struct CommittedEntry {
  chain::Hash block_id;
  std::string block;
  chain::pb::Commit commit;
};

class ChainApp final : public Application {
 public:
  // Blocks carry `network.chain_id`; the first one's parent is
  // `network.genesis_hash`; evidence is checked against `network`.
  ChainApp(chain::NetworkId network, chain::PublicKey proposer)
      : network_(std::move(network)), proposer_(proposer) {}

  Result<std::string> make_block(std::uint64_t height, std::uint32_t round,
                                 const std::vector<std::string>& evidence) override;
  Status check_block(std::uint64_t height, const std::string& block) override;

  // A block for (height, round) that differs from make_block's (for
  // equivocating proposers in the simulation), carrying `evidence` as given
  // (no filtering: a Byzantine proposer chooses what it puts in).
  std::string make_variant(std::uint64_t height, std::uint32_t round, std::uint32_t variant,
                           const std::vector<std::string>& evidence = {}) const;

  // From now on check_block also checks every piece of evidence as chain/
  // does (chain::check_evidence: canonical, well-formed votes, valid
  // signatures by a validator, a real conflict), as node/'s application
  // does. `members` must outlive the app; null turns the check off.
  void check_evidence_with(const chain::ValidatorSet* members) { members_ = members; }

  // Appends a decided or synced block. Returns false if it does not extend the tip.
  bool append(CommittedEntry entry);
  std::uint64_t height() const { return chain_.size(); }
  const std::vector<CommittedEntry>& chain() const { return chain_; }
  chain::Hash tip_id() const;
  std::uint64_t evidence_committed() const { return committed_evidence_.size(); }

  // Test knob: check_block refuses every block.
  void set_refuse_all(bool refuse) { refuse_all_ = refuse; }
  std::uint64_t check_calls() const { return check_calls_; }
  // What the engine offered to the last make_block call.
  const std::vector<std::string>& offered_evidence() const { return offered_evidence_; }

 private:
  std::string build(std::uint64_t height, std::uint32_t round, std::uint32_t variant,
                    const std::vector<std::string>& evidence, bool filter) const;

  chain::NetworkId network_;
  chain::PublicKey proposer_;
  std::vector<CommittedEntry> chain_;
  std::set<std::string> committed_evidence_;
  bool refuse_all_ = false;
  std::uint64_t check_calls_ = 0;
  std::vector<std::string> offered_evidence_;
  const chain::ValidatorSet* members_ = nullptr;
};

}  // namespace baton::consensus::sim

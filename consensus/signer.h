// The validator's signer with a double-sign guard. Before any signature
// leaves it, the signer durably records the (height, round, step) and value
// it is about to sign; it refuses to sign at a lower (height, round, step),
// or a different value at the same one, also after a restart (it reloads
// the record from its store).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "chain/crypto.h"
#include "chain/proto/ledger.pb.h"
#include "chain/result.h"
#include "consensus/proto/consensus.pb.h"

namespace baton::consensus {

// Order of what a validator signs within one (height, round).
enum class SignStep : std::uint32_t { none = 0, proposal = 1, prevote = 2, precommit = 3 };

// Port: where the signer keeps its last-signed record. node/ provides a
// file-backed store (fsync before returning); MemorySignerStateStore is for
// tests and the simulation.
class SignerStateStore {
 public:
  virtual ~SignerStateStore() = default;
  // nullopt when nothing was ever saved. An error means the record exists
  // but cannot be read: the validator must not sign until an operator looks.
  virtual Result<std::optional<pb::SignerState>> load() = 0;
  // Returns only once the record is durable.
  virtual Status save(const pb::SignerState& state) = 0;
};

// Keeps the record in memory; survives an Engine being rebuilt (a simulated
// crash) as long as the store object lives. Not thread-safe.
class MemorySignerStateStore final : public SignerStateStore {
 public:
  Result<std::optional<pb::SignerState>> load() override { return state_; }
  Status save(const pb::SignerState& state) override {
    if (fail_saves_) return make_error("the signer state store is set to fail (test)");
    state_ = state;
    return {};
  }
  void set_fail_saves(bool fail) { fail_saves_ = fail; }

 private:
  std::optional<pb::SignerState> state_;
  bool fail_saves_ = false;
};

// Why a signature was not made.
enum class SignRefusal {
  none = 0,
  regression = 1,         // (height, round, step) lower than the last signed one
  conflicting_value = 2,  // same (height, round, step), a different block id
  store_failed = 3,       // the record could not be saved: nothing was signed
};

// Not thread-safe; one per validator key. The store must outlive the signer.
class Signer {
 public:
  // Loads the last record from `store`. Fails if it cannot be read or is
  // malformed.
  static Result<std::unique_ptr<Signer>> open(chain::SigningKey key, chain::NetworkId network,
                                              SignerStateStore& store);

  const chain::PublicKey& public_key() const { return key_.public_key(); }

  // Signs a vote (type, height, round, block_id; empty block_id = nil).
  // On refusal the returned error's code is a SignRefusal.
  Result<chain::pb::Vote> sign_vote(chain::pb::VoteType type, std::uint64_t height,
                                    std::uint32_t round,
                                    const std::optional<chain::Hash>& block_id);
  // Signs a proposal whose `block` is already set (its block_id given).
  Result<pb::Proposal> sign_proposal(std::uint64_t height, std::uint32_t round,
                                     std::int32_t pol_round, const chain::Hash& block_id,
                                     std::string block);

  // The last record (for status pages and restarts).
  const pb::SignerState& last() const { return last_; }

 private:
  Signer(chain::SigningKey key, chain::NetworkId network, SignerStateStore& store,
         pb::SignerState last)
      : key_(std::move(key)), network_(std::move(network)), store_(store), last_(std::move(last)) {}
  Result<chain::Signature> guarded_sign(std::uint64_t height, std::uint32_t round, SignStep step,
                                        const std::optional<chain::Hash>& block_id,
                                        const chain::Bytes& sign_bytes);

  chain::SigningKey key_;
  chain::NetworkId network_;
  SignerStateStore& store_;
  pb::SignerState last_;
};

}  // namespace baton::consensus

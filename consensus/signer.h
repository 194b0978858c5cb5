// The validator's signer with a double-sign guard. It keeps the last
// (height, round, step) and value it signed (a pb::SignerState record) and
// refuses to sign at a lower (height, round, step), or a different value at
// the same one. It writes nothing itself: every record it makes is handed
// out by take_unsaved(), and the engine puts it into its Output, which the
// caller writes durably before it sends anything of that output (engine.h).
// After a restart the signer is opened from the last record written, so a
// signature that was never sent may be made again differently, and one that
// was sent never is.
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

// Port: where a validator keeps its signer's last record. node/ provides a
// file-backed store (fsync before returning); MemorySignerStateStore is for
// tests and the simulation. The signer never calls it: the caller loads the
// record to open a Signer, and saves each Output::signer_state.
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
};

// Not thread-safe; one per validator key. No I/O.
class Signer {
 public:
  // Starts from `last`, the record last written durably (nullopt: this key
  // never signed here). Fails if it is malformed.
  static Result<std::unique_ptr<Signer>> open(chain::SigningKey key, chain::NetworkId network,
                                              std::optional<pb::SignerState> last);
  // Loads the record from `store` (a read only), then as above.
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

  // The last record, written or not (for status pages and restarts).
  const pb::SignerState& last() const { return last_; }
  // The record that covers every signature made since the previous call,
  // once; nullopt when nothing new was signed (signing the same value again
  // makes no new record). Whoever sends those signatures must write it
  // durably first.
  std::optional<pb::SignerState> take_unsaved();

 private:
  Signer(chain::SigningKey key, chain::NetworkId network, pb::SignerState last)
      : key_(std::move(key)), network_(std::move(network)), last_(std::move(last)) {}
  Result<chain::Signature> guarded_sign(std::uint64_t height, std::uint32_t round, SignStep step,
                                        const std::optional<chain::Hash>& block_id,
                                        const chain::Bytes& sign_bytes);

  chain::SigningKey key_;
  chain::NetworkId network_;
  pb::SignerState last_;
  bool unsaved_ = false;
};

}  // namespace baton::consensus

// LedgerState: what the chain has decided so far, and the canonical encoding
// whose SHA-256 every block header carries (app_state_hash). docs/PROTOCOL.md,
// "Ledger state".
//
// Deterministic by construction: only ordered containers, no clocks, no
// randomness, no floating point. Issue 6 adds the training protocol (members,
// runs, turns, votes) as further fields, appended to the canonical encoding
// under a new domain version; apply_transaction dispatches on TxType.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "chain/crypto.h"
#include "chain/membership_state.h"
#include "chain/proto/ledger.pb.h"
#include "chain/training.h"
#include "chain/vote.h"

namespace baton::chain {

inline constexpr std::string_view kStateDomain = "baton/state/v1";
// Used instead of v1 once any training run exists (state.training non-empty).
inline constexpr std::string_view kStateDomainV2 = "baton/state/v2";
// Used instead of v2 once any account holds credits (state.training.accounts
// non-empty; issue 13): the encoding then ends with the accounts' bytes.
inline constexpr std::string_view kStateDomainV3 = "baton/state/v3";
// Used instead of v1..v3 once the membership part is not empty (issue 18: a
// change applied, a key retired or a change pending; docs/PROTOCOL.md §25.5):
// the encoding then holds the membership part after the evidence records.
inline constexpr std::string_view kStateDomainV4 = "baton/state/v4";

struct LedgerState {
  // Chain position. Not part of state_hash: the header that carries the state
  // hash cannot also commit to its own id.
  std::uint64_t height = 0;  // 0 before block 1
  Hash last_block_id;        // the genesis hash at height 0

  // Application state (hashed).
  std::uint64_t tx_count = 0;  // transactions applied, all blocks
  std::map<PublicKey, std::uint64_t>
      next_nonces;                  // sender -> nonce its next tx must carry; absent = 1
  std::set<Equivocation> evidence;  // punished double votes, each recorded once
  TrainingState training;           // the training protocol (chain/protocol.h)
  MembershipState membership;       // members by vote (chain/membership.h, issue 18)

  std::uint64_t next_nonce(const PublicKey& sender) const;
  bool operator==(const LedgerState&) const = default;
};

// The state before block 1.
LedgerState initial_state(const Hash& genesis_hash);

// SHA-256 of domain_separated("baton/state/v1", chain_id, body) where body is
//   u64be tx_count
//   u32be number of senders, then per sender in ascending key-byte order:
//         key(32) || u64be next_nonce
//   u32be number of evidence records, then per record in ascending order of
//         (validator key bytes, height, round, type):
//         validator(32) || u64be height || u32be round || u8 type
// While no training run exists that is all, so v1 hashes are unchanged. Once a
// run exists the domain is "baton/state/v2" and training_encoding(training)
// follows (docs/PROTOCOL.md, "Training protocol", byte layout). Once an
// account holds credits the domain is "baton/state/v3" and training_encoding
// ends with the accounts (docs/PROTOCOL.md, "Accounts and escrow"). Once the
// membership part is not empty the domain is "baton/state/v4" and the
// evidence records are followed by u32be 0xFFFFFFFF and membership_encoding
// (chain/membership_state.h), then the training part as before.
Bytes state_encoding(const LedgerState& state);
Hash state_hash(std::string_view chain_id, const LedgerState& state);

enum class TxRejected {
  replayed_nonce,  // nonce below the sender's next nonce
  skipped_nonce,   // nonce above the sender's next nonce
};

std::string_view to_string(TxRejected reason);

// Applies one transaction's effects to `state` (nonce, tx_count, and the
// per-type effects; TX_NOTE has none beyond the nonce). On rejection `state`
// is unchanged. Protocol types (10..49, the account types 16..24 among them)
// get only their nonce and tx_count here: their effects need the ChainSpec and are applied by
// apply_protocol_tx (chain/protocol.h), which apply_block calls right after.
// Precondition: check_transaction accepted the transaction (signature,
// membership, known type, payload decodes); this function does not repeat
// those checks.
std::optional<TxRejected> apply_transaction(LedgerState& state, const pb::Transaction& tx);

}  // namespace baton::chain

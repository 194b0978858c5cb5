// The membership transactions' rules (issue 18, docs/PROTOCOL.md §25):
// TX_MEMBER_CHANGE (26) and TX_KEY_ROTATION (27), and the end-of-block step
// that applies the changes that reached their quorum. Internal to chain/:
// chain/protocol.h dispatches here.
//
// Nothing changes the member set in the middle of a block: a MemberChange
// only records its approval, a KeyRotation is staged, and end_membership_block
// applies them at the end of the block. So every transaction of block H is
// checked against the set after H - 1, and a change committed in block H
// holds from block H + 1.
#pragma once

#include <cstdint>
#include <optional>

#include "chain/chain_spec.h"
#include "chain/ledger_state.h"
#include "chain/proto/ledger.pb.h"
#include "chain/training.h"

namespace baton::chain {

bool is_membership_tx(pb::TxType type);

// What KeyRotation.new_key_signature signs (by the new Ed25519 key):
//   network_separated("baton/key-rotation/v1", network,
//                     old_ed25519 || new_ed25519 || new_x25519)
Bytes key_rotation_sign_bytes(const NetworkId& network, const PublicKey& old_ed25519,
                              const PublicKey& new_ed25519, const X25519PublicKey& new_x25519);

// A KeyRotation payload from `old_key`'s holder to the new keys, signed by
// `new_key` (what `baton member rotate` sends).
pb::KeyRotation make_key_rotation(const NetworkId& network, const PublicKey& old_ed25519,
                                  const SigningKey& new_key, const X25519PublicKey& new_x25519);

// Would `tx` (a type-26 or 27 transaction check_transaction accepted) take
// effect in the block at `height` built on `state`, or why is it refused?
std::optional<ProtocolRejected> check_membership_tx(const ChainSpec& spec, const LedgerState& state,
                                                    const pb::Transaction& tx,
                                                    std::uint64_t height);

// Applies it in the block at `height`: records the approval (a new pending
// change, or one more approver) or stages the rotation; on a refusal records
// it in the training state's own refusal log and returns the reason.
std::optional<ProtocolRejected> apply_membership_tx(const ChainSpec& spec, LedgerState& state,
                                                    const pb::Transaction& tx,
                                                    std::uint64_t height);

// §25.7: is `tx` (a TX_KEY_GRANT check_transaction accepted) a grant to a
// current member that received no wrapped key of the model, a model of the
// run it names? Such a grant follows check/apply_member_grant; every other
// KeyGrant the §19.8 rules (to the run's sponsor after its release).
bool is_member_grant(const ChainSpec& spec, const LedgerState& state, const pb::Transaction& tx);

// Refused: malformed_request (sizes), grant_to_non_sponsor (the recipient
// holds role "sponsor": it gets models by paying), not_key_holder (the sender
// received no wrapped key of the model), key_commitment_mismatch,
// too_many_grants.
std::optional<ProtocolRejected> check_member_grant(const ChainSpec& spec, const LedgerState& state,
                                                   const pb::Transaction& tx);

// Records the grant (replacing the sender's earlier one for the same model
// and recipient), or the refusal in the run's log.
std::optional<ProtocolRejected> apply_member_grant(const ChainSpec& spec, LedgerState& state,
                                                   const pb::Transaction& tx, std::uint64_t height);

// End of the block at `height`: applies the staged rotations (in block
// order), then every pending change whose current approvers hold the quorum
// (ascending id; each checked again against the set the earlier ones left; a
// change no longer valid is dropped), then drops the changes whose
// expires_at_height is `height` or lower. Returns true when the set changed.
bool end_membership_block(const ChainSpec& spec, LedgerState& state, std::uint64_t height);

}  // namespace baton::chain

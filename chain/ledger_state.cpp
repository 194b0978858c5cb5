#include "chain/ledger_state.h"

#include <cstdlib>

#include "chain/encoding.h"

namespace baton::chain {

std::uint64_t LedgerState::next_nonce(const PublicKey& sender) const {
  auto it = next_nonces.find(sender);
  return it == next_nonces.end() ? 1 : it->second;
}

LedgerState initial_state(const Hash& genesis_hash) {
  LedgerState s;
  s.last_block_id = genesis_hash;
  return s;
}

Bytes state_encoding(const LedgerState& state) {
  Bytes out;
  out.reserve(8 + 4 + state.next_nonces.size() * 40 + 4 + state.evidence.size() * 45);
  append_u64be(out, state.tx_count);
  append_u32be(out, static_cast<std::uint32_t>(state.next_nonces.size()));
  // std::map and std::set iterate in ascending order of PublicKey, whose
  // ordering is the lexicographic order of its bytes: the documented order.
  for (const auto& [key, nonce] : state.next_nonces) {
    append_bytes(out, ByteView(key.bytes));
    append_u64be(out, nonce);
  }
  append_u32be(out, static_cast<std::uint32_t>(state.evidence.size()));
  for (const auto& e : state.evidence) {
    append_bytes(out, ByteView(e.validator.bytes));
    append_u64be(out, e.height);
    append_u32be(out, e.round);
    append_u8(out, static_cast<std::uint8_t>(e.type));
  }
  if (!state.membership.empty()) {
    append_u32be(out, kMembershipMarker);
    append_bytes(out, ByteView(membership_encoding(state.membership)));
  }
  if (!state.training.empty()) append_bytes(out, ByteView(training_encoding(state.training)));
  return out;
}

Hash state_hash(std::string_view chain_id, const LedgerState& state) {
  const std::string_view domain = !state.membership.empty()          ? kStateDomainV4
                                  : !state.training.accounts.empty() ? kStateDomainV3
                                  : state.training.empty()           ? kStateDomain
                                                                     : kStateDomainV2;
  return sha256(domain_separated(domain, chain_id, state_encoding(state)));
}

std::string_view to_string(TxRejected reason) {
  switch (reason) {
    case TxRejected::replayed_nonce:
      return "the transaction nonce was already used by its sender";
    case TxRejected::skipped_nonce:
      return "the transaction nonce skips ahead of its sender's next nonce";
  }
  return "the transaction was rejected";
}

std::optional<TxRejected> apply_transaction(LedgerState& state, const pb::Transaction& tx) {
  // Precondition (check_transaction): the sender is 32 bytes, the type known.
  const PublicKey sender = PublicKey::from_bytes(as_bytes(tx.sender())).value();
  const std::uint64_t expected = state.next_nonce(sender);
  if (tx.nonce() < expected) return TxRejected::replayed_nonce;
  if (tx.nonce() > expected) return TxRejected::skipped_nonce;
  switch (tx.type()) {
    case pb::TX_NOTE:
      break;  // a note changes nothing but the nonce
    case pb::TX_START_RUN:
    case pb::TX_LOAD_REQUEST:
    case pb::TX_LOAD_APPROVAL:
    case pb::TX_SAVE_REQUEST:
    case pb::TX_MODEL_VOTE:
    case pb::TX_TURN_ABANDON:
    case pb::TX_TRANSFER:
    case pb::TX_FUND_RUN:
    case pb::TX_RELEASE_ESCROW:
    case pb::TX_KEY_GRANT:
    case pb::TX_ROUND_SHARE:
    case pb::TX_ROUND_UPLOAD:
    case pb::TX_ROUND_UNMASK:
    case pb::TX_RUN_READY:
    case pb::TX_CANCEL_RUN:
    case pb::TX_DATA_SUMMARY:
    case pb::TX_MEMBER_CHANGE:
    case pb::TX_KEY_ROTATION:
      break;  // effects: apply_protocol_tx (chain/protocol.h)
    default:
      std::abort();  // check_transaction refuses unknown types
  }
  state.next_nonces[sender] = expected + 1;
  state.tx_count += 1;
  return std::nullopt;
}

}  // namespace baton::chain

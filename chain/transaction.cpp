#include "chain/transaction.h"

#include "chain/protocol.h"

#include "chain/encoding.h"

#include <optional>

namespace baton::chain {

Bytes tx_sign_bytes(const NetworkId& network, const pb::Transaction& tx) {
  Bytes body;
  body.reserve(tx.sender().size() + 16 + tx.payload().size());
  append_bytes(body, tx.sender());
  append_u64be(body, tx.nonce());
  append_u32be(body, static_cast<std::uint32_t>(tx.type()));
  append_u32be(body, static_cast<std::uint32_t>(tx.payload().size()));
  append_bytes(body, tx.payload());
  return network_separated(kTxDomain, network, body);
}

pb::Transaction make_transaction(const NetworkId& network, const SigningKey& key,
                                 std::uint64_t nonce, pb::TxType type, std::string payload) {
  pb::Transaction tx;
  tx.set_chain_id(network.chain_id);
  tx.set_sender(key.public_key().bytes.data(), key.public_key().bytes.size());
  tx.set_nonce(nonce);
  tx.set_type(type);
  tx.set_payload(std::move(payload));
  const Signature sig = key.sign(tx_sign_bytes(network, tx));
  tx.set_signature(sig.bytes.data(), sig.bytes.size());
  return tx;
}

pb::Transaction make_note(const NetworkId& network, const SigningKey& key, std::uint64_t nonce,
                          std::string text) {
  pb::Note note;
  note.set_text(std::move(text));
  return make_transaction(network, key, nonce, pb::TX_NOTE, note.SerializeAsString());
}

std::string encode_transaction(const pb::Transaction& tx) { return tx.SerializeAsString(); }

Hash tx_hash(ByteView stored_bytes) { return sha256(stored_bytes); }

std::string_view to_string(TxInvalid reason) {
  switch (reason) {
    case TxInvalid::malformed:
      return "the transaction bytes are not a canonical serialized Transaction";
    case TxInvalid::oversized:
      return "the transaction is larger than the genesis max_tx_bytes";
    case TxInvalid::wrong_chain_id:
      return "the transaction was signed for another chain id";
    case TxInvalid::malformed_sender:
      return "the transaction sender is not a 32-byte Ed25519 key";
    case TxInvalid::unknown_sender:
      return "the transaction sender is not a genesis member";
    case TxInvalid::zero_nonce:
      return "the transaction nonce is 0; nonces start at 1";
    case TxInvalid::unknown_type:
      return "the transaction type is unknown to this version";
    case TxInvalid::malformed_payload:
      return "the transaction payload does not decode as its type's message";
    case TxInvalid::bad_signature:
      return "the transaction signature does not verify";
  }
  return "the transaction is invalid";
}

namespace {

bool payload_decodes(const pb::Transaction& tx) {
  switch (tx.type()) {
    case pb::TX_NOTE: {
      pb::Note note;
      return parse_canonical(tx.payload(), note);
    }
    default:
      return is_protocol_tx(tx.type()) && protocol_payload_decodes(tx.type(), tx.payload());
  }
}

bool type_known(pb::TxType type) { return type == pb::TX_NOTE || is_protocol_tx(type); }

}  // namespace

namespace {

// Every check but the signature; on success `tx` and `sender` are set.
std::optional<TxInvalid> check_unsigned_parts(std::string_view stored_bytes,
                                              const NetworkId& network, const ValidatorSet& members,
                                              std::uint64_t max_tx_bytes, pb::Transaction& tx,
                                              PublicKey& sender) {
  if (stored_bytes.size() > max_tx_bytes) return TxInvalid::oversized;
  if (!parse_canonical(stored_bytes, tx)) return TxInvalid::malformed;
  if (tx.chain_id() != network.chain_id) return TxInvalid::wrong_chain_id;
  auto key = PublicKey::from_bytes(as_bytes(tx.sender()));
  if (!key) return TxInvalid::malformed_sender;
  if (!members.is_member(*key)) return TxInvalid::unknown_sender;
  if (tx.nonce() == 0) return TxInvalid::zero_nonce;
  if (!type_known(tx.type())) return TxInvalid::unknown_type;
  if (!payload_decodes(tx)) return TxInvalid::malformed_payload;
  sender = *key;
  return std::nullopt;
}

}  // namespace

Verdict<pb::Transaction, TxInvalid> check_transaction(std::string_view stored_bytes,
                                                      const NetworkId& network,
                                                      const ValidatorSet& members,
                                                      std::uint64_t max_tx_bytes) {
  pb::Transaction tx;
  PublicKey sender;
  if (auto bad = check_unsigned_parts(stored_bytes, network, members, max_tx_bytes, tx, sender))
    return *bad;
  auto sig = Signature::from_bytes(as_bytes(tx.signature()));
  if (!sig || !verify_signature(sender, tx_sign_bytes(network, tx), *sig))
    return TxInvalid::bad_signature;
  return tx;
}

Verdict<pb::Transaction, TxInvalid> check_transaction_signature_verified(
    std::string_view stored_bytes, const NetworkId& network, const ValidatorSet& members,
    std::uint64_t max_tx_bytes) {
  pb::Transaction tx;
  PublicKey sender;
  if (auto bad = check_unsigned_parts(stored_bytes, network, members, max_tx_bytes, tx, sender))
    return *bad;
  // The length is still checked: it is free, and keeps "verified" bytes from
  // carrying a malformed signature field.
  if (!Signature::from_bytes(as_bytes(tx.signature()))) return TxInvalid::bad_signature;
  return tx;
}

}  // namespace baton::chain

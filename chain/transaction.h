// Signed transactions: sign bytes, construction, hashing and the stateless
// check. docs/PROTOCOL.md, "Transactions".
//
// A transaction is stored and gossiped as its serialized pb::Transaction; its
// hash (tx_hash) is SHA-256 of those exact bytes. Stored bytes must be the
// canonical protobuf encoding (what SerializeAsString produces: fields in
// number order, no unknown fields, defaults omitted), so one signed
// transaction has exactly one hash.
//
// Nonces are stateful (ledger_state.h): sender's first transaction has nonce 1,
// then +1; the stateless check only refuses nonce 0.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chain/crypto.h"
#include "chain/proto/ledger.pb.h"
#include "chain/validator_set.h"
#include "chain/verdict.h"

namespace baton::chain {

inline constexpr std::string_view kTxDomain = "baton/tx/v2";

// network_separated("baton/tx/v2", network,
//   sender(32) || u64be nonce || u32be type || u32be len(payload) || payload)
// i.e. domain || 0x00 || u32be len(chain_id) || chain_id || genesis_hash || body.
// The chain id signed is the network's; check_transaction refuses a
// transaction whose chain_id field differs before it looks at the signature.
// The sender field is copied as is (its length is checked elsewhere).
Bytes tx_sign_bytes(const NetworkId& network, const pb::Transaction& tx);

// A transaction for `network` signed by `key`, sender = key's public key.
pb::Transaction make_transaction(const NetworkId& network, const SigningKey& key,
                                 std::uint64_t nonce, pb::TxType type, std::string payload);

// A TX_NOTE transaction carrying `text`.
pb::Transaction make_note(const NetworkId& network, const SigningKey& key, std::uint64_t nonce,
                          std::string text);

// The canonical stored bytes.
std::string encode_transaction(const pb::Transaction& tx);

// SHA-256 of the exact stored bytes.
Hash tx_hash(ByteView stored_bytes);
inline Hash tx_hash(std::string_view stored_bytes) { return tx_hash(as_bytes(stored_bytes)); }

enum class TxInvalid {
  malformed,          // not a canonical serialized Transaction
  oversized,          // longer than the genesis max_tx_bytes
  wrong_chain_id,     // its chain_id field names another chain
  malformed_sender,   // sender is not 32 bytes
  unknown_sender,     // sender is not a genesis member
  zero_nonce,         // nonces start at 1
  unknown_type,       // a TxType this version does not know
  malformed_payload,  // payload does not decode as the type's message
  bad_signature,      // not 64 bytes, or does not verify over tx_sign_bytes (e.g. signed
                      // under another genesis with the same chain id)
};

// A short sentence, e.g. "the transaction signature does not verify".
std::string_view to_string(TxInvalid reason);

// Everything about one transaction that needs no ledger state: size, canonical
// encoding, chain id, sender membership, nonce > 0, known type with a payload
// that decodes, and the Ed25519 signature over tx_sign_bytes(network, tx)
// (checked last: it is the costly part). On success returns the decoded
// transaction.
Verdict<pb::Transaction, TxInvalid> check_transaction(std::string_view stored_bytes,
                                                      const NetworkId& network,
                                                      const ValidatorSet& members,
                                                      std::uint64_t max_tx_bytes);

// check_transaction without the Ed25519 verification, for bytes whose
// signature the caller verified before: the caller must have had
// check_transaction accept exactly these bytes (same tx_hash) under the same
// network and members. Every other check still runs.
Verdict<pb::Transaction, TxInvalid> check_transaction_signature_verified(
    std::string_view stored_bytes, const NetworkId& network, const ValidatorSet& members,
    std::uint64_t max_tx_bytes);

}  // namespace baton::chain

// Key envelopes: a model's data key wrapped for each member with a libsodium
// sealed box (X25519 + XSalsa20-Poly1305) to the member's x25519_public key
// (docs/PROTOCOL.md, "Key envelopes"). The chain stores the envelope beside
// the blob's hash; `baton vault seal` writes it as BLOB.envelope.json.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/crypto.h"
#include "chain/keys.h"
#include "chain/result.h"
#include "storage/vault.h"

namespace baton::storage {

// crypto_box_SEALBYTES (48) + the 32-byte key.
inline constexpr std::size_t kWrappedKeySize = 80;

struct WrappedKey {
  std::string member;  // the member's name, for people; matching uses the key
  chain::X25519PublicKey recipient;
  std::array<std::uint8_t, kWrappedKeySize> sealed{};
};

struct Envelope {
  std::array<std::uint8_t, 32> key_commitment{};  // DataKey::commitment()
  std::vector<WrappedKey> recipients;
  // Optional facts about the blob (the CLI records them; open checks the
  // size and hash when present).
  std::optional<std::uint64_t> blob_size;
  std::optional<chain::Hash> blob_sha256;
};

// Wraps `key` for one member. Randomised (an ephemeral key per call).
WrappedKey wrap_key_for(const DataKey& key, std::string member,
                        const chain::X25519PublicKey& recipient);

// Builds an envelope for every member in `members` (at least one; no member
// twice, code invalid_argument).
Result<Envelope> make_envelope(const DataKey& key,
                               const std::vector<chain::MemberPublicKeys>& members);

// Finds the entry for `secret`'s public key, opens it and checks the key
// against the envelope's commitment. Codes: not_recipient when no entry is
// for this key, bad_envelope when the entry does not open or the key does
// not match the commitment.
Result<DataKey> unwrap(const Envelope& envelope, const chain::X25519SecretKey& secret);

// JSON text, keys in a fixed order, hex for bytes:
//   {"format":"baton-envelope-v1","cipher":"AES-256-GCM",
//    "key_commitment":HEX32,"recipients":[{"name":..,"x25519_public":HEX32,
//    "wrapped_key":HEX80},..], "blob_size":N, "blob_sha256":HEX32}
std::string encode_envelope(const Envelope& envelope);
// Strict: refuses other formats, missing or extra-long fields, bad hex,
// duplicate recipients (code bad_envelope).
Result<Envelope> parse_envelope(std::string_view json_text);

}  // namespace baton::storage

// A member's key files (docs/PROTOCOL.md, "Key files").
//
//   NAME.key      (secret, mode 0600)  JSON object:
//     {"format": "baton-key-v1", "name": NAME,
//      "ed25519_seed": 64 hex chars, "x25519_secret": 64 hex chars}
//   NAME.pub.json (public) JSON object:
//     {"format": "baton-pub-v1", "name": NAME,
//      "ed25519_public": 64 hex chars, "x25519_public": 64 hex chars,
//      "p2p_address": "host:port"}
//
// This header only encodes and parses text; reading and writing the files
// (and their permissions) belongs to the callers in tools/ and node/.
#pragma once

#include <string>
#include <string_view>

#include "chain/crypto.h"
#include "chain/result.h"

namespace baton::chain {

struct MemberPublicKeys {
  std::string name;
  PublicKey ed25519;
  X25519PublicKey x25519;
  std::string p2p_address = "127.0.0.1:0";
};

struct MemberSecretKeys {
  std::string name;
  SigningKey signing;
  X25519SecretKey x25519;

  MemberPublicKeys public_keys(std::string p2p_address = "127.0.0.1:0") const {
    return {name, signing.public_key(), x25519.public_key(), std::move(p2p_address)};
  }
};

// Member names: 1..64 characters of [A-Za-z0-9._-], not starting with '.'.
Status validate_member_name(std::string_view name);

MemberSecretKeys generate_member_keys(std::string name);

// The key file's text. It holds the secrets: keep it in a chain::SecretText
// so that it is wiped once written. Made without intermediate copies.
std::string encode_secret_keys(const MemberSecretKeys& keys);

// The keys from a key file's text; the parsed JSON's secret strings are
// wiped before they are freed (the caller wipes `json_text`, e.g. by holding
// it in a chain::SecretText).
Result<MemberSecretKeys> parse_secret_keys(std::string_view json_text);

std::string encode_public_keys(const MemberPublicKeys& keys);
Result<MemberPublicKeys> parse_public_keys(std::string_view json_text);

}  // namespace baton::chain

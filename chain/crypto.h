// Hashes, Ed25519 signatures and X25519 key pairs (libsodium), and hex.
// Pure functions over bytes: no files, no clocks. Randomness only in the
// explicitly named generate() functions, which the ledger state machine never
// calls.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/result.h"
#include "chain/secret.h"

namespace baton::chain {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Lower-case hex, two digits per byte.
std::string to_hex(ByteView bytes);
// Accepts upper or lower case; refuses odd length and non-hex characters.
Result<Bytes> from_hex(std::string_view hex);

// A SHA-256 digest.
struct Hash {
  std::array<std::uint8_t, 32> bytes{};

  std::string hex() const { return to_hex(bytes); }
  bool is_zero() const;
  ByteView view() const { return bytes; }
  static Result<Hash> from_hex(std::string_view hex);
  static Result<Hash> from_bytes(ByteView b);
  auto operator<=>(const Hash&) const = default;
};

Hash sha256(ByteView data);
inline Hash sha256(std::string_view s) { return sha256(as_bytes(s)); }

// Incremental SHA-256 for streams (blobs, files).
class Sha256Stream {
 public:
  Sha256Stream();
  void update(ByteView data);
  Hash finish();

 private:
  alignas(64) std::array<std::uint8_t, 128> state_{};  // crypto_hash_sha256_state
};

struct PublicKey {
  std::array<std::uint8_t, 32> bytes{};
  std::string hex() const { return to_hex(bytes); }
  static Result<PublicKey> from_hex(std::string_view hex);
  static Result<PublicKey> from_bytes(ByteView b);
  auto operator<=>(const PublicKey&) const = default;
};

struct Signature {
  std::array<std::uint8_t, 64> bytes{};
  std::string hex() const { return to_hex(bytes); }
  static Result<Signature> from_bytes(ByteView b);
  auto operator<=>(const Signature&) const = default;
};

// An Ed25519 signing key. Holds the 32-byte seed (and libsodium's 64-byte
// expanded form) in SecretBytes: locked, out of core dumps, wiped on
// destruction (chain/secret.h). Copyable on purpose (tests, signers); each
// copy is its own locked allocation. Do not log it.
class SigningKey {
 public:
  static SigningKey generate();
  static Result<SigningKey> from_seed(ByteView seed32);

  SigningKey(const SigningKey&) = default;
  SigningKey& operator=(const SigningKey&) = default;
  ~SigningKey();

  const PublicKey& public_key() const { return public_; }
  ByteView seed() const { return {secret_.data(), 32}; }
  Signature sign(ByteView message) const;

 private:
  SigningKey() = default;
  SecretBytes<64> secret_;  // libsodium layout: seed || public
  PublicKey public_;
};

bool verify_signature(const PublicKey& key, ByteView message, const Signature& sig);

// X25519 key pair for key wrapping (libsodium sealed boxes) and handshakes.
// The secret scalar lives in SecretBytes, like SigningKey's.
struct X25519PublicKey {
  std::array<std::uint8_t, 32> bytes{};
  std::string hex() const { return to_hex(bytes); }
  static Result<X25519PublicKey> from_hex(std::string_view hex);
  auto operator<=>(const X25519PublicKey&) const = default;
};

class X25519SecretKey {
 public:
  static X25519SecretKey generate();
  static Result<X25519SecretKey> from_bytes(ByteView secret32);
  X25519SecretKey(const X25519SecretKey&) = default;
  X25519SecretKey& operator=(const X25519SecretKey&) = default;
  ~X25519SecretKey();

  const X25519PublicKey& public_key() const { return public_; }
  ByteView secret() const { return secret_.view(); }

 private:
  X25519SecretKey() = default;
  SecretBytes<32> secret_;
  X25519PublicKey public_;
};

// Domain separation used by every signature and by typed hashes:
//   domain (ASCII, e.g. "baton/state/v1") || 0x00 || u32 big-endian len(chain_id) || chain_id
//   || body
// See docs/PROTOCOL.md. Signatures by member keys use network_separated
// (below), which also binds the genesis hash.
Bytes domain_separated(std::string_view domain, std::string_view chain_id, ByteView body);

// Which network a signature belongs to: the genesis chain id and the genesis
// hash (SHA-256 of the exact genesis file). Two consortia that picked the
// same chain id still differ in their genesis hash, so a member key used in
// both cannot have its transactions or votes replayed from one to the other.
struct NetworkId {
  std::string chain_id;
  Hash genesis_hash;
};

// The bytes every signature by a member key covers (docs/PROTOCOL.md §2):
//   domain_separated(domain, network.chain_id, network.genesis_hash (32) || body)
Bytes network_separated(std::string_view domain, const NetworkId& network, ByteView body);

// Fills `out` with cryptographically secure random bytes.
void random_bytes(std::span<std::uint8_t> out);

}  // namespace baton::chain

// One-shot SHA-256 comes from OpenSSL's EVP interface, which uses the CPU's
// SHA extensions (SHA-NI) where present: about 5x libsodium's portable C on a
// 127 MiB model and 3x on a transaction. Sha256Stream stays on libsodium (its
// state lives inline in the header); streams of model blobs hash with
// storage::Sha256Hasher (storage/byte_stream.h), which is OpenSSL's too.
// Signatures and key pairs are libsodium's.
#include "chain/crypto.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstring>

namespace baton::chain {
namespace {

// libsodium must be initialised once before use; sodium_init is idempotent
// and thread-safe, and a failure means the process cannot do crypto at all.
void ensure_sodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) std::abort();
    return true;
  }();
  (void)ready;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> fixed_from_hex(std::string_view hex, const char* what) {
  if (hex.size() != 2 * N) {
    return make_error(std::string(what) + " must be " + std::to_string(2 * N) +
                      " hex characters, got " + std::to_string(hex.size()));
  }
  auto bytes = from_hex(hex);
  if (!bytes) return make_error(std::string(what) + ": " + bytes.error().message);
  std::array<std::uint8_t, N> out{};
  std::memcpy(out.data(), bytes->data(), N);
  return out;
}

// OpenSSL's SHA-256, fetched once: the implicit fetch of EVP_sha256() on
// every call costs more than hashing a small input.
const EVP_MD* sha256_md() {
  static const EVP_MD* const md = [] {
    const EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) std::abort();  // an OpenSSL without SHA-256 cannot run Baton
    return m;
  }();
  return md;
}

}  // namespace

std::string to_hex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

Result<Bytes> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return make_error("hex string has an odd number of characters");
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return make_error("hex string contains a non-hex character");
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

bool Hash::is_zero() const {
  for (auto b : bytes)
    if (b != 0) return false;
  return true;
}

Result<Hash> Hash::from_hex(std::string_view hex) {
  auto a = fixed_from_hex<32>(hex, "a SHA-256 hash");
  if (!a) return a.error();
  return Hash{*a};
}

Result<Hash> Hash::from_bytes(ByteView b) {
  if (b.size() != 32)
    return make_error("a SHA-256 hash must be 32 bytes, got " + std::to_string(b.size()));
  Hash h;
  std::memcpy(h.bytes.data(), b.data(), 32);
  return h;
}

Hash sha256(ByteView data) {
  Hash h;
  unsigned int len = 0;
  // Failing to hash valid memory is a bug or an exhausted heap, not an input
  // problem: abort rather than return a wrong digest.
  if (EVP_Digest(data.data(), data.size(), h.bytes.data(), &len, sha256_md(), nullptr) != 1 ||
      len != h.bytes.size()) {
    std::abort();
  }
  return h;
}

static_assert(sizeof(crypto_hash_sha256_state) <= 128);

Sha256Stream::Sha256Stream() {
  ensure_sodium();
  crypto_hash_sha256_init(reinterpret_cast<crypto_hash_sha256_state*>(state_.data()));
}

void Sha256Stream::update(ByteView data) {
  crypto_hash_sha256_update(reinterpret_cast<crypto_hash_sha256_state*>(state_.data()), data.data(),
                            data.size());
}

Hash Sha256Stream::finish() {
  Hash h;
  crypto_hash_sha256_final(reinterpret_cast<crypto_hash_sha256_state*>(state_.data()),
                           h.bytes.data());
  return h;
}

Result<PublicKey> PublicKey::from_hex(std::string_view hex) {
  auto a = fixed_from_hex<32>(hex, "an Ed25519 public key");
  if (!a) return a.error();
  return PublicKey{*a};
}

Result<PublicKey> PublicKey::from_bytes(ByteView b) {
  if (b.size() != 32)
    return make_error("an Ed25519 public key must be 32 bytes, got " + std::to_string(b.size()));
  PublicKey k;
  std::memcpy(k.bytes.data(), b.data(), 32);
  return k;
}

Result<Signature> Signature::from_bytes(ByteView b) {
  if (b.size() != 64)
    return make_error("an Ed25519 signature must be 64 bytes, got " + std::to_string(b.size()));
  Signature s;
  std::memcpy(s.bytes.data(), b.data(), 64);
  return s;
}

SigningKey SigningKey::generate() {
  ensure_sodium();
  std::array<std::uint8_t, 32> seed{};
  randombytes_buf(seed.data(), seed.size());
  auto key = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return std::move(key).value();
}

Result<SigningKey> SigningKey::from_seed(ByteView seed32) {
  ensure_sodium();
  if (seed32.size() != 32)
    return make_error("an Ed25519 seed must be 32 bytes, got " + std::to_string(seed32.size()));
  SigningKey key;
  crypto_sign_seed_keypair(key.public_.bytes.data(), key.secret_.data(), seed32.data());
  return key;
}

SigningKey::~SigningKey() = default;  // SecretBytes wipes and frees the secret

Signature SigningKey::sign(ByteView message) const {
  Signature sig;
  crypto_sign_detached(sig.bytes.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

bool verify_signature(const PublicKey& key, ByteView message, const Signature& sig) {
  ensure_sodium();
  return crypto_sign_verify_detached(sig.bytes.data(), message.data(), message.size(),
                                     key.bytes.data()) == 0;
}

Result<X25519PublicKey> X25519PublicKey::from_hex(std::string_view hex) {
  auto a = fixed_from_hex<32>(hex, "an X25519 public key");
  if (!a) return a.error();
  return X25519PublicKey{*a};
}

X25519SecretKey X25519SecretKey::generate() {
  ensure_sodium();
  std::array<std::uint8_t, 32> secret{};
  randombytes_buf(secret.data(), secret.size());
  auto key = from_bytes(secret);
  sodium_memzero(secret.data(), secret.size());
  return std::move(key).value();
}

Result<X25519SecretKey> X25519SecretKey::from_bytes(ByteView secret32) {
  ensure_sodium();
  if (secret32.size() != 32)
    return make_error("an X25519 secret key must be 32 bytes, got " +
                      std::to_string(secret32.size()));
  X25519SecretKey key;
  std::memcpy(key.secret_.data(), secret32.data(), 32);
  crypto_scalarmult_base(key.public_.bytes.data(), key.secret_.data());
  return key;
}

X25519SecretKey::~X25519SecretKey() = default;  // SecretBytes wipes and frees the secret

Bytes domain_separated(std::string_view domain, std::string_view chain_id, ByteView body) {
  Bytes out;
  out.reserve(domain.size() + 5 + chain_id.size() + body.size());
  out.insert(out.end(), domain.begin(), domain.end());
  out.push_back(0);
  const auto n = static_cast<std::uint32_t>(chain_id.size());
  out.push_back(static_cast<std::uint8_t>(n >> 24));
  out.push_back(static_cast<std::uint8_t>(n >> 16));
  out.push_back(static_cast<std::uint8_t>(n >> 8));
  out.push_back(static_cast<std::uint8_t>(n));
  out.insert(out.end(), chain_id.begin(), chain_id.end());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes network_separated(std::string_view domain, const NetworkId& network, ByteView body) {
  Bytes bound;
  bound.reserve(32 + body.size());
  bound.insert(bound.end(), network.genesis_hash.bytes.begin(), network.genesis_hash.bytes.end());
  bound.insert(bound.end(), body.begin(), body.end());
  return domain_separated(domain, network.chain_id, bound);
}

void random_bytes(std::span<std::uint8_t> out) {
  ensure_sodium();
  randombytes_buf(out.data(), out.size());
}

}  // namespace baton::chain

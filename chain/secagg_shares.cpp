// Shamir's secret sharing over GF(2^8), the round commitments and the X25519
// public key of a reconstructed secret (chain/secagg_shares.h, PROTOCOL §21.4).
// Field arithmetic is branch-free and table-free: the dealer evaluates its
// polynomials on secret bytes, and a table lookup indexed by a secret leaks
// it through the cache.
#include "chain/secagg_shares.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace baton::chain {
namespace {

void ensure_sodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) std::abort();
    return true;
  }();
  (void)ready;
}

// a · b in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (0x11b), in constant time.
std::uint8_t gf_mul(std::uint8_t a, std::uint8_t b) {
  std::uint8_t product = 0;
  for (int i = 0; i < 8; ++i) {
    product ^= static_cast<std::uint8_t>(-(b & 1) & a);
    const auto carry = static_cast<std::uint8_t>(-(a >> 7));
    a = static_cast<std::uint8_t>((a << 1) ^ (carry & 0x1b));
    b >>= 1;
  }
  return product;
}

// a^-1 = a^254 (a != 0), by a fixed chain of squarings and multiplications.
std::uint8_t gf_inverse(std::uint8_t a) {
  std::uint8_t result = 1;
  std::uint8_t power = a;        // a^(2^i)
  for (int i = 1; i < 8; ++i) {  // 254 = 0b11111110: bits 1..7
    power = gf_mul(power, power);
    result = gf_mul(result, power);
  }
  return result;
}

void put_u32le(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

void put_hash(std::string& out, const Hash& h) {
  out.append(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size());
}

void put_binding(std::string& out, const RoundBinding& binding) {
  const Bytes b = binding_bytes(binding);
  out.append(reinterpret_cast<const char*>(b.data()), b.size());
}

Hash hash_and_wipe(std::string& preimage) {
  const Hash h = sha256(as_bytes(preimage));
  sodium_memzero(preimage.data(), preimage.size());
  return h;
}

}  // namespace

Bytes binding_bytes(const RoundBinding& binding) {
  Bytes out;
  out.reserve(16 + binding.chain_id.size() + binding.run_id.size());
  const auto put = [&out](std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  put(binding.chain_id.size(), 4);
  out.insert(out.end(), binding.chain_id.begin(), binding.chain_id.end());
  put(binding.run_id.size(), 4);
  out.insert(out.end(), binding.run_id.begin(), binding.run_id.end());
  put(binding.round, 8);
  return out;
}

std::vector<Hash> shamir_split(const Hash& secret, std::uint32_t threshold, std::uint32_t count,
                               const Hash& coefficient_key) {
  if (threshold < 1 || threshold > count || count > kMaxShamirShares) std::abort();
  // coefficients[0] is the secret, coefficients[j] for j >= 1 are derived.
  std::vector<Hash> coefficients(threshold);
  coefficients[0] = secret;
  for (std::uint32_t j = 1; j < threshold; ++j) {
    std::string preimage = "baton/secagg/shamir/v1";
    put_hash(preimage, coefficient_key);
    put_u32le(preimage, j);
    coefficients[j] = hash_and_wipe(preimage);
  }
  std::vector<Hash> shares(count);
  for (std::uint32_t rank = 0; rank < count; ++rank) {
    const auto x = static_cast<std::uint8_t>(rank + 1);
    for (std::size_t k = 0; k < 32; ++k) {
      std::uint8_t y = 0;  // Horner, from the highest coefficient down
      for (std::uint32_t j = threshold; j-- > 0;) {
        y = static_cast<std::uint8_t>(gf_mul(y, x) ^ coefficients[j].bytes[k]);
      }
      shares[rank].bytes[k] = y;
    }
  }
  sodium_memzero(coefficients.data(), coefficients.size() * sizeof(Hash));
  return shares;
}

std::optional<Hash> shamir_combine(std::span<const std::pair<std::uint32_t, Hash>> shares) {
  if (shares.empty()) return std::nullopt;
  bool seen[kMaxShamirShares] = {};
  for (const auto& [rank, share] : shares) {
    if (rank >= kMaxShamirShares || seen[rank]) return std::nullopt;
    seen[rank] = true;
  }
  // secret = Σ_i y_i · Π_{j≠i} x_j / (x_j - x_i); subtraction is XOR.
  Hash secret;
  for (std::size_t i = 0; i < shares.size(); ++i) {
    const auto xi = static_cast<std::uint8_t>(shares[i].first + 1);
    std::uint8_t numerator = 1, denominator = 1;
    for (std::size_t j = 0; j < shares.size(); ++j) {
      if (j == i) continue;
      const auto xj = static_cast<std::uint8_t>(shares[j].first + 1);
      numerator = gf_mul(numerator, xj);
      denominator = gf_mul(denominator, static_cast<std::uint8_t>(xj ^ xi));
    }
    const std::uint8_t basis = gf_mul(numerator, gf_inverse(denominator));
    for (std::size_t k = 0; k < 32; ++k) {
      secret.bytes[k] ^= gf_mul(shares[i].second.bytes[k], basis);
    }
  }
  return secret;
}

Hash share_commitment(const RoundBinding& binding, ShareKind kind, std::uint32_t dealer_rank,
                      std::uint32_t recipient_rank, const Hash& share) {
  std::string preimage = "baton/secagg/share/v1";
  put_binding(preimage, binding);
  preimage.push_back(static_cast<char>(kind));
  put_u32le(preimage, dealer_rank);
  put_u32le(preimage, recipient_rank);
  put_hash(preimage, share);
  return hash_and_wipe(preimage);
}

Hash seed_commitment(const RoundBinding& binding, std::uint32_t dealer_rank, const Hash& seed) {
  std::string preimage = "baton/secagg/seed/v1";
  put_binding(preimage, binding);
  put_u32le(preimage, dealer_rank);
  put_hash(preimage, seed);
  return hash_and_wipe(preimage);
}

std::optional<Hash> x25519_public_of(const Hash& secret) {
  ensure_sodium();
  Hash out;
  if (crypto_scalarmult_base(out.bytes.data(), secret.bytes.data()) != 0) return std::nullopt;
  return out;
}

}  // namespace baton::chain

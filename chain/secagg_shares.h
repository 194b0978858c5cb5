// The part of secure aggregation (issue 15) that the ledger itself checks:
// Shamir's secret sharing of 32-byte secrets, the commitments a dealer posts
// in its RoundShare, and the X25519 public key of a reconstructed secret.
// docs/PROTOCOL.md §21. Pure and deterministic (libsodium for SHA-256 and
// X25519 only); masks, fixed point and aggregation live in secagg/.
//
// Sharing is byte-wise over GF(2^8) with the AES polynomial x^8+x^4+x^3+x+1
// (0x11b): byte k of the secret is the constant term of its own polynomial of
// degree t-1, and the share of the partner of rank r (its index in the plan's
// `partners`) is every polynomial evaluated at x = r + 1. Any t shares give
// the secret (Lagrange at 0); t-1 shares are uniformly distributed whatever
// the secret (information-theoretic).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "chain/crypto.h"

namespace baton::chain {

// Partners are ranked 0..254 (x = rank + 1 must be a non-zero byte); a
// federated plan has at most kMaxFederatedPartners (64) anyway.
inline constexpr std::uint32_t kMaxShamirShares = 255;

// The `count` shares (ranks 0..count-1) of `secret` with threshold
// `threshold`. The coefficients of degree 1..t-1 are not random but derived:
// byte k of coefficient j is SHA-256("baton/secagg/shamir/v1" ||
// coefficient_key || u32 LE j)[k], so a dealer that restarts deals the same
// shares; coefficient_key must be secret and fresh per secret (the dealer
// derives it from its long-term key and the round). Pre: 1 <= threshold <=
// count <= kMaxShamirShares.
std::vector<Hash> shamir_split(const Hash& secret, std::uint32_t threshold, std::uint32_t count,
                               const Hash& coefficient_key);

// The secret of a degree-(n-1) sharing from n shares (rank, share): Lagrange
// interpolation at 0. nullopt when `shares` is empty, names a rank twice or a
// rank >= kMaxShamirShares. With fewer shares than the threshold the result
// is a value unrelated to the secret (the caller checks it against the
// dealer's commitment).
std::optional<Hash> shamir_combine(std::span<const std::pair<std::uint32_t, Hash>> shares);

// What a round's commitments and pair seeds are bound to: the chain, the run
// and the round, so nothing posted for one round is valid in another.
struct RoundBinding {
  std::string_view chain_id;
  std::string_view run_id;
  std::uint64_t round = 0;
};

// The binding's bytes, as every hash of PROTOCOL §21.4 includes them:
// u32 LE len(chain_id) || chain_id || u32 LE len(run_id) || run_id || u64 LE
// round.
Bytes binding_bytes(const RoundBinding& binding);

enum class ShareKind : std::uint8_t {
  self_seed = 1,      // a share of the dealer's self-mask seed b_u
  ephemeral_key = 2,  // a share of the dealer's round X25519 secret key
};

// SHA-256("baton/secagg/share/v1" || binding || kind || u32 dealer_rank ||
// u32 recipient_rank || share), with the binding's strings length-prefixed
// (u32 LE) and the round u64 LE. A share of a uniformly random secret is
// itself uniform (256 bits), so the commitment hides it without a salt.
Hash share_commitment(const RoundBinding& binding, ShareKind kind, std::uint32_t dealer_rank,
                      std::uint32_t recipient_rank, const Hash& share);

// SHA-256("baton/secagg/seed/v1" || binding || u32 dealer_rank || seed): the
// dealer's commitment to its self-mask seed, checked when the ledger
// reconstructs the seed.
Hash seed_commitment(const RoundBinding& binding, std::uint32_t dealer_rank, const Hash& seed);

// The X25519 public key of `secret` (crypto_scalarmult_base), or nullopt
// when libsodium refuses it. The ledger checks a reconstructed ephemeral
// secret against the dealer's RoundShare.ephemeral_public with it.
std::optional<Hash> x25519_public_of(const Hash& secret);

}  // namespace baton::chain

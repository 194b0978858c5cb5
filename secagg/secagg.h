// Secure aggregation of model updates by pairwise masking (Bonawitz et al.,
// "Practical Secure Aggregation for Privacy-Preserving Machine Learning",
// CCS 2017), with the ledger as the bulletin board: docs/PROTOCOL.md §21.
// Pure functions over bytes (libsodium: ChaCha20, X25519, sealed boxes); no
// LibTorch, no I/O. The parts the ledger checks itself (Shamir, commitments)
// are in chain/secagg_shares.h.
//
// One round, for the partners ranked 0..n-1 (their order in the plan):
//   1. each partner u derives its round secrets (derive_round_secrets): a
//      self-mask seed b_u and an ephemeral X25519 key pair c_u; it deals
//      Shamir shares of both to every partner (deal) and posts a RoundShare.
//      Those that did form U1.
//   2. u trains, encodes its update in fixed point (encode_update), masks it
//      (mask_update: + PRG(b_u), + PRG(s_uv) for every v in U1 ranked above
//      u, - PRG(s_uv) for every v ranked below), uploads the masked object
//      (encode_masked_upload) and posts a RoundUpload. Those that did form U2.
//   3. every partner of U1 opens the boxes dealt to it (open_share_box) and
//      reveals, for each dealer in U1, its share of b_u if u is in U2, else
//      its share of c_u's secret (RoundUnmask). The ledger reconstructs the
//      secrets from t shares and checks them against the commitments.
//   4. anyone computes the sum of U2's updates from the masked uploads and the
//      reconstructed secrets (unmask_sum), and the new model from it
//      (apply_aggregate): the sample-weighted mean of the updates (FedAvg).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/crypto.h"
#include "chain/result.h"
#include "chain/secagg_shares.h"

namespace baton::secagg {

using chain::Bytes;
using chain::ByteView;
using chain::Hash;

// ---- Fixed point (Z/2^64) ----
//
// An update value δ (trained minus head, float32) with weight w (training
// rows) is encoded as q = round_half_even(clamp(δ, ±kMaxAbsDelta) · w ·
// 2^kFracBits), stored as its two's complement in Z/2^64. With w <=
// chain::kMaxRoundWeight (2^20) and at most chain::kMaxFederatedPartners
// (2^6) partners, |Σ q| <= 2^6 · 2^20 · 2^6 · 2^24 = 2^56 < 2^63: the sum
// never wraps, so the signed reading of the masked sum is exact.
inline constexpr int kFracBits = 24;
inline constexpr double kMaxAbsDelta = 64.0;

// q for every value of trained - head. Pre: equal sizes, 1 <= weight <=
// kMaxRoundWeight. Non-finite differences encode as 0 (and are counted).
struct EncodedUpdate {
  std::vector<std::uint64_t> values;
  std::size_t clipped = 0;     // values whose |δ| exceeded kMaxAbsDelta
  std::size_t non_finite = 0;  // values that were NaN or infinite
};
EncodedUpdate encode_update(std::span<const float> head, std::span<const float> trained,
                            std::uint64_t weight);

// The plain fixed-point FedAvg sum: Σ of the encoded updates in Z/2^64 (the
// reference that secure aggregation must equal bit for bit). Pre: equal sizes.
std::vector<std::uint64_t> plain_sum(std::span<const std::vector<std::uint64_t>> encoded);

// The aggregated model's values: head_i + (float)((double)(int64)sum_i /
// (2^kFracBits · total_weight)). Pre: equal sizes, total_weight >= 1.
std::vector<float> apply_aggregate(std::span<const float> head, std::span<const std::uint64_t> sum,
                                   std::uint64_t total_weight);

// ---- Model blobs (docs/PROTOCOL.md §17), read without LibTorch ----

// Where the float32 values of a model blob lie: every float32 tensor in blob
// order (int64 tensors, e.g. batch norm's num_batches_tracked, are skipped:
// an aggregate keeps the head's).
struct BlobLayout {
  struct Span {
    std::size_t offset = 0;  // byte offset of the first value
    std::size_t count = 0;   // float32 values
  };
  std::vector<Span> floats;
  std::size_t float_count = 0;  // Σ counts
};
// Parses the header and tensor descriptors of §17 (bounds-checked: every
// length and product against the blob's size before use). Error on a wrong
// magic or version, a truncated blob or trailing bytes.
Result<BlobLayout> blob_layout(ByteView blob);
// The float32 values in blob order.
Result<std::vector<float>> blob_floats(ByteView blob);
// `blob` with its float32 values replaced by `values` (same header, same
// int64 tensors). Error when the count differs.
Result<Bytes> blob_with_floats(ByteView blob, std::span<const float> values);

// ---- Round secrets and shares ----

// One round's context: the binding (chain, run, round) and the partners in
// rank order.
struct RoundContext {
  chain::RoundBinding binding;
  std::span<const std::string> partners;
};

// A partner's secrets for one round, derived (not random) from its long-term
// X25519 secret, so that a restarted agent finds the same ones:
//   k = SHA-256("baton/secagg/round-key/v1" || x25519 secret || binding)
//   b_u = SHA-256("b" || k), ephemeral secret = SHA-256("c" || k),
//   Shamir coefficient keys SHA-256("pb" || k) and SHA-256("pc" || k).
// The long-term key never leaves the node; a reconstructed b_u or ephemeral
// secret says nothing about it or about other rounds.
struct RoundSecrets {
  Hash self_seed;           // b_u
  Hash ephemeral_secret;    // c_u's X25519 secret
  Hash ephemeral_public;    // c_u's X25519 public key
  Hash self_poly_key;       // Shamir coefficient key for b_u
  Hash ephemeral_poly_key;  // Shamir coefficient key for c_u
};
RoundSecrets derive_round_secrets(const chain::X25519SecretKey& long_term,
                                  const chain::RoundBinding& binding);

// A dealer's RoundShare content (chain::RoundShareRecord without the height).
struct DealtShares {
  Hash ephemeral_public;
  Hash self_seed_commitment;
  std::vector<std::string> share_boxes;      // by recipient rank, chain::kShareBoxBytes each
  std::vector<Hash> self_share_commitments;  // by recipient rank
  std::vector<Hash> key_share_commitments;   // by recipient rank
};
// Shares of b_u and of c_u's secret with threshold t for every partner, each
// recipient's two shares (self || key, 64 bytes) sealed to its genesis X25519
// key (crypto_box_seal). `recipients` in rank order. Pre: 2 <= threshold <=
// recipients.size() <= kMaxFederatedPartners, dealer_rank < recipients.size().
DealtShares deal(const RoundSecrets& secrets, const RoundContext& context,
                 std::uint32_t dealer_rank, std::uint32_t threshold,
                 std::span<const chain::X25519PublicKey> recipients);

// The two shares a dealer sealed for me, checked against the dealer's
// commitments (a box that does not open, or a share that is not the one
// committed, is an error naming which).
struct OpenedShares {
  Hash self_share;
  Hash key_share;
};
// Why open_share_box refused, in Error::code.
enum class ShareBoxErrc : int {
  unopenable = 1,           // wrong size, altered, or sealed to another key
  self_share_mismatch = 2,  // the self-seed share is not the committed one
  key_share_mismatch = 3,   // the ephemeral-key share is not the committed one
};
Result<OpenedShares> open_share_box(const chain::X25519SecretKey& mine, std::string_view box,
                                    const chain::RoundBinding& binding, std::uint32_t dealer_rank,
                                    std::uint32_t my_rank, const Hash& self_share_commitment,
                                    const Hash& key_share_commitment);

// ---- Masks ----

// The pair seed of partners u and v: SHA-256("baton/secagg/pair/v1" ||
// X25519(my ephemeral secret, their ephemeral public) || binding || u32
// min(rank) || u32 max(rank)); the same from either side. Error when X25519
// refuses the public key (a low-order point).
Result<Hash> pair_seed(const Hash& my_ephemeral_secret, const Hash& their_ephemeral_public,
                       const chain::RoundBinding& binding, std::uint32_t my_rank,
                       std::uint32_t their_rank);

// PRG(seed): `count` u64 words, the ChaCha20 (IETF, zero nonce) keystream of
// `seed` read as little-endian u64. Added (sign +1) or subtracted (-1) in
// place, in Z/2^64.
void add_mask(std::span<std::uint64_t> values, const Hash& seed, int sign);

// y_u = q_u + PRG(b_u) + Σ_{v in U1, v != u} ±PRG(s_uv): + when v ranks above
// u, - when below. `sharers` maps the rank of every partner of U1 (u
// included) to its RoundShare ephemeral_public. Error when a pair seed fails.
Result<std::vector<std::uint64_t>> mask_update(std::span<const std::uint64_t> encoded,
                                               const RoundSecrets& mine, std::uint32_t my_rank,
                                               const std::map<std::uint32_t, Hash>& sharers,
                                               const chain::RoundBinding& binding);

// Σ_{u in U2} q_u from the masked uploads of U2 (by rank), U2's self-mask
// seeds (by rank), the ephemeral secrets of U1 \ U2 (by rank) and U1's
// ephemeral publics (by rank): subtracts every PRG(b_u), and for every u in
// U2 and dropped d, the pair mask ±PRG(s_ud) that did not cancel. Error when
// the inputs disagree (a seed missing, sizes differ, a pair seed fails).
Result<std::vector<std::uint64_t>> unmask_sum(
    const std::map<std::uint32_t, std::vector<std::uint64_t>>& masked,
    const std::map<std::uint32_t, Hash>& self_seeds,
    const std::map<std::uint32_t, Hash>& dropped_secrets,
    const std::map<std::uint32_t, Hash>& sharers, const chain::RoundBinding& binding);

// ---- The masked upload object ----
//
// "BATONMSK" | u32 LE version 1 | u64 LE count | count x u64 LE.
Bytes encode_masked_upload(std::span<const std::uint64_t> values);
// Error unless the object is exactly 20 + 8 · expected_count bytes with the
// magic, version and count (checked before anything is allocated).
Result<std::vector<std::uint64_t>> decode_masked_upload(ByteView object,
                                                        std::size_t expected_count);
inline constexpr std::size_t masked_upload_size(std::size_t count) { return 20 + 8 * count; }

}  // namespace baton::secagg

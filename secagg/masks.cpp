// Pairwise and self masks (secagg/secagg.h, PROTOCOL §21.4): the pair seeds
// from X25519, the ChaCha20 keystream as the PRG, masking one update and
// removing the masks from the sum of the uploads.
#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <string>

#include "secagg/secagg.h"
#include "secagg/internal.h"

namespace baton::secagg {
namespace {

// Keystream bytes per chunk: 512 ChaCha20 blocks, small enough to stay in L1/L2.
constexpr std::size_t kChunkWords = 4096;
constexpr std::size_t kBlockBytes = 64;
constexpr std::size_t kBlocksPerChunk = kChunkWords * 8 / kBlockBytes;
// The IETF variant's block counter is 32 bits: 2^32 blocks of 64 bytes.
constexpr std::uint64_t kMaxMaskWords = (std::uint64_t{1} << 32) * kBlockBytes / 8;

std::string rank_text(std::uint32_t rank) { return "the partner of rank " + std::to_string(rank); }

}  // namespace

Result<Hash> pair_seed(const Hash& my_ephemeral_secret, const Hash& their_ephemeral_public,
                       const chain::RoundBinding& binding, std::uint32_t my_rank,
                       std::uint32_t their_rank) {
  if (my_rank == their_rank) std::abort();  // a partner has no pair mask with itself
  detail::ensure_sodium();
  std::uint8_t shared[crypto_scalarmult_BYTES];
  if (crypto_scalarmult(shared, my_ephemeral_secret.bytes.data(),
                        their_ephemeral_public.bytes.data()) != 0) {
    return make_error("The ephemeral public key of " + rank_text(their_rank) +
                      " is a low-order X25519 point, which would make the pair mask known to "
                      "everyone; that partner's RoundShare cannot be used.");
  }
  const Bytes bound = chain::binding_bytes(binding);
  detail::Preimage preimage("baton/secagg/pair/v1", 20 + sizeof shared + bound.size() + 8);
  preimage.add(shared).add(bound);
  sodium_memzero(shared, sizeof shared);
  preimage.add_u32le(std::min(my_rank, their_rank)).add_u32le(std::max(my_rank, their_rank));
  const Hash seed = preimage.hash();
  return seed;
}

void add_mask(std::span<std::uint64_t> values, const Hash& seed, int sign) {
  if ((sign != 1 && sign != -1) || values.size() > kMaxMaskWords) std::abort();
  detail::ensure_sodium();
  static const std::uint8_t zeros[kChunkWords * 8] = {};
  alignas(64) std::uint8_t stream[kChunkWords * 8];
  const std::uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
  std::uint32_t counter = 0;
  for (std::size_t at = 0; at < values.size(); at += kChunkWords) {
    const std::size_t words = std::min(kChunkWords, values.size() - at);
    const std::size_t bytes = (words * 8 + kBlockBytes - 1) / kBlockBytes * kBlockBytes;
    crypto_stream_chacha20_ietf_xor_ic(stream, zeros, bytes, nonce, counter, seed.bytes.data());
    counter += kBlocksPerChunk;
    std::uint64_t* out = values.data() + at;
    for (std::size_t i = 0; i < words; ++i) {
      std::uint64_t word;
      if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(&word, stream + 8 * i, 8);
      } else {
        word = 0;
        for (int b = 0; b < 8; ++b) word |= std::uint64_t{stream[8 * i + b]} << (8 * b);
      }
      out[i] = sign > 0 ? out[i] + word : out[i] - word;  // mod 2^64
    }
  }
  sodium_memzero(stream, sizeof stream);
}

Result<std::vector<std::uint64_t>> mask_update(std::span<const std::uint64_t> encoded,
                                               const RoundSecrets& mine, std::uint32_t my_rank,
                                               const std::map<std::uint32_t, Hash>& sharers,
                                               const chain::RoundBinding& binding) {
  const auto me = sharers.find(my_rank);
  if (me == sharers.end() || me->second != mine.ephemeral_public) {
    return make_error("The round's sharers do not list this partner (rank " +
                      std::to_string(my_rank) +
                      ") with its own ephemeral key; it did not share in this round and may "
                      "not upload.");
  }
  std::vector<std::uint64_t> masked(encoded.begin(), encoded.end());
  add_mask(masked, mine.self_seed, +1);
  for (const auto& [rank, their_public] : sharers) {
    if (rank == my_rank) continue;
    auto seed = pair_seed(mine.ephemeral_secret, their_public, binding, my_rank, rank);
    if (!seed) return seed.error();
    add_mask(masked, *seed, rank > my_rank ? +1 : -1);
  }
  return masked;
}

Result<std::vector<std::uint64_t>> unmask_sum(
    const std::map<std::uint32_t, std::vector<std::uint64_t>>& masked,
    const std::map<std::uint32_t, Hash>& self_seeds,
    const std::map<std::uint32_t, Hash>& dropped_secrets,
    const std::map<std::uint32_t, Hash>& sharers, const chain::RoundBinding& binding) {
  if (masked.empty()) return make_error("There is no masked upload to aggregate.");
  const std::size_t size = masked.begin()->second.size();
  for (const auto& [rank, values] : masked) {
    if (!sharers.contains(rank)) {
      return make_error("The upload of " + rank_text(rank) +
                        " comes from a partner that did "
                        "not share in this round.");
    }
    if (!self_seeds.contains(rank)) {
      return make_error("The self-mask seed of " + rank_text(rank) +
                        ", which uploaded, is missing; the round cannot be unmasked without it.");
    }
    if (values.size() != size) {
      return make_error("The upload of " + rank_text(rank) + " has " +
                        std::to_string(values.size()) + " values where the others have " +
                        std::to_string(size) + ".");
    }
  }
  for (const auto& [rank, seed] : self_seeds) {
    if (!masked.contains(rank)) {
      return make_error("A self-mask seed is given for " + rank_text(rank) +
                        ", which did not upload; the inputs of the round disagree.");
    }
  }
  for (const auto& [rank, secret] : dropped_secrets) {
    const auto shared = sharers.find(rank);
    if (shared == sharers.end() || masked.contains(rank)) {
      return make_error("An ephemeral secret is given for " + rank_text(rank) +
                        ", which is not a sharer that dropped out; the inputs disagree.");
    }
    const auto pub = chain::x25519_public_of(secret);
    if (!pub || *pub != shared->second) {
      return make_error("The reconstructed ephemeral secret of " + rank_text(rank) +
                        " is not the one its RoundShare published; the round cannot be "
                        "unmasked with it.");
    }
  }
  for (const auto& [rank, pub] : sharers) {
    if (!masked.contains(rank) && !dropped_secrets.contains(rank)) {
      return make_error(rank_text(rank) +
                        " shared but neither uploaded nor has its ephemeral "
                        "secret reconstructed; its pair masks cannot be removed.");
    }
  }

  std::vector<std::uint64_t> sum(size, 0);
  for (const auto& [rank, values] : masked) {
    for (std::size_t i = 0; i < size; ++i) sum[i] += values[i];
  }
  for (const auto& [rank, seed] : self_seeds) add_mask(sum, seed, -1);
  // u added +PRG(s_ud) when d ranks above u and -PRG(s_ud) when below; with d
  // gone that term did not cancel, so take it back out.
  for (const auto& [dropped, secret] : dropped_secrets) {
    for (const auto& [rank, values] : masked) {
      auto seed = pair_seed(secret, sharers.at(rank), binding, dropped, rank);
      if (!seed) return seed.error();
      add_mask(sum, *seed, dropped > rank ? -1 : +1);
    }
  }
  return sum;
}

}  // namespace baton::secagg

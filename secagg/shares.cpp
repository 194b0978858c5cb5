// A partner's round secrets, the shares it deals of them, and the opening of
// the shares dealt to it (secagg/secagg.h, PROTOCOL §21.4).
#include <cstdlib>
#include <cstring>
#include <string>

#include "chain/training.h"
#include "secagg/secagg.h"
#include "secagg/internal.h"

namespace baton::secagg {
namespace {

// SHA-256(prefix || key), the preimage wiped afterwards.
Hash derive(std::string_view prefix, const Hash& key) {
  return detail::Preimage(prefix, prefix.size() + 32).add(key.bytes).hash();
}

constexpr std::size_t kShareBoxPlain = 64;  // self share || key share
static_assert(chain::kShareBoxBytes == kShareBoxPlain + crypto_box_SEALBYTES);

}  // namespace

RoundSecrets derive_round_secrets(const chain::X25519SecretKey& long_term,
                                  const chain::RoundBinding& binding) {
  const Bytes bound = chain::binding_bytes(binding);
  Hash k = detail::Preimage("baton/secagg/round-key/v1", 25 + 32 + bound.size())
               .add(long_term.secret())
               .add(bound)
               .hash();

  RoundSecrets out;
  out.self_seed = derive("b", k);
  out.ephemeral_secret = derive("c", k);
  out.self_poly_key = derive("pb", k);
  out.ephemeral_poly_key = derive("pc", k);
  sodium_memzero(k.bytes.data(), k.bytes.size());
  const auto pub = chain::x25519_public_of(out.ephemeral_secret);
  if (!pub) std::abort();  // scalar multiplication of the base point cannot fail
  out.ephemeral_public = *pub;
  return out;
}

DealtShares deal(const RoundSecrets& secrets, const RoundContext& context,
                 std::uint32_t dealer_rank, std::uint32_t threshold,
                 std::span<const chain::X25519PublicKey> recipients) {
  const auto n = static_cast<std::uint32_t>(recipients.size());
  if (threshold < 2 || threshold > n || n > chain::kMaxFederatedPartners || dealer_rank >= n) {
    std::abort();
  }
  detail::ensure_sodium();
  const auto& binding = context.binding;
  auto self_shares = chain::shamir_split(secrets.self_seed, threshold, n, secrets.self_poly_key);
  auto key_shares =
      chain::shamir_split(secrets.ephemeral_secret, threshold, n, secrets.ephemeral_poly_key);

  DealtShares out;
  out.ephemeral_public = secrets.ephemeral_public;
  out.self_seed_commitment = chain::seed_commitment(binding, dealer_rank, secrets.self_seed);
  out.share_boxes.reserve(n);
  out.self_share_commitments.reserve(n);
  out.key_share_commitments.reserve(n);
  for (std::uint32_t r = 0; r < n; ++r) {
    std::uint8_t plain[kShareBoxPlain];
    std::memcpy(plain, self_shares[r].bytes.data(), 32);
    std::memcpy(plain + 32, key_shares[r].bytes.data(), 32);
    std::string box(chain::kShareBoxBytes, '\0');
    if (crypto_box_seal(reinterpret_cast<unsigned char*>(box.data()), plain, sizeof plain,
                        recipients[r].bytes.data()) != 0) {
      std::abort();  // sealing to any 32 bytes succeeds; a failure is libsodium's bug
    }
    sodium_memzero(plain, sizeof plain);
    out.share_boxes.push_back(std::move(box));
    out.self_share_commitments.push_back(chain::share_commitment(
        binding, chain::ShareKind::self_seed, dealer_rank, r, self_shares[r]));
    out.key_share_commitments.push_back(chain::share_commitment(
        binding, chain::ShareKind::ephemeral_key, dealer_rank, r, key_shares[r]));
  }
  sodium_memzero(self_shares.data(), self_shares.size() * sizeof(Hash));
  sodium_memzero(key_shares.data(), key_shares.size() * sizeof(Hash));
  return out;
}

Result<OpenedShares> open_share_box(const chain::X25519SecretKey& mine, std::string_view box,
                                    const chain::RoundBinding& binding, std::uint32_t dealer_rank,
                                    std::uint32_t my_rank, const Hash& self_share_commitment,
                                    const Hash& key_share_commitment) {
  detail::ensure_sodium();
  const std::string dealer = "the share box of the partner of rank " + std::to_string(dealer_rank);
  if (box.size() != chain::kShareBoxBytes) {
    return make_error(dealer + " is " + std::to_string(box.size()) + " bytes where " +
                          std::to_string(chain::kShareBoxBytes) +
                          " are expected; it cannot be "
                          "opened, so complain about that partner's RoundShare.",
                      static_cast<int>(ShareBoxErrc::unopenable));
  }
  std::uint8_t plain[kShareBoxPlain];
  if (crypto_box_seal_open(plain, reinterpret_cast<const unsigned char*>(box.data()), box.size(),
                           mine.public_key().bytes.data(), mine.secret().data()) != 0) {
    return make_error(dealer +
                          " does not open with this node's X25519 key: it was altered or "
                          "sealed to another key; complain about that partner's RoundShare.",
                      static_cast<int>(ShareBoxErrc::unopenable));
  }
  OpenedShares out;
  std::memcpy(out.self_share.bytes.data(), plain, 32);
  std::memcpy(out.key_share.bytes.data(), plain + 32, 32);
  sodium_memzero(plain, sizeof plain);
  if (chain::share_commitment(binding, chain::ShareKind::self_seed, dealer_rank, my_rank,
                              out.self_share) != self_share_commitment) {
    return make_error(dealer +
                          " holds a share of its self-mask seed that is not the one it "
                          "committed to for this node in this round; complain about its "
                          "RoundShare.",
                      static_cast<int>(ShareBoxErrc::self_share_mismatch));
  }
  if (chain::share_commitment(binding, chain::ShareKind::ephemeral_key, dealer_rank, my_rank,
                              out.key_share) != key_share_commitment) {
    return make_error(dealer +
                          " holds a share of its ephemeral key that is not the one it "
                          "committed to for this node in this round; complain about its "
                          "RoundShare.",
                      static_cast<int>(ShareBoxErrc::key_share_mismatch));
  }
  return out;
}

}  // namespace baton::secagg

// Secure aggregation end to end (secagg/secagg.h, PROTOCOL §21.4): partners
// derive their round secrets, deal shares in real sealed boxes, mask their
// fixed-point updates, some drop out after sharing; the survivors open the
// boxes, the secrets are rebuilt from t shares and checked against the
// commitments, and the unmasked sum must equal the plain sum bit for bit.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "chain/training.h"
#include "secagg/secagg.h"

namespace baton::secagg {
namespace {

using chain::X25519PublicKey;
using chain::X25519SecretKey;

const chain::RoundBinding kBinding{"test-chain", "run-7", 2};

X25519SecretKey long_term_key(std::uint32_t rank) {
  return X25519SecretKey::from_bytes(chain::sha256("partner key " + std::to_string(rank)).view())
      .value();
}

// One round's partners up to the uploads, with `dropped` gone after sharing.
struct Round {
  std::uint32_t n = 0, t = 0;
  std::vector<X25519SecretKey> keys;
  std::vector<std::string> names;
  std::vector<RoundSecrets> secrets;
  std::vector<DealtShares> dealt;
  std::map<std::uint32_t, Hash> sharers;  // U1: every partner shared
  std::set<std::uint32_t> dropped;
  std::vector<float> head;
  std::map<std::uint32_t, EncodedUpdate> encoded;              // U2
  std::map<std::uint32_t, std::vector<std::uint64_t>> masked;  // U2, through the object
  std::uint64_t total_weight = 0;

  bool uploaded(std::uint32_t r) const { return !dropped.contains(r); }
};

Round share_and_upload(std::uint32_t n, std::uint32_t t, std::set<std::uint32_t> dropped,
                       std::size_t size, std::uint32_t seed) {
  Round round;
  round.n = n;
  round.t = t;
  round.dropped = std::move(dropped);
  std::vector<X25519PublicKey> recipients;
  for (std::uint32_t r = 0; r < n; ++r) {
    round.keys.push_back(long_term_key(r));
    round.names.push_back("hospital-" + std::to_string(r));
    recipients.push_back(round.keys.back().public_key());
  }
  const RoundContext context{kBinding, round.names};
  for (std::uint32_t r = 0; r < n; ++r) {
    round.secrets.push_back(derive_round_secrets(round.keys[r], kBinding));
    round.dealt.push_back(deal(round.secrets[r], context, r, t, recipients));
    round.sharers[r] = round.dealt[r].ephemeral_public;
  }
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> weights(0.0f, 0.5f), steps(0.0f, 0.05f);
  for (std::size_t i = 0; i < size; ++i) round.head.push_back(weights(rng));
  for (std::uint32_t r = 0; r < n; ++r) {
    if (!round.uploaded(r)) continue;
    std::vector<float> trained = round.head;
    for (auto& v : trained) v += steps(rng);
    trained[r % size] = 1000.0f;  // one clipped value per partner
    const std::uint64_t weight = 1 + rng() % 5000;
    round.total_weight += weight;
    auto enc = encode_update(round.head, trained, weight);
    EXPECT_EQ(enc.clipped, 1u);
    auto masked = mask_update(enc.values, round.secrets[r], r, round.sharers, kBinding);
    EXPECT_TRUE(masked.ok());
    EXPECT_NE(*masked, enc.values);
    // Through the object store's bytes, as the aggregator reads it.
    const Bytes object = encode_masked_upload(*masked);
    auto back = decode_masked_upload(object, size);
    EXPECT_TRUE(back.ok());
    round.masked[r] = *back;
    round.encoded[r] = std::move(enc);
  }
  return round;
}

// The shares the partner of rank `revealer` opened from dealer `dealer`'s box.
OpenedShares opened(const Round& round, std::uint32_t dealer, std::uint32_t revealer) {
  const auto& d = round.dealt[dealer];
  auto got =
      open_share_box(round.keys[revealer], d.share_boxes[revealer], kBinding, dealer, revealer,
                     d.self_share_commitments[revealer], d.key_share_commitments[revealer]);
  EXPECT_TRUE(got.ok()) << (got.ok() ? "" : got.error().message);
  return *got;
}

// What the ledger reconstructs: for each dealer, `count` shares from the
// survivors, lowest rank first (the self-seed share if the dealer uploaded,
// else the ephemeral-key share).
struct Reconstructed {
  std::map<std::uint32_t, Hash> self_seeds;
  std::map<std::uint32_t, Hash> dropped_secrets;
  bool commitments_hold = true;
};

Reconstructed reconstruct(const Round& round, std::uint32_t count) {
  Reconstructed out;
  for (std::uint32_t dealer = 0; dealer < round.n; ++dealer) {
    std::vector<std::pair<std::uint32_t, Hash>> shares;
    for (std::uint32_t v = 0; v < round.n && shares.size() < count; ++v) {
      if (!round.uploaded(v)) continue;  // the dropped reveal nothing
      const auto s = opened(round, dealer, v);
      shares.emplace_back(v, round.uploaded(dealer) ? s.self_share : s.key_share);
    }
    const auto secret = chain::shamir_combine(shares);
    EXPECT_TRUE(secret.has_value());
    if (round.uploaded(dealer)) {
      out.commitments_hold &= chain::seed_commitment(kBinding, dealer, *secret) ==
                              round.dealt[dealer].self_seed_commitment;
      out.self_seeds[dealer] = *secret;
    } else {
      out.commitments_hold &=
          chain::x25519_public_of(*secret) == round.dealt[dealer].ephemeral_public;
      out.dropped_secrets[dealer] = *secret;
    }
  }
  return out;
}

std::vector<std::vector<std::uint64_t>> plain_updates(const Round& round) {
  std::vector<std::vector<std::uint64_t>> out;
  for (const auto& [rank, enc] : round.encoded) out.push_back(enc.values);
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(SecureAggregation, UnmaskedSumEqualsPlainSumWithDropouts) {
  constexpr std::size_t kSize = 1500;  // crosses no chunk; the PRG test covers chunks
  for (std::uint32_t n = 3; n <= 7; ++n) {
    for (std::uint32_t drops = 0; drops <= 2; ++drops) {
      if (n - drops < 2) continue;  // the sum of one update is that update
      // The default threshold floor(n/2)+1, lowered to the survivors where
      // the dropouts leave fewer (the ledger would expire such a round; the
      // arithmetic must still hold for any 2 <= t <= survivors).
      const std::uint32_t t = std::max(2u, std::min(n / 2 + 1, n - drops));
      // Drop the lowest rank and a middle one, so both mask signs are removed.
      std::set<std::uint32_t> dropped;
      if (drops >= 1) dropped.insert(0);
      if (drops >= 2) dropped.insert(n / 2);
      SCOPED_TRACE("n " + std::to_string(n) + ", t " + std::to_string(t) + ", dropped " +
                   std::to_string(drops));
      const Round round = share_and_upload(n, t, dropped, kSize, 100 * n + drops);
      const Reconstructed rec = reconstruct(round, t);
      EXPECT_TRUE(rec.commitments_hold);
      EXPECT_EQ(rec.dropped_secrets.size(), drops);

      auto sum =
          unmask_sum(round.masked, rec.self_seeds, rec.dropped_secrets, round.sharers, kBinding);
      ASSERT_TRUE(sum.ok()) << sum.error().message;
      const auto plain = plain_sum(plain_updates(round));
      EXPECT_EQ(*sum, plain);
      // The whole path to the model's values, bit for bit.
      EXPECT_TRUE(same_bits(apply_aggregate(round.head, *sum, round.total_weight),
                            apply_aggregate(round.head, plain, round.total_weight)));
      // More shares than t give the same secrets.
      const Reconstructed all = reconstruct(round, n);
      EXPECT_EQ(all.self_seeds, rec.self_seeds);
      EXPECT_EQ(all.dropped_secrets, rec.dropped_secrets);
    }
  }
}

TEST(SecureAggregation, ThresholdMinusOneSharesCannotUnmask) {
  for (std::uint32_t drops = 0; drops <= 1; ++drops) {
    std::set<std::uint32_t> dropped;
    if (drops) dropped.insert(2);
    const Round round = share_and_upload(5, 3, dropped, 800, 7 + drops);
    const Reconstructed short_of_t = reconstruct(round, 2);
    EXPECT_FALSE(short_of_t.commitments_hold);
    for (const auto& [rank, seed] : short_of_t.self_seeds) {
      EXPECT_NE(chain::seed_commitment(kBinding, rank, seed),
                round.dealt[rank].self_seed_commitment);
      EXPECT_NE(seed, round.secrets[rank].self_seed);
    }
    auto sum = unmask_sum(round.masked, short_of_t.self_seeds, short_of_t.dropped_secrets,
                          round.sharers, kBinding);
    if (drops) {
      // The wrong ephemeral secret does not give the published public key.
      ASSERT_FALSE(sum.ok());
      EXPECT_NE(sum.error().message.find("ephemeral secret"), std::string::npos);
    } else {
      ASSERT_TRUE(sum.ok());
      EXPECT_NE(*sum, plain_sum(plain_updates(round)));
    }
  }
}

TEST(SecureAggregation, RoundSecretsAreDerivedPerRound) {
  const auto key = long_term_key(0);
  const auto a = derive_round_secrets(key, kBinding);
  const auto again = derive_round_secrets(key, kBinding);
  EXPECT_EQ(a.self_seed, again.self_seed);
  EXPECT_EQ(a.ephemeral_secret, again.ephemeral_secret);
  EXPECT_EQ(chain::x25519_public_of(a.ephemeral_secret), a.ephemeral_public);
  const auto next = derive_round_secrets(key, {kBinding.chain_id, kBinding.run_id, 3});
  EXPECT_NE(a.self_seed, next.self_seed);
  EXPECT_NE(a.ephemeral_secret, next.ephemeral_secret);
  const auto other = derive_round_secrets(long_term_key(1), kBinding);
  EXPECT_NE(a.self_seed, other.self_seed);
  // The layout of PROTOCOL §21.4: k, then "b" || k.
  Bytes pre;
  const std::string domain = "baton/secagg/round-key/v1";
  pre.insert(pre.end(), domain.begin(), domain.end());
  pre.insert(pre.end(), key.secret().begin(), key.secret().end());
  const Bytes bound = chain::binding_bytes(kBinding);
  pre.insert(pre.end(), bound.begin(), bound.end());
  const Hash k = chain::sha256(pre);
  Bytes b = {'b'};
  b.insert(b.end(), k.bytes.begin(), k.bytes.end());
  EXPECT_EQ(a.self_seed, chain::sha256(b));
}

TEST(SecureAggregation, DealtSharesAreTheCommittedOnes) {
  const Round round = share_and_upload(4, 3, {}, 10, 1);
  for (std::uint32_t dealer = 0; dealer < 4; ++dealer) {
    const auto& d = round.dealt[dealer];
    ASSERT_EQ(d.share_boxes.size(), 4u);
    ASSERT_EQ(d.self_share_commitments.size(), 4u);
    ASSERT_EQ(d.key_share_commitments.size(), 4u);
    EXPECT_EQ(d.self_seed_commitment,
              chain::seed_commitment(kBinding, dealer, round.secrets[dealer].self_seed));
    const auto self_shares = chain::shamir_split(round.secrets[dealer].self_seed, 3, 4,
                                                 round.secrets[dealer].self_poly_key);
    for (std::uint32_t v = 0; v < 4; ++v) {
      EXPECT_EQ(d.share_boxes[v].size(), chain::kShareBoxBytes);
      EXPECT_EQ(opened(round, dealer, v).self_share, self_shares[v]);
    }
  }
}

// Tampering with a box, a commitment, or opening another's box is refused.
TEST(SecureAggregation, ShareBoxRefusesTamperingAndOtherKeys) {
  const Round round = share_and_upload(3, 2, {}, 10, 2);
  const auto& d = round.dealt[1];
  const auto open = [&](std::uint32_t me, const std::string& box, const Hash& self_c,
                        const Hash& key_c) {
    return open_share_box(round.keys[me], box, kBinding, 1, me, self_c, key_c);
  };
  ASSERT_TRUE(open(2, d.share_boxes[2], d.self_share_commitments[2], d.key_share_commitments[2]));
  for (std::size_t byte : {0ul, 31ul, 32ul, 60ul, 111ul}) {
    std::string box = d.share_boxes[2];
    box[byte] ^= 0x01;
    auto got = open(2, box, d.self_share_commitments[2], d.key_share_commitments[2]);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, static_cast<int>(ShareBoxErrc::unopenable));
  }
  for (const std::string box :
       {d.share_boxes[2].substr(0, 111), d.share_boxes[2] + "x", std::string()}) {
    auto got = open(2, box, d.self_share_commitments[2], d.key_share_commitments[2]);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, static_cast<int>(ShareBoxErrc::unopenable));
  }
  // Another recipient's box, with that recipient's commitments.
  auto theirs = open(2, d.share_boxes[0], d.self_share_commitments[0], d.key_share_commitments[0]);
  ASSERT_FALSE(theirs.ok());
  EXPECT_EQ(theirs.error().code, static_cast<int>(ShareBoxErrc::unopenable));
  // A commitment that is not the share's (tampered, or another recipient's).
  Hash bad = d.self_share_commitments[2];
  bad.bytes[5] ^= 0x80;
  auto self_wrong = open(2, d.share_boxes[2], bad, d.key_share_commitments[2]);
  ASSERT_FALSE(self_wrong.ok());
  EXPECT_EQ(self_wrong.error().code, static_cast<int>(ShareBoxErrc::self_share_mismatch));
  auto key_wrong =
      open(2, d.share_boxes[2], d.self_share_commitments[2], d.key_share_commitments[0]);
  ASSERT_FALSE(key_wrong.ok());
  EXPECT_EQ(key_wrong.error().code, static_cast<int>(ShareBoxErrc::key_share_mismatch));
  // The right box and commitments under another round's binding.
  auto replayed = open_share_box(round.keys[2], d.share_boxes[2], {"test-chain", "run-7", 3}, 1, 2,
                                 d.self_share_commitments[2], d.key_share_commitments[2]);
  EXPECT_FALSE(replayed.ok());
}

TEST(SecureAggregation, PairSeedsAgreeAndRefuseLowOrderPoints) {
  const auto a = derive_round_secrets(long_term_key(0), kBinding);
  const auto b = derive_round_secrets(long_term_key(1), kBinding);
  auto ab = pair_seed(a.ephemeral_secret, b.ephemeral_public, kBinding, 0, 1);
  auto ba = pair_seed(b.ephemeral_secret, a.ephemeral_public, kBinding, 1, 0);
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_EQ(*ab, *ba);
  EXPECT_NE(*ab,
            *pair_seed(a.ephemeral_secret, b.ephemeral_public, {"test-chain", "run-7", 9}, 0, 1));
  // Points of small order (libsodium's list): X25519 with them is all-zero,
  // a pair mask everyone could compute.
  for (const char* hex : {"0000000000000000000000000000000000000000000000000000000000000000",
                          "0100000000000000000000000000000000000000000000000000000000000000",
                          "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
                          "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
                          "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"}) {
    const auto low = Hash::from_hex(hex).value();
    auto seed = pair_seed(a.ephemeral_secret, low, kBinding, 0, 1);
    ASSERT_FALSE(seed.ok()) << hex;
    EXPECT_NE(seed.error().message.find("low-order"), std::string::npos);
    // And a masked upload against such a sharer is refused, not made.
    std::map<std::uint32_t, Hash> sharers = {{0, a.ephemeral_public}, {1, low}};
    EXPECT_FALSE(mask_update(std::vector<std::uint64_t>(4, 0), a, 0, sharers, kBinding).ok());
  }
}

TEST(SecureAggregation, MaskUpdateRefusesSharersWithoutMe) {
  const auto a = derive_round_secrets(long_term_key(0), kBinding);
  const auto b = derive_round_secrets(long_term_key(1), kBinding);
  const std::vector<std::uint64_t> q(8, 1);
  EXPECT_FALSE(mask_update(q, a, 0, {{1, b.ephemeral_public}}, kBinding).ok());
  EXPECT_FALSE(
      mask_update(q, a, 0, {{0, b.ephemeral_public}, {1, b.ephemeral_public}}, kBinding).ok());
}

TEST(SecureAggregation, UnmaskSumRefusesInputsThatDisagree) {
  const Round round = share_and_upload(4, 3, {3}, 16, 3);
  const Reconstructed rec = reconstruct(round, 3);
  ASSERT_TRUE(
      unmask_sum(round.masked, rec.self_seeds, rec.dropped_secrets, round.sharers, kBinding).ok());
  auto seeds = rec.self_seeds;
  seeds.erase(1);
  EXPECT_FALSE(unmask_sum(round.masked, seeds, rec.dropped_secrets, round.sharers, kBinding).ok());
  seeds = rec.self_seeds;
  seeds[3] = Hash{};  // a seed for the dropped partner
  EXPECT_FALSE(unmask_sum(round.masked, seeds, rec.dropped_secrets, round.sharers, kBinding).ok());
  EXPECT_FALSE(unmask_sum(round.masked, rec.self_seeds, {}, round.sharers, kBinding).ok());
  auto secrets = rec.dropped_secrets;
  secrets[0] = round.secrets[0].ephemeral_secret;  // 0 uploaded
  EXPECT_FALSE(unmask_sum(round.masked, rec.self_seeds, secrets, round.sharers, kBinding).ok());
  auto masked = round.masked;
  masked[2].push_back(0);
  EXPECT_FALSE(
      unmask_sum(masked, rec.self_seeds, rec.dropped_secrets, round.sharers, kBinding).ok());
  EXPECT_FALSE(unmask_sum({}, {}, {}, round.sharers, kBinding).ok());
  auto sharers = round.sharers;
  sharers.erase(2);
  EXPECT_FALSE(
      unmask_sum(round.masked, rec.self_seeds, rec.dropped_secrets, sharers, kBinding).ok());
}

// The PRG is the ChaCha20 (IETF) keystream read as LE u64: RFC 8439 A.1
// vectors 1 and 2 (zero key, zero nonce, blocks 0 and 1), and words across
// add_mask's internal chunks (expected values from Python's `cryptography`).
TEST(SecaggMask, IsTheChaCha20Keystream) {
  std::vector<std::uint64_t> words(16, 0);
  add_mask(words, Hash{}, +1);
  EXPECT_EQ(words[0], 0x903df1a0ade0b876ull);  // 76 b8 e0 ad a0 f1 3d 90
  EXPECT_EQ(words[8], 0x7a385155bee7079full);  // 9f 07 e7 be 55 51 38 7a
  const Hash seed = chain::sha256(std::string_view("baton secagg test seed"));
  std::vector<std::uint64_t> long_words(12346, 0);
  add_mask(long_words, seed, +1);
  EXPECT_EQ(long_words[0], 0x67e7b6c56d8ea35bull);
  EXPECT_EQ(long_words[4095], 0x3b18540ed6b9c95dull);
  EXPECT_EQ(long_words[4096], 0x41aa23b3449e280full);
  EXPECT_EQ(long_words[8191], 0xcf2cb2d069d3c11bull);
  EXPECT_EQ(long_words[8192], 0x193909f70fa20d8aull);
  EXPECT_EQ(long_words[12345], 0xf491dc81299b7447ull);
  // Subtracting is adding the negation, mod 2^64.
  std::vector<std::uint64_t> v = {1, 2, 3, 0xFFFFFFFFFFFFFFFFull};
  const auto original = v;
  add_mask(v, seed, +1);
  EXPECT_NE(v, original);
  add_mask(v, seed, -1);
  EXPECT_EQ(v, original);
}

}  // namespace
}  // namespace baton::secagg

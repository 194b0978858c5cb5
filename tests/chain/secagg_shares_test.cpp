// Shamir's secret sharing over GF(2^8) and the round commitments
// (chain/secagg_shares.h, PROTOCOL §21.4).
#include "chain/secagg_shares.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace baton::chain {
namespace {

// GF(2^8) multiplication written the textbook way (FIPS-197 §4.2: xtime and
// add), independent of the library's constant-time version.
std::uint8_t reference_mul(std::uint8_t a, std::uint8_t b) {
  std::uint8_t p = 0;
  while (b) {
    if (b & 1) p ^= a;
    a = static_cast<std::uint8_t>((a & 0x80) ? (a << 1) ^ 0x1b : a << 1);
    b >>= 1;
  }
  return p;
}

Hash hash_of(std::string_view text) { return sha256(text); }

std::vector<std::pair<std::uint32_t, Hash>> pick(const std::vector<Hash>& shares,
                                                 const std::vector<std::uint32_t>& ranks) {
  std::vector<std::pair<std::uint32_t, Hash>> out;
  for (auto r : ranks) out.emplace_back(r, shares[r]);
  return out;
}

// Every subset of {0..n-1} of size k, in lexicographic order.
std::vector<std::vector<std::uint32_t>> subsets(std::uint32_t n, std::uint32_t k) {
  std::vector<std::vector<std::uint32_t>> out;
  std::vector<bool> mask(n, false);
  std::fill(mask.begin(), mask.begin() + k, true);
  do {
    std::vector<std::uint32_t> s;
    for (std::uint32_t i = 0; i < n; ++i)
      if (mask[i]) s.push_back(i);
    out.push_back(s);
  } while (std::prev_permutation(mask.begin(), mask.end()));
  return out;
}

TEST(SecaggGf256, ReferenceMultiplicationMatchesFips197) {
  EXPECT_EQ(reference_mul(0x57, 0x83), 0xc1);  // FIPS-197 §4.2
  EXPECT_EQ(reference_mul(0x57, 0x13), 0xfe);  // FIPS-197 §4.2.1
}

// With t = 2 the share of rank r is secret + c·(r+1) byte by byte, c the
// first derived coefficient: this pins the derivation and the field.
TEST(Shamir, SharesAreThePolynomialOfTheDerivedCoefficients) {
  const Hash secret = hash_of("secret");
  const Hash key = hash_of("coefficient key");
  std::string preimage = "baton/secagg/shamir/v1";
  preimage.append(reinterpret_cast<const char*>(key.bytes.data()), 32);
  preimage.append(std::string("\x01\x00\x00\x00", 4));
  const Hash c1 = sha256(preimage);
  const auto shares = shamir_split(secret, 2, 255, key);
  ASSERT_EQ(shares.size(), 255u);
  for (std::uint32_t r = 0; r < 255; ++r) {
    for (int k = 0; k < 32; ++k) {
      const auto want = static_cast<std::uint8_t>(
          secret.bytes[k] ^ reference_mul(c1.bytes[k], static_cast<std::uint8_t>(r + 1)));
      ASSERT_EQ(shares[r].bytes[k], want) << "rank " << r << " byte " << k;
    }
  }
}

TEST(Shamir, AnyThresholdOfSharesGivesTheSecret) {
  const Hash secret = hash_of("b_u");
  for (std::uint32_t n = 2; n <= 7; ++n) {
    for (std::uint32_t t = 1; t <= n; ++t) {
      const auto shares = shamir_split(secret, t, n, hash_of("key" + std::to_string(n * 10 + t)));
      for (std::uint32_t k = t; k <= n; ++k) {
        for (const auto& ranks : subsets(n, k)) {
          const auto got = shamir_combine(pick(shares, ranks));
          ASSERT_TRUE(got.has_value());
          EXPECT_EQ(*got, secret) << "n " << n << " t " << t << " using " << k << " shares";
        }
      }
    }
  }
  // The order of the shares does not matter, and ranks up to 254 work.
  const auto shares = shamir_split(secret, 3, 255, hash_of("big"));
  EXPECT_EQ(shamir_combine(pick(shares, {254, 7, 100})), secret);
}

// t-1 shares give a value unrelated to the secret, and the dealer's seed
// commitment catches it. Information-theoretically, any t-1 shares are
// consistent with every secret: a t-th share can be chosen to make any secret
// come out, so the t-1 shares say nothing about which one it is.
TEST(Shamir, FewerThanThresholdSharesRevealNothing) {
  const RoundBinding binding{"chain", "run", 3};
  const Hash secret = hash_of("self-mask seed");
  const Hash commitment = seed_commitment(binding, 1, secret);
  const std::uint32_t n = 5, t = 3;
  const auto shares = shamir_split(secret, t, n, hash_of("poly"));
  for (const auto& ranks : subsets(n, t - 1)) {
    const auto got = shamir_combine(pick(shares, ranks));
    ASSERT_TRUE(got.has_value());
    EXPECT_NE(*got, secret);
    EXPECT_NE(seed_commitment(binding, 1, *got), commitment);
  }
  // Two different secrets dealt with different coefficients can share the
  // same t-1 shares: take shares 0 and 1 of `secret`, and build a sharing of
  // `other` through them by choosing its third point.
  const Hash other = hash_of("another seed");
  for (std::uint32_t x3 = 2; x3 < 5; ++x3) {
    // The degree-2 polynomial that is `other` at x = 0 and passes through
    // the shares of ranks 0 and 1 has some value y at rank x3: combine((0,s0),(1,s1),(x3,y)) =
    // other is linear in y, so find y byte by byte among the 256 values.
    Hash y;
    for (int k = 0; k < 32; ++k) {
      bool found = false;
      for (int v = 0; v < 256 && !found; ++v) {
        Hash candidate = y;
        candidate.bytes[k] = static_cast<std::uint8_t>(v);
        std::vector<std::pair<std::uint32_t, Hash>> three = {
            {0, shares[0]}, {1, shares[1]}, {x3, candidate}};
        const auto s = shamir_combine(three);
        if (s && s->bytes[k] == other.bytes[k]) {
          y = candidate;
          found = true;
        }
      }
      ASSERT_TRUE(found);
    }
    std::vector<std::pair<std::uint32_t, Hash>> three = {{0, shares[0]}, {1, shares[1]}, {x3, y}};
    EXPECT_EQ(shamir_combine(three), other);
  }
}

TEST(Shamir, RefusesDuplicateOrOutOfRangeRanksAndNoShares) {
  const auto shares = shamir_split(hash_of("s"), 2, 4, hash_of("k"));
  std::vector<std::pair<std::uint32_t, Hash>> dup = {{1, shares[1]}, {1, shares[1]}};
  EXPECT_FALSE(shamir_combine(dup).has_value());
  std::vector<std::pair<std::uint32_t, Hash>> dup_other = {{1, shares[1]}, {1, shares[2]}};
  EXPECT_FALSE(shamir_combine(dup_other).has_value());
  std::vector<std::pair<std::uint32_t, Hash>> far = {{0, shares[0]}, {255, shares[1]}};
  EXPECT_FALSE(shamir_combine(far).has_value());
  std::vector<std::pair<std::uint32_t, Hash>> huge = {{0, shares[0]}, {0xFFFFFFFFu, shares[1]}};
  EXPECT_FALSE(shamir_combine(huge).has_value());
  EXPECT_FALSE(shamir_combine({}).has_value());
}

TEST(Shamir, DealingIsDeterministicAndKeyed) {
  const Hash secret = hash_of("s");
  EXPECT_EQ(shamir_split(secret, 3, 6, hash_of("k")), shamir_split(secret, 3, 6, hash_of("k")));
  const auto a = shamir_split(secret, 3, 6, hash_of("k"));
  const auto b = shamir_split(secret, 3, 6, hash_of("k2"));
  for (std::size_t r = 0; r < a.size(); ++r) EXPECT_NE(a[r], b[r]);
  // t = 1 is the secret itself at every rank (no coefficient).
  for (const auto& s : shamir_split(secret, 1, 3, hash_of("k"))) EXPECT_EQ(s, secret);
}

TEST(SecaggCommitments, BindTheChainRunRoundKindAndRanks) {
  const RoundBinding binding{"chain-a", "run-1", 4};
  const Hash share = hash_of("share");
  const Hash c = share_commitment(binding, ShareKind::self_seed, 1, 2, share);
  // The layout of PROTOCOL §21.4, recomputed by hand.
  std::string pre = "baton/secagg/share/v1";
  pre += std::string("\x07\x00\x00\x00", 4) + "chain-a" + std::string("\x05\x00\x00\x00", 4) +
         "run-1" + std::string("\x04\x00\x00\x00\x00\x00\x00\x00", 8);
  pre += std::string("\x01", 1) + std::string("\x01\x00\x00\x00", 4) +
         std::string("\x02\x00\x00\x00", 4);
  pre.append(reinterpret_cast<const char*>(share.bytes.data()), 32);
  EXPECT_EQ(c, sha256(pre));
  EXPECT_EQ(to_hex(binding_bytes(binding)),
            "07000000636861696e2d610500000072756e2d310400000000000000");

  EXPECT_NE(c, share_commitment({"chain-b", "run-1", 4}, ShareKind::self_seed, 1, 2, share));
  EXPECT_NE(c, share_commitment({"chain-a", "run-2", 4}, ShareKind::self_seed, 1, 2, share));
  EXPECT_NE(c, share_commitment({"chain-a", "run-1", 5}, ShareKind::self_seed, 1, 2, share));
  EXPECT_NE(c, share_commitment(binding, ShareKind::ephemeral_key, 1, 2, share));
  EXPECT_NE(c, share_commitment(binding, ShareKind::self_seed, 2, 1, share));
  // Length prefixes keep ("ab","c") and ("a","bc") apart.
  EXPECT_NE(seed_commitment({"ab", "c", 0}, 0, share), seed_commitment({"a", "bc", 0}, 0, share));

  std::string seed_pre = "baton/secagg/seed/v1";
  const Bytes bound = binding_bytes(binding);
  seed_pre.append(bound.begin(), bound.end());
  seed_pre += std::string("\x03\x00\x00\x00", 4);
  seed_pre.append(reinterpret_cast<const char*>(share.bytes.data()), 32);
  EXPECT_EQ(seed_commitment(binding, 3, share), sha256(seed_pre));
}

// RFC 7748 §6.1: Alice's private key and public key.
TEST(SecaggX25519, PublicOfMatchesRfc7748) {
  const auto secret =
      Hash::from_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a").value();
  const auto pub = x25519_public_of(secret);
  ASSERT_TRUE(pub.has_value());
  EXPECT_EQ(pub->hex(), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
}

}  // namespace
}  // namespace baton::chain

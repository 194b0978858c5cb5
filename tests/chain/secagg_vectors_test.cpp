// The worked example of docs/PROTOCOL.md §21.4.10, pinned: every value here
// was computed by tests/chain/secagg_vectors.py, an independent
// implementation of the §21.4 text (hashlib, python3-cryptography), so this
// test fails when the code and the specification part ways.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "secagg/secagg.h"

namespace baton::secagg {
namespace {

const chain::RoundBinding kBinding{"demo-chain", "demo", 0};

RoundSecrets secrets_of(std::uint8_t fill) {
  const std::vector<std::uint8_t> bytes(32, fill);
  return derive_round_secrets(chain::X25519SecretKey::from_bytes(bytes).value(), kBinding);
}

std::string hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

TEST(SecaggVectors, WorkedExampleOfProtocolSection21_4) {
  EXPECT_EQ(chain::to_hex(chain::binding_bytes(kBinding)),
            "0a00000064656d6f2d636861696e0400000064656d6f0000000000000000");
  const auto s0 = secrets_of(0x01), s1 = secrets_of(0x02), s2 = secrets_of(0x03);
  EXPECT_EQ(s0.self_seed.hex(), "4e347570459c4ed96bc0ef4787ea4ad60f4d7f7d1db4ce358a47b5f091424508");
  EXPECT_EQ(s0.ephemeral_secret.hex(),
            "3bc075be1e452d124b9499fba4ffdc37d871bfc5b0cae604dffe1efcd8e83244");
  EXPECT_EQ(s0.ephemeral_public.hex(),
            "18649f88c6649a6e21d6760fdf27db0a510f3b4105e871fc014ff6f2d27a2545");
  EXPECT_EQ(s1.ephemeral_public.hex(),
            "ecef1ed3cabfa77c7dc2fa8ae27ab5141cf4992d06433f61450e81fbc668f15e");
  EXPECT_EQ(s2.ephemeral_public.hex(),
            "0b19778a9117d589f90d186abfa0fcd2e8328d2430263b4dc5764117b243570f");

  const auto shares = chain::shamir_split(s0.self_seed, 2, 3, s0.self_poly_key);
  EXPECT_EQ(shares[0].hex(), "e8673f0a9c634721dfbff023d3eded4ad176988e171c6fc6e193808dfe6bb296");
  EXPECT_EQ(shares[1].hex(), "1992e184ec795c32183ed18f2fe41ff5a83baa8009ff97c85cf4df0a4f10b02f");
  EXPECT_EQ(shares[2].hex(), "bfc1abfe358655caac41ceeb7be3b86976004d730357363b3720ea77203947b1");
  const std::vector<std::pair<std::uint32_t, Hash>> two = {{1, shares[1]}, {2, shares[2]}};
  EXPECT_EQ(chain::shamir_combine(two), s0.self_seed);
  EXPECT_EQ(chain::share_commitment(kBinding, chain::ShareKind::self_seed, 0, 1, shares[1]).hex(),
            "59f2f704746633b81b938a93ebf33a8cef6e4c0edb1548fa7659bb36a2ed6c89");
  EXPECT_EQ(chain::seed_commitment(kBinding, 0, s0.self_seed).hex(),
            "53a028e699701744bc68c30274eb0c3c1eb66a4c555196caf1922dc523325fd2");

  EXPECT_EQ(pair_seed(s0.ephemeral_secret, s1.ephemeral_public, kBinding, 0, 1)->hex(),
            "24e28d4cc77072ddb7ca504a60d8946052a9b2026ad3eb0211ec6d7d560455c8");
  EXPECT_EQ(pair_seed(s2.ephemeral_secret, s0.ephemeral_public, kBinding, 2, 0)->hex(),
            "fb4f41d7ccb381f0cdca8e9b28b31d6a913968ef5c7165ffdaa26b72170bdbf3");

  const std::vector<float> head = {0.25f, -1.0f}, trained = {0.375f, -1.5f};
  const auto q = encode_update(head, trained, 100).values;
  EXPECT_EQ(hex(q[0]), "000000000c800000");
  EXPECT_EQ(hex(q[1]), "ffffffffce000000");
  std::vector<std::uint64_t> prg(2, 0);
  add_mask(prg, s0.self_seed, +1);
  EXPECT_EQ(hex(prg[0]), "c0115cdd44652608");
  EXPECT_EQ(hex(prg[1]), "ca4f16e9bf066b42");
  const std::map<std::uint32_t, Hash> sharers = {
      {0, s0.ephemeral_public}, {1, s1.ephemeral_public}, {2, s2.ephemeral_public}};
  const auto y = mask_update(q, s0, 0, sharers, kBinding).value();
  EXPECT_EQ(hex(y[0]), "0f382b63017e1cf8");
  EXPECT_EQ(hex(y[1]), "5791821f3b8f3007");
  EXPECT_EQ(chain::to_hex(encode_masked_upload(y)),
            "4241544f4e4d534b010000000200000000000000f81c7e01632b380f07308f3b1f829157");
}

}  // namespace
}  // namespace baton::secagg

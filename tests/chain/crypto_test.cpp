#include "chain/crypto.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chain/keys.h"
#include "tests/support/test_support.h"

namespace baton::chain {
namespace {

// FIPS 180-2 appendix B.1: SHA-256("abc").
TEST(Sha256, MatchesFipsExampleAbc) {
  EXPECT_EQ(sha256(std::string_view("abc")).hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, StreamEqualsOneShot) {
  Sha256Stream s;
  s.update(as_bytes("a"));
  s.update(as_bytes("bc"));
  EXPECT_EQ(s.finish(), sha256(std::string_view("abc")));
}

// RFC 8032 section 7.1, TEST 1 (empty message).
TEST(Ed25519, MatchesRfc8032Test1) {
  auto seed = from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").value();
  auto key = SigningKey::from_seed(seed).value();
  EXPECT_EQ(key.public_key().hex(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  auto sig = key.sign({});
  EXPECT_EQ(sig.hex(),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(verify_signature(key.public_key(), {}, sig));
}

TEST(Ed25519, RejectsOtherDomain) {
  auto key = SigningKey::generate();
  auto a = domain_separated("baton/tx/v1", "chain-a", as_bytes("x"));
  auto b = domain_separated("baton/tx/v1", "chain-b", as_bytes("x"));
  auto sig = key.sign(a);
  EXPECT_TRUE(verify_signature(key.public_key(), a, sig));
  EXPECT_FALSE(verify_signature(key.public_key(), b, sig));
}

TEST(Ed25519, RejectsSameChainIdUnderAnotherGenesis) {
  auto key = SigningKey::generate();
  const NetworkId g{"chain-a", sha256(std::string_view("genesis G"))};
  const NetworkId g2{"chain-a", sha256(std::string_view("genesis G'"))};
  auto a = network_separated("baton/tx/v2", g, as_bytes("x"));
  auto sig = key.sign(a);
  EXPECT_TRUE(verify_signature(key.public_key(), a, sig));
  EXPECT_FALSE(
      verify_signature(key.public_key(), network_separated("baton/tx/v2", g2, as_bytes("x")), sig));
  // The layout: domain_separated with the genesis hash in front of the body.
  Bytes body(g.genesis_hash.bytes.begin(), g.genesis_hash.bytes.end());
  body.push_back('x');
  EXPECT_EQ(a, domain_separated("baton/tx/v2", "chain-a", body));
}

TEST(Hex, RefusesOddAndNonHex) {
  EXPECT_FALSE(from_hex("abc").ok());
  EXPECT_FALSE(from_hex("zz").ok());
  EXPECT_EQ(from_hex("00FF").value(), (Bytes{0x00, 0xff}));
}

TEST(SecretMemory, KeysLiveInLockedPagesLeftOutOfCoreDumps) {
  const auto keys = generate_member_keys("hospital-a");
  std::string why;
  EXPECT_TRUE(baton::testing::in_secret_memory(keys.signing.seed().data(), &why)) << why;
  EXPECT_TRUE(baton::testing::in_secret_memory(keys.x25519.secret().data(), &why)) << why;
  // A copy is a locked allocation of its own, equal in value.
  const SigningKey copy = keys.signing;
  EXPECT_NE(copy.seed().data(), keys.signing.seed().data());
  EXPECT_TRUE(std::equal(copy.seed().begin(), copy.seed().end(), keys.signing.seed().begin()));
  EXPECT_TRUE(baton::testing::in_secret_memory(copy.seed().data(), &why)) << why;
  // The heap is not such memory: the check can fail.
  const std::vector<std::uint8_t> ordinary(64, 1);
  EXPECT_FALSE(baton::testing::in_secret_memory(ordinary.data()));
}

TEST(SecretMemory, SecretBytesCopiesCompareAndStayApart) {
  SecretBytes<32> a;
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<std::uint8_t>(i);
  SecretBytes<32> b = a;
  EXPECT_TRUE(a == b);
  b.data()[31] ^= 1;
  EXPECT_FALSE(a == b);
  EXPECT_EQ(a.data()[31], 31);
}

TEST(KeyFiles, SecretFileTextIsTheDocumentedJson) {
  // encode_secret_keys writes the text by hand (no stray copies of the
  // secret); it must stay what PROTOCOL.md §3 shows and nlohmann writes.
  auto keys = generate_member_keys("hospital-a");
  const nlohmann::json j = {{"format", "baton-key-v1"},
                            {"name", "hospital-a"},
                            {"ed25519_seed", to_hex(keys.signing.seed())},
                            {"x25519_secret", to_hex(keys.x25519.secret())}};
  EXPECT_EQ(encode_secret_keys(keys), j.dump(2) + "\n");
}

TEST(KeyFiles, SecretAndPublicRoundTrip) {
  auto keys = generate_member_keys("hospital-a");
  auto parsed = parse_secret_keys(encode_secret_keys(keys)).value();
  EXPECT_EQ(parsed.signing.public_key(), keys.signing.public_key());
  EXPECT_EQ(parsed.x25519.public_key(), keys.x25519.public_key());
  auto pub = parse_public_keys(encode_public_keys(keys.public_keys("10.0.0.1:26656"))).value();
  EXPECT_EQ(pub.name, "hospital-a");
  EXPECT_EQ(pub.ed25519, keys.signing.public_key());
  EXPECT_EQ(pub.p2p_address, "10.0.0.1:26656");
}

TEST(KeyFiles, RefusesBadInput) {
  EXPECT_FALSE(parse_secret_keys("not json").ok());
  EXPECT_FALSE(parse_public_keys("{\"name\":\"a\"}").ok());
  EXPECT_FALSE(
      parse_public_keys("{\"name\":\"a\",\"ed25519_public\":\"00\",\"x25519_public\":\"00\"}")
          .ok());
  EXPECT_FALSE(validate_member_name("bad name").ok());
}

}  // namespace
}  // namespace baton::chain

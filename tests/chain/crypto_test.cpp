#include "chain/crypto.h"

#include <gtest/gtest.h>

#include "chain/keys.h"

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

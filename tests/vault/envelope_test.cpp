// Key envelopes: wrapping for members, unwrapping with a member's secret key,
// and refusing corrupted envelopes and non-recipients.
#include <gtest/gtest.h>

#include "chain/keys.h"
#include "storage/envelope.h"

namespace baton::storage {
namespace {

VaultErrc code_of(const Error& e) { return static_cast<VaultErrc>(e.code); }

struct Members {
  chain::MemberSecretKeys alice = chain::generate_member_keys("alice");
  chain::MemberSecretKeys bob = chain::generate_member_keys("bob");
  chain::MemberSecretKeys carol = chain::generate_member_keys("carol");
};

TEST(Envelope, EveryRecipientUnwrapsTheSameKey) {
  Members m;
  const auto key = DataKey::generate();
  auto env = make_envelope(key, {m.alice.public_keys(), m.bob.public_keys()});
  ASSERT_TRUE(env.ok());
  for (const auto* who : {&m.alice, &m.bob}) {
    auto k = unwrap(*env, who->x25519);
    ASSERT_TRUE(k.ok()) << k.error().message;
    EXPECT_TRUE(std::equal(k->bytes().begin(), k->bytes().end(), key.bytes().begin()));
  }
}

TEST(Envelope, NonRecipientIsRefusedByName) {
  Members m;
  auto env = make_envelope(DataKey::generate(), {m.alice.public_keys()});
  ASSERT_TRUE(env.ok());
  auto k = unwrap(*env, m.carol.x25519);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(code_of(k.error()), VaultErrc::not_recipient);
}

TEST(Envelope, EncodeParseRoundTrip) {
  Members m;
  const auto key = DataKey::generate();
  auto env = make_envelope(key, {m.alice.public_keys(), m.bob.public_keys()});
  ASSERT_TRUE(env.ok());
  env->blob_size = 1234;
  env->blob_sha256 = chain::sha256("blob");
  const std::string text = encode_envelope(*env);
  auto back = parse_envelope(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(encode_envelope(*back), text);
  EXPECT_TRUE(unwrap(*back, m.bob.x25519).ok());
}

TEST(Envelope, CorruptedWrappedKeyIsRefused) {
  Members m;
  auto env = make_envelope(DataKey::generate(), {m.alice.public_keys()});
  ASSERT_TRUE(env.ok());
  for (std::size_t i = 0; i < kWrappedKeySize; ++i) {
    Envelope bad = *env;
    bad.recipients[0].sealed[i] ^= 0x01;
    auto k = unwrap(bad, m.alice.x25519);
    ASSERT_FALSE(k.ok()) << "byte " << i;
    EXPECT_EQ(code_of(k.error()), VaultErrc::bad_envelope);
  }
}

TEST(Envelope, KeyThatDoesNotMatchTheCommitmentIsRefused) {
  Members m;
  auto env = make_envelope(DataKey::generate(), {m.alice.public_keys()});
  ASSERT_TRUE(env.ok());
  // A well-formed wrap of a different key (anyone can make one: sealed boxes
  // are anonymous) is caught by the commitment.
  env->recipients[0] = wrap_key_for(DataKey::generate(), "alice", m.alice.x25519.public_key());
  auto k = unwrap(*env, m.alice.x25519);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(code_of(k.error()), VaultErrc::bad_envelope);
}

TEST(Envelope, RefusesDuplicateRecipients) {
  Members m;
  auto env = make_envelope(DataKey::generate(), {m.alice.public_keys(), m.alice.public_keys()});
  EXPECT_FALSE(env.ok());
  EXPECT_FALSE(make_envelope(DataKey::generate(), {}).ok());
}

TEST(EnvelopeParse, RefusesMalformedText) {
  Members m;
  auto env = make_envelope(DataKey::generate(), {m.alice.public_keys()});
  ASSERT_TRUE(env.ok());
  const std::string good = encode_envelope(*env);
  const std::vector<std::string> bad = {
      "", "not json", "[]", R"({"format":"baton-envelope-v2"})", good.substr(0, good.size() / 2),
  };
  for (const auto& text : bad) {
    auto p = parse_envelope(text);
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_EQ(code_of(p.error()), VaultErrc::bad_envelope);
  }
  // Every hex digit of the commitment and wrapped key replaced by a non-hex
  // character fails to parse.
  std::string nonhex = good;
  const auto at = nonhex.find("\"wrapped_key\": \"") + 16;
  nonhex[at] = 'z';
  EXPECT_FALSE(parse_envelope(nonhex).ok());
}

}  // namespace
}  // namespace baton::storage

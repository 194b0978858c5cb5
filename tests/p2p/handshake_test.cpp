// The handshake state machine between two in-memory peers: no sockets.
#include <gtest/gtest.h>

#include "p2p/handshake.h"
#include "tests/support/test_support.h"

namespace baton::p2p {
namespace {

using chain::SigningKey;
using chain::X25519SecretKey;

struct Peers {
  SigningKey alice = SigningKey::generate();
  SigningKey bob = SigningKey::generate();
  chain::Hash genesis = chain::sha256(std::string_view("genesis"));

  HandshakeOptions options() const {
    HandshakeOptions o;
    o.chain_id = "hospitals";
    o.genesis_hash = genesis;
    o.members = {alice.public_key(), bob.public_key()};
    return o;
  }
};

// Runs both sides to the end; returns each side's final step.
std::pair<HandshakeStep, HandshakeStep> run(Handshake& a, Handshake& b) {
  HandshakeStep a1 = a.on_message(b.hello());
  HandshakeStep b1 = b.on_message(a.hello());
  if (a1.refused || b1.refused) return {a1, b1};
  HandshakeStep a2 = a.on_message(*b1.send);
  HandshakeStep b2 = b.on_message(*a1.send);
  return {a2, b2};
}

TEST(Handshake, BothSidesAgreeOnIdentitiesAndMirroredKeys) {
  Peers s;
  Handshake a(s.alice, X25519SecretKey::generate(), HandshakeRole::initiator, s.options());
  Handshake b(s.bob, X25519SecretKey::generate(), HandshakeRole::responder, s.options());
  auto [ra, rb] = run(a, b);
  ASSERT_TRUE(ra.done) << ra.detail;
  ASSERT_TRUE(rb.done) << rb.detail;
  EXPECT_EQ(ra.done->peer, s.bob.public_key());
  EXPECT_EQ(rb.done->peer, s.alice.public_key());
  EXPECT_EQ(ra.done->keys.send, rb.done->keys.receive);
  EXPECT_EQ(ra.done->keys.receive, rb.done->keys.send);
  EXPECT_NE(ra.done->keys.send, ra.done->keys.receive);
  EXPECT_EQ(ra.done->transcript_hash, rb.done->transcript_hash);
  // Session keys live in locked memory left out of core dumps, and so does
  // each sealer's copy.
  std::string why;
  EXPECT_TRUE(testing::in_secret_memory(ra.done->keys.send.data(), &why)) << why;
  EXPECT_TRUE(testing::in_secret_memory(ra.done->keys.receive.data(), &why)) << why;
  EXPECT_TRUE(a.finished());
  // Anything after the end is out of order.
  EXPECT_EQ(a.on_message(b.hello()).refused, HandshakeRefusal::unexpected_message);
}

TEST(Handshake, FreshEphemeralKeysGiveFreshSessionKeys) {
  Peers s;
  Handshake a1(s.alice, X25519SecretKey::generate(), HandshakeRole::initiator, s.options());
  Handshake b1(s.bob, X25519SecretKey::generate(), HandshakeRole::responder, s.options());
  Handshake a2(s.alice, X25519SecretKey::generate(), HandshakeRole::initiator, s.options());
  Handshake b2(s.bob, X25519SecretKey::generate(), HandshakeRole::responder, s.options());
  auto r1 = run(a1, b1);
  auto r2 = run(a2, b2);
  ASSERT_TRUE(r1.first.done && r2.first.done);
  EXPECT_NE(r1.first.done->keys.send, r2.first.done->keys.send);
}

TEST(Handshake, HelloHasTheDocumentedLayout) {
  Peers s;
  const auto eph = X25519SecretKey::generate();
  Handshake a(s.alice, eph, HandshakeRole::initiator, s.options());
  const chain::Bytes hello = a.hello();
  ASSERT_EQ(hello.size(), 1 + 2 + 32 + 32 + 32 + 1 + 9u);
  EXPECT_EQ(hello[0], 0x01);
  EXPECT_EQ(hello[1], 0x00);
  EXPECT_EQ(hello[2], kP2pProtocolVersion);
  EXPECT_TRUE(std::equal(s.genesis.bytes.begin(), s.genesis.bytes.end(), hello.begin() + 3));
  EXPECT_TRUE(std::equal(s.alice.public_key().bytes.begin(), s.alice.public_key().bytes.end(),
                         hello.begin() + 35));
  EXPECT_TRUE(
      std::equal(eph.public_key().bytes.begin(), eph.public_key().bytes.end(), hello.begin() + 67));
  EXPECT_EQ(hello[99], 9);
  EXPECT_EQ(std::string(hello.begin() + 100, hello.end()), "hospitals");
  const auto parsed = parse_hello(hello);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(encode_hello(*parsed), hello);
}

TEST(Handshake, AuthSignatureCoversTheDocumentedTranscript) {
  Peers s;
  const auto eph_a = X25519SecretKey::generate();
  const auto eph_b = X25519SecretKey::generate();
  Handshake a(s.alice, eph_a, HandshakeRole::initiator, s.options());
  Handshake b(s.bob, eph_b, HandshakeRole::responder, s.options());
  const HandshakeStep a1 = a.on_message(b.hello());
  ASSERT_TRUE(a1.send);
  const auto auth = parse_auth(*a1.send);
  ASSERT_TRUE(auth);
  // Rebuild the signed bytes independently from docs/PROTOCOL.md.
  chain::Bytes t{0x00, kP2pProtocolVersion};
  auto put = [&t](auto& arr) { t.insert(t.end(), arr.begin(), arr.end()); };
  put(s.genesis.bytes);
  put(s.alice.public_key().bytes);
  put(eph_a.public_key().bytes);
  put(s.bob.public_key().bytes);
  put(eph_b.public_key().bytes);
  t.push_back(0x01);  // signed by the initiator
  const chain::Bytes msg = chain::domain_separated("baton/p2p-handshake/v1", "hospitals", t);
  EXPECT_TRUE(chain::verify_signature(s.alice.public_key(), msg, auth->signature));
}

HandshakeStep first_reply(const Peers& s, const SigningKey& peer, HandshakeOptions peer_options,
                          HandshakeOptions mine) {
  Handshake me(s.alice, X25519SecretKey::generate(), HandshakeRole::responder, std::move(mine));
  Handshake them(peer, X25519SecretKey::generate(), HandshakeRole::initiator,
                 std::move(peer_options));
  return me.on_message(them.hello());
}

TEST(HandshakeRefuses, UnknownKey) {
  Peers s;
  const SigningKey stranger = SigningKey::generate();
  const auto step = first_reply(s, stranger, s.options(), s.options());
  EXPECT_EQ(step.refused, HandshakeRefusal::unknown_peer);
  EXPECT_FALSE(step.send);
  EXPECT_NE(step.detail.find(stranger.public_key().hex()), std::string::npos);
}

TEST(HandshakeRefuses, WrongGenesisHash) {
  Peers s;
  HandshakeOptions theirs = s.options();
  theirs.genesis_hash = chain::sha256(std::string_view("another genesis"));
  EXPECT_EQ(first_reply(s, s.bob, theirs, s.options()).refused, HandshakeRefusal::genesis_mismatch);
}

TEST(HandshakeRefuses, WrongChainId) {
  Peers s;
  HandshakeOptions theirs = s.options();
  theirs.chain_id = "other";
  EXPECT_EQ(first_reply(s, s.bob, theirs, s.options()).refused,
            HandshakeRefusal::chain_id_mismatch);
}

TEST(HandshakeRefuses, OtherProtocolVersion) {
  Peers s;
  HandshakeOptions theirs = s.options();
  theirs.version = 2;
  EXPECT_EQ(first_reply(s, s.bob, theirs, s.options()).refused, HandshakeRefusal::version_mismatch);
}

TEST(HandshakeRefuses, OurOwnIdentity) {
  Peers s;
  EXPECT_EQ(first_reply(s, s.alice, s.options(), s.options()).refused,
            HandshakeRefusal::self_connection);
}

TEST(HandshakeRefuses, AMemberOtherThanTheOneDialled) {
  Peers s;
  const SigningKey carol = SigningKey::generate();
  HandshakeOptions mine = s.options();
  mine.members.insert(carol.public_key());
  mine.expected_peer = carol.public_key();
  EXPECT_EQ(first_reply(s, s.bob, s.options(), mine).refused, HandshakeRefusal::unexpected_peer);
}

TEST(HandshakeRefuses, BadSignature) {
  Peers s;
  Handshake a(s.alice, X25519SecretKey::generate(), HandshakeRole::initiator, s.options());
  Handshake b(s.bob, X25519SecretKey::generate(), HandshakeRole::responder, s.options());
  const HandshakeStep a1 = a.on_message(b.hello());
  ASSERT_TRUE(a1.send);
  chain::Bytes tampered = *a1.send;
  tampered[10] ^= 0x40;
  ASSERT_TRUE(b.on_message(a.hello()).send);
  const HandshakeStep b2 = b.on_message(tampered);
  EXPECT_EQ(b2.refused, HandshakeRefusal::bad_signature);
  EXPECT_FALSE(b2.done);
}

TEST(HandshakeRefuses, SignatureFromAnotherSession) {
  // A man in the middle replays Alice's Auth from one session into another
  // where it chose the ephemeral key: the transcript differs, so it fails.
  Peers s;
  Handshake a(s.alice, X25519SecretKey::generate(), HandshakeRole::initiator, s.options());
  Handshake b1(s.bob, X25519SecretKey::generate(), HandshakeRole::responder, s.options());
  const chain::Bytes alice_auth = *a.on_message(b1.hello()).send;
  Handshake b2(s.bob, X25519SecretKey::generate(), HandshakeRole::responder, s.options());
  HelloMessage forged = *parse_hello(a.hello());
  forged.ephemeral = X25519SecretKey::generate().public_key();
  ASSERT_TRUE(b2.on_message(encode_hello(forged)).send);
  EXPECT_EQ(b2.on_message(alice_auth).refused, HandshakeRefusal::bad_signature);
}

TEST(HandshakeRefuses, ReflectedSignatureOfTheOtherRole) {
  // Bob's own Auth sent back to him verifies under no key but Bob's and his
  // role byte, so it cannot complete a session with Bob as the peer.
  Peers s;
  Handshake a(s.alice, X25519SecretKey::generate(), HandshakeRole::initiator, s.options());
  Handshake b(s.bob, X25519SecretKey::generate(), HandshakeRole::responder, s.options());
  const chain::Bytes bob_auth = *b.on_message(a.hello()).send;
  EXPECT_EQ(b.on_message(bob_auth).refused, HandshakeRefusal::bad_signature);
}

TEST(HandshakeRefuses, LowOrderEphemeralKey) {
  Peers s;
  Handshake them(s.bob, X25519SecretKey::generate(), HandshakeRole::initiator, s.options());
  HelloMessage hello = *parse_hello(them.hello());
  hello.ephemeral = chain::X25519PublicKey{};  // all zeros: a low-order point
  Handshake me(s.alice, X25519SecretKey::generate(), HandshakeRole::responder, s.options());
  EXPECT_EQ(me.on_message(encode_hello(hello)).refused, HandshakeRefusal::weak_ephemeral_key);
}

TEST(HandshakeRefuses, MalformedAndOutOfOrderMessages) {
  Peers s;
  const auto fresh = [&s] {
    return std::make_unique<Handshake>(s.alice, X25519SecretKey::generate(),
                                       HandshakeRole::responder, s.options());
  };
  EXPECT_EQ(fresh()->on_message({}).refused, HandshakeRefusal::malformed);
  EXPECT_EQ(fresh()->on_message(chain::Bytes(40, 0x01)).refused, HandshakeRefusal::malformed);
  Handshake other(s.bob, X25519SecretKey::generate(), HandshakeRole::initiator, s.options());
  chain::Bytes hello = other.hello();
  hello.push_back(0);  // trailing byte
  EXPECT_EQ(fresh()->on_message(hello).refused, HandshakeRefusal::malformed);
  hello.pop_back();
  hello[99] = 0;  // zero-length chain id with 9 bytes following
  EXPECT_EQ(fresh()->on_message(hello).refused, HandshakeRefusal::malformed);
  EXPECT_EQ(fresh()->on_message(encode_auth(AuthMessage{})).refused,
            HandshakeRefusal::unexpected_message);
  // A second hello where the Auth belongs.
  auto h = fresh();
  ASSERT_TRUE(h->on_message(other.hello()).send);
  EXPECT_EQ(h->on_message(other.hello()).refused, HandshakeRefusal::malformed);
}

}  // namespace
}  // namespace baton::p2p

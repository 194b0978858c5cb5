// The frame codec and the per-frame AEAD: pure, no sockets.
#include <cstring>

#include <gtest/gtest.h>

#include <random>

#include "p2p/frame.h"
#include "p2p/secure_channel.h"

namespace baton::p2p {
namespace {

chain::Bytes bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

TEST(FrameCodec, PrefixIsBigEndianLength) {
  const chain::Bytes frame = encode_frame(bytes_of("abc"));
  EXPECT_EQ(frame, (chain::Bytes{0, 0, 0, 3, 'a', 'b', 'c'}));
  std::uint8_t prefix[4];
  put_frame_prefix(0x01020304, prefix);
  EXPECT_EQ(prefix[0], 1);
  EXPECT_EQ(prefix[3], 4);
}

TEST(FrameCodec, RoundTripsFramesFedInArbitraryPieces) {
  std::mt19937 rng(7);
  std::vector<chain::Bytes> bodies;
  chain::Bytes stream;
  for (int i = 0; i < 50; ++i) {
    chain::Bytes body(rng() % 300);
    for (auto& b : body) b = static_cast<std::uint8_t>(rng());
    const chain::Bytes frame = encode_frame(body);
    stream.insert(stream.end(), frame.begin(), frame.end());
    bodies.push_back(std::move(body));
  }
  FrameDecoder decoder(1000);
  std::vector<chain::Bytes> got;
  std::size_t at = 0;
  while (at < stream.size()) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % 37, stream.size() - at);
    decoder.feed(chain::ByteView(stream.data() + at, n));
    at += n;
    for (;;) {
      FrameResult r = decoder.next();
      ASSERT_NE(r.status, FrameStatus::oversized);
      if (r.status == FrameStatus::need_more) break;
      got.push_back(std::move(r.body));
    }
  }
  EXPECT_EQ(got, bodies);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameCodec, EmptyBodyIsAFrame) {
  FrameDecoder decoder(10);
  decoder.feed(encode_frame({}));
  const FrameResult r = decoder.next();
  EXPECT_EQ(r.status, FrameStatus::frame);
  EXPECT_TRUE(r.body.empty());
}

TEST(FrameCodec, OversizedPrefixIsRefusedBeforeAnyBodyIsBuffered) {
  FrameDecoder decoder(4u << 20);
  const chain::Bytes huge{0xff, 0xff, 0xff, 0xff};
  decoder.feed(huge);
  const FrameResult r = decoder.next();
  EXPECT_EQ(r.status, FrameStatus::oversized);
  EXPECT_EQ(r.announced, 0xffffffffu);
  // Nothing was reserved for the announced 4 GiB, and what was held is freed.
  EXPECT_EQ(decoder.capacity(), 0u);
  // Poisoned: more input is ignored and the answer stays the same.
  decoder.feed(chain::Bytes(1000, 0));
  EXPECT_EQ(decoder.buffered(), 0u);
  EXPECT_EQ(decoder.next().status, FrameStatus::oversized);
}

TEST(FrameCodec, LimitIsInclusive) {
  FrameDecoder decoder(5);
  decoder.feed(encode_frame(bytes_of("12345")));
  EXPECT_EQ(decoder.next().status, FrameStatus::frame);
  decoder.feed(encode_frame(bytes_of("123456")));
  EXPECT_EQ(decoder.next().status, FrameStatus::oversized);
}

TEST(FrameCodec, RaisedLimitAppliesToLaterFrames) {
  FrameDecoder decoder(kMaxHandshakeFrame);
  const chain::Bytes big(kMaxHandshakeFrame + 1, 9);
  decoder.set_max_body(1u << 20);
  decoder.feed(encode_frame(big));
  const FrameResult r = decoder.next();
  ASSERT_EQ(r.status, FrameStatus::frame);
  EXPECT_EQ(r.body, big);
}

SessionKey key_of(std::uint8_t fill) {
  SessionKey k;
  std::memset(k.data(), fill, k.size());
  return k;
}

// Seals frames and splits them back into bodies with the decoder.
std::vector<chain::Bytes> seal_bodies(FrameSealer& sealer, const std::vector<std::string>& msgs) {
  chain::Bytes wire;
  for (const auto& m : msgs) sealer.seal(EnvelopeKind::message, chain::as_bytes(m), wire);
  FrameDecoder decoder(1u << 20);
  decoder.feed(wire);
  std::vector<chain::Bytes> bodies;
  for (FrameResult r = decoder.next(); r.status == FrameStatus::frame; r = decoder.next()) {
    bodies.push_back(std::move(r.body));
  }
  return bodies;
}

TEST(SecureChannel, OpensWhatWasSealedInOrder) {
  FrameSealer sealer(key_of(1));
  FrameOpener opener(key_of(1));
  const auto bodies = seal_bodies(sealer, {"first", "", "third"});
  ASSERT_EQ(bodies.size(), 3u);
  const std::vector<std::string> expected{"first", "", "third"};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    auto opened = opener.open(bodies[i]);
    ASSERT_TRUE(opened.frame);
    EXPECT_EQ(opened.frame->kind, EnvelopeKind::message);
    EXPECT_EQ(opened.frame->payload, bytes_of(expected[i]));
  }
  EXPECT_EQ(opener.frames_opened(), 3u);
}

TEST(SecureChannel, FlippedCiphertextBitIsNotAuthentic) {
  FrameSealer sealer(key_of(1));
  FrameOpener opener(key_of(1));
  auto bodies = seal_bodies(sealer, {"hello peer"});
  for (std::size_t i = 0; i < bodies[0].size(); ++i) {
    chain::Bytes tampered = bodies[0];
    tampered[i] ^= 0x01;
    FrameOpener fresh(key_of(1));
    EXPECT_EQ(fresh.open(tampered).failure, OpenFailure::not_authentic) << "byte " << i;
  }
  EXPECT_TRUE(opener.open(bodies[0]).frame);
}

TEST(SecureChannel, ReplayedOrReorderedFrameIsNotAuthentic) {
  FrameSealer sealer(key_of(1));
  const auto bodies = seal_bodies(sealer, {"one", "two"});
  FrameOpener replay(key_of(1));
  ASSERT_TRUE(replay.open(bodies[0]).frame);
  EXPECT_FALSE(replay.open(bodies[0]).frame);
  FrameOpener reorder(key_of(1));
  EXPECT_EQ(reorder.open(bodies[1]).failure, OpenFailure::not_authentic);
}

TEST(SecureChannel, OtherDirectionsKeyDoesNotOpen) {
  FrameSealer sealer(key_of(1));
  FrameOpener opener(key_of(2));
  EXPECT_EQ(opener.open(seal_bodies(sealer, {"x"})[0]).failure, OpenFailure::not_authentic);
}

TEST(SecureChannel, TruncatedBodyIsRefused) {
  FrameOpener opener(key_of(1));
  EXPECT_EQ(opener.open(chain::Bytes(kAeadTagSize, 0)).failure, OpenFailure::too_short);
  FrameSealer sealer(key_of(1));
  chain::Bytes body = seal_bodies(sealer, {"abcdef"})[0];
  body.pop_back();
  EXPECT_EQ(opener.open(body).failure, OpenFailure::not_authentic);
}

TEST(SecureChannel, KeepaliveHasNoPayloadAndUnknownKindsAreRefused) {
  FrameSealer sealer(key_of(3));
  FrameOpener opener(key_of(3));
  chain::Bytes wire;
  sealer.seal(EnvelopeKind::keepalive, {}, wire);
  sealer.seal(EnvelopeKind::keepalive, bytes_of("x"), wire);
  FrameDecoder decoder(100);
  decoder.feed(wire);
  auto ok = opener.open(decoder.next().body);
  ASSERT_TRUE(ok.frame);
  EXPECT_EQ(ok.frame->kind, EnvelopeKind::keepalive);
  EXPECT_EQ(opener.open(decoder.next().body).failure, OpenFailure::bad_keepalive);

  FrameSealer sealer2(key_of(4));
  FrameOpener opener2(key_of(4));
  chain::Bytes wire2;
  sealer2.seal(static_cast<EnvelopeKind>(0x7f), bytes_of("x"), wire2);
  FrameDecoder decoder2(100);
  decoder2.feed(wire2);
  EXPECT_EQ(opener2.open(decoder2.next().body).failure, OpenFailure::unknown_kind);
}

TEST(SecureChannel, SealedLengthIsPayloadPlusKindPlusTag) {
  FrameSealer sealer(key_of(1));
  chain::Bytes wire;
  sealer.seal(EnvelopeKind::message, bytes_of("12345"), wire);
  EXPECT_EQ(wire.size(), kFramePrefixSize + 1 + 5 + kAeadTagSize);
  EXPECT_EQ(wire[3], 1 + 5 + kAeadTagSize);
}

}  // namespace
}  // namespace baton::p2p

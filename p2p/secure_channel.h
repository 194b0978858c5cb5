// Authenticated encryption of P2P frames once the handshake has produced the
// session keys (docs/PROTOCOL.md, "P2P transport"). Each direction has its own
// 32-byte key and its own frame counter; a frame is sealed with
// ChaCha20-Poly1305-IETF (libsodium) under
//
//   nonce = 4 zero bytes || u64 big-endian counter   (counter starts at 0)
//   aad   = the frame's 4-byte length prefix
//
// so frames cannot be reordered, replayed, dropped from the middle, cut, or
// moved to the other direction without the next open() failing. The plaintext
// of a frame is an envelope:
//
//   u8 kind || payload        kind 0x01 = application message (payload = the
//                             message bytes), 0x02 = keepalive (no payload)
//
// Pure (no sockets); not thread-safe: one sealer and one opener per
// connection, each used by one thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "chain/crypto.h"

namespace baton::p2p {

inline constexpr std::size_t kAeadTagSize = 16;

// A direction's 32-byte key, in chain::SecretBytes: locked in RAM, out of
// core dumps, wiped when it dies (also each sealer's and opener's copy).
using SessionKey = chain::SecretBytes<32>;

// The two directions' keys, from the handshake (handshake.h).
struct SessionKeys {
  SessionKey send;
  SessionKey receive;
};

enum class EnvelopeKind : std::uint8_t { message = 0x01, keepalive = 0x02 };

class FrameSealer {
 public:
  explicit FrameSealer(const SessionKey& key) : key_(key) {}
  ~FrameSealer();
  FrameSealer(const FrameSealer&) = delete;
  FrameSealer& operator=(const FrameSealer&) = delete;

  // Appends one whole wire frame (prefix || ciphertext || tag) holding the
  // envelope `kind || payload` to `out`. Precondition: the sealed body fits
  // in u32 (callers enforce a much smaller message limit first).
  void seal(EnvelopeKind kind, chain::ByteView payload, chain::Bytes& out);

  std::uint64_t frames_sealed() const { return counter_; }

 private:
  SessionKey key_;
  std::uint64_t counter_ = 0;
};

// A frame that opened: its envelope kind and payload.
struct OpenedFrame {
  EnvelopeKind kind = EnvelopeKind::message;
  chain::Bytes payload;
};

enum class OpenFailure {
  too_short,      // shorter than the tag plus the kind byte
  not_authentic,  // the tag did not verify (tampered, replayed, wrong key)
  unknown_kind,   // authentic, but the envelope kind is not one we know
  bad_keepalive,  // a keepalive that carries payload bytes
};
const char* to_string(OpenFailure failure);

class FrameOpener {
 public:
  explicit FrameOpener(const SessionKey& key) : key_(key) {}
  ~FrameOpener();
  FrameOpener(const FrameOpener&) = delete;
  FrameOpener& operator=(const FrameOpener&) = delete;

  // Opens one frame body (what FrameDecoder returned, without the prefix).
  // On success the counter advances; on failure the opener must not be used
  // again (the connection is to be dropped).
  struct Opened {
    std::optional<OpenedFrame> frame;
    OpenFailure failure = OpenFailure::not_authentic;  // when !frame
  };
  Opened open(chain::ByteView body);

  std::uint64_t frames_opened() const { return counter_; }

 private:
  SessionKey key_;
  std::uint64_t counter_ = 0;
};

}  // namespace baton::p2p

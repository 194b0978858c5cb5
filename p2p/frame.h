// Length-prefixed frames on a P2P byte stream (docs/PROTOCOL.md, "P2P
// transport"). A frame on the wire is
//
//   u32 big-endian length L || L bytes of body
//
// Before the handshake the body is a plaintext handshake message (at most
// kMaxHandshakeFrame bytes); after it, the body is an AEAD ciphertext (see
// secure_channel.h). The decoder is a pure, socket-free state machine: bytes
// in, whole frame bodies out. It checks the announced length against its
// limit as soon as the 4 prefix bytes are there, before it reserves anything
// for the body, so a peer cannot make us allocate by announcing 4 GiB.
//
// Not thread-safe; one decoder per connection, used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "chain/crypto.h"

namespace baton::p2p {

inline constexpr std::size_t kFramePrefixSize = 4;
// Handshake messages are small (docs/PROTOCOL.md); an unauthenticated peer may
// not make us buffer more than this per frame.
inline constexpr std::uint32_t kMaxHandshakeFrame = 512;

// Writes the 4-byte big-endian prefix for a body of `body_size` bytes.
void put_frame_prefix(std::uint32_t body_size, std::uint8_t out[kFramePrefixSize]);
// prefix(body.size()) || body. Precondition: body.size() fits in u32.
chain::Bytes encode_frame(chain::ByteView body);

enum class FrameStatus {
  frame,      // `body` holds one complete frame body
  need_more,  // no complete frame yet; feed more bytes
  oversized,  // the announced length exceeds the limit; drop the connection
};

struct FrameResult {
  FrameStatus status = FrameStatus::need_more;
  chain::Bytes body;            // set when status == frame
  std::uint32_t announced = 0;  // the offending length when status == oversized
};

class FrameDecoder {
 public:
  // `max_body` is the largest body accepted (bytes after the prefix).
  explicit FrameDecoder(std::uint32_t max_body) : max_body_(max_body) {}

  // Changes the limit for frames not started yet (the transport raises it
  // from kMaxHandshakeFrame to the session limit once the handshake is done).
  void set_max_body(std::uint32_t max_body) { max_body_ = max_body; }
  std::uint32_t max_body() const { return max_body_; }

  // Appends received bytes. After an `oversized` result the decoder is
  // poisoned: feed() ignores input and next() keeps answering `oversized`.
  void feed(chain::ByteView bytes);

  // Takes the next complete frame, if any. Call in a loop until need_more.
  FrameResult next();

  // Bytes received but not yet returned as frames (for tests and limits).
  std::size_t buffered() const { return buffer_.size() - read_; }
  // Bytes the decoder holds allocated right now.
  std::size_t capacity() const { return buffer_.capacity(); }

 private:
  void compact();

  std::uint32_t max_body_;
  chain::Bytes buffer_;
  std::size_t read_ = 0;  // offset of the first unconsumed byte in buffer_
  std::optional<std::uint32_t> poisoned_;
};

}  // namespace baton::p2p

#include "p2p/secure_channel.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <limits>

#include "p2p/frame.h"

namespace baton::p2p {
namespace {

static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == 32);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12);
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kAeadTagSize);

using Nonce = std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES>;

Nonce nonce_for(std::uint64_t counter) {
  Nonce nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(counter >> (56 - 8 * i));
  return nonce;
}

}  // namespace

const char* to_string(OpenFailure failure) {
  switch (failure) {
    case OpenFailure::too_short:
      return "frame too short to hold a tag and an envelope kind";
    case OpenFailure::not_authentic:
      return "frame failed authentication";
    case OpenFailure::unknown_kind:
      return "frame has an unknown envelope kind";
    case OpenFailure::bad_keepalive:
      return "keepalive frame carries a payload";
  }
  return "unknown frame failure";
}

// SessionKey (SecretBytes) wipes and frees the key.
FrameSealer::~FrameSealer() = default;
FrameOpener::~FrameOpener() = default;

void FrameSealer::seal(EnvelopeKind kind, chain::ByteView payload, chain::Bytes& out) {
  // A counter that wraps would reuse a nonce; 2^64 frames cannot happen in
  // practice, so reaching it is a bug.
  if (counter_ == std::numeric_limits<std::uint64_t>::max()) std::abort();
  const std::size_t plain_size = 1 + payload.size();
  const std::size_t body_size = plain_size + kAeadTagSize;
  if (body_size > std::numeric_limits<std::uint32_t>::max()) std::abort();

  const std::size_t start = out.size();
  out.resize(start + kFramePrefixSize + body_size);
  std::uint8_t* prefix = out.data() + start;
  put_frame_prefix(static_cast<std::uint32_t>(body_size), prefix);
  std::uint8_t* body = prefix + kFramePrefixSize;
  // Encrypt in place: write the envelope where the ciphertext goes.
  body[0] = static_cast<std::uint8_t>(kind);
  if (!payload.empty()) std::memcpy(body + 1, payload.data(), payload.size());
  const Nonce nonce = nonce_for(counter_++);
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(body, &written, body, plain_size, prefix,
                                            kFramePrefixSize, nullptr, nonce.data(), key_.data());
  if (written != body_size) std::abort();
}

FrameOpener::Opened FrameOpener::open(chain::ByteView body) {
  Opened result;
  if (body.size() < kAeadTagSize + 1) {
    result.failure = OpenFailure::too_short;
    return result;
  }
  if (body.size() > std::numeric_limits<std::uint32_t>::max()) {
    result.failure = OpenFailure::not_authentic;
    return result;
  }
  std::uint8_t prefix[kFramePrefixSize];
  put_frame_prefix(static_cast<std::uint32_t>(body.size()), prefix);
  chain::Bytes plain(body.size() - kAeadTagSize);
  unsigned long long plain_size = 0;
  const Nonce nonce = nonce_for(counter_);
  if (crypto_aead_chacha20poly1305_ietf_decrypt(plain.data(), &plain_size, nullptr, body.data(),
                                                body.size(), prefix, kFramePrefixSize, nonce.data(),
                                                key_.data()) != 0) {
    result.failure = OpenFailure::not_authentic;
    return result;
  }
  ++counter_;
  const std::uint8_t kind = plain[0];
  if (kind == static_cast<std::uint8_t>(EnvelopeKind::keepalive)) {
    if (plain_size != 1) {
      result.failure = OpenFailure::bad_keepalive;
      return result;
    }
    result.frame = OpenedFrame{EnvelopeKind::keepalive, {}};
    return result;
  }
  if (kind != static_cast<std::uint8_t>(EnvelopeKind::message)) {
    result.failure = OpenFailure::unknown_kind;
    return result;
  }
  plain.erase(plain.begin());
  result.frame = OpenedFrame{EnvelopeKind::message, std::move(plain)};
  return result;
}

}  // namespace baton::p2p

// libFuzzer target for the P2P handshake (p2p/handshake.h): the Hello and
// Auth parsers and the state machine behind them, fed as an unauthenticated
// peer would. Any input must end in "keep reading", a refusal with a reason,
// or (only with a genuine signature) a session, never a crash.
//
// Input: byte 0 chooses the mode.
//   mode 0: the rest is a stream of frames fed to a responder.
//   mode 1: the peer (a genesis member with a fixed key) sends a valid Hello
//           whose ephemeral key is bytes 1..32; bytes 33.. are its Auth.
//   mode 2: as mode 1, but we dialled the peer (initiator, expected peer).
// Keys are fixed so that a corpus can hold genuine sessions.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "p2p/frame.h"
#include "p2p/handshake.h"

namespace {

using namespace baton;
using namespace baton::p2p;

chain::SigningKey fixed_signing(std::uint8_t fill) {
  std::uint8_t seed[32];
  std::memset(seed, fill, sizeof seed);
  return chain::SigningKey::from_seed(seed).value();
}

chain::X25519SecretKey fixed_x25519(std::uint8_t fill) {
  std::uint8_t secret[32];
  std::memset(secret, fill, sizeof secret);
  return chain::X25519SecretKey::from_bytes(secret).value();
}

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Keys {
  chain::SigningKey us = fixed_signing(0x01);
  chain::SigningKey peer = fixed_signing(0x02);
  HandshakeOptions options() const {
    HandshakeOptions o;
    o.chain_id = "fuzz-chain";
    o.genesis_hash = chain::sha256(std::string_view("fuzz genesis"));
    o.members = {us.public_key(), peer.public_key()};
    return o;
  }
};

const Keys& keys() {
  static const Keys k;
  return k;
}

void feed_frames(Handshake& hs, chain::ByteView stream) {
  FrameDecoder decoder(kMaxHandshakeFrame);
  decoder.feed(stream);
  for (;;) {
    FrameResult r = decoder.next();
    if (r.status != FrameStatus::frame) return;
    if (const auto hello = parse_hello(r.body)) check(encode_hello(*hello) == r.body);
    if (const auto auth = parse_auth(r.body)) check(encode_auth(*auth) == r.body);
    const bool was_finished = hs.finished();
    const HandshakeStep step = hs.on_message(r.body);
    if (was_finished) check(step.refused == HandshakeRefusal::unexpected_message);
    check(!(step.refused && step.done));
    if (step.done) check(step.done->peer == keys().peer.public_key());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const chain::ByteView rest(data + 1, size - 1);
  const int mode = data[0] % 3;
  if (mode == 0) {
    Handshake hs(keys().us, fixed_x25519(0x03), HandshakeRole::responder, keys().options());
    feed_frames(hs, rest);
    return 0;
  }
  if (rest.size() < 32) return 0;
  HandshakeOptions options = keys().options();
  HandshakeRole role = HandshakeRole::responder;
  if (mode == 2) {
    role = HandshakeRole::initiator;
    options.expected_peer = keys().peer.public_key();
  }
  Handshake hs(keys().us, fixed_x25519(0x03), role, options);
  HelloMessage hello;
  hello.genesis_hash = options.genesis_hash;
  hello.identity = keys().peer.public_key();
  std::memcpy(hello.ephemeral.bytes.data(), rest.data(), 32);
  hello.chain_id = options.chain_id;
  const HandshakeStep first = hs.on_message(encode_hello(hello));
  check(first.send.has_value() != first.refused.has_value());
  if (first.refused) {
    check(*first.refused == HandshakeRefusal::weak_ephemeral_key);
    return 0;
  }
  const HandshakeStep second = hs.on_message(rest.subspan(32));
  check(second.done.has_value() != second.refused.has_value());
  return 0;
}

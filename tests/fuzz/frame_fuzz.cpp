// libFuzzer target for what a peer's bytes meet first: the frame decoder and
// the per-frame AEAD opener (p2p/frame.h, p2p/secure_channel.h). Any input
// must give frames, "need more" or a refusal, never a crash or an allocation
// beyond the announced limit.
//
// Input: byte 0 sets the frame limit (1 + 4 * b0 bytes), byte 1 the size of
// the pieces the rest is fed in (1 + b1 bytes), as TCP would split it.
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <memory>

#include "p2p/frame.h"
#include "p2p/secure_channel.h"

namespace {

using namespace baton::p2p;

const SessionKey kKey = [] {
  SessionKey k;
  for (std::size_t i = 0; i < k.size(); ++i) k.data()[i] = static_cast<std::uint8_t>(i);
  return k;
}();

void check(bool ok) {
  if (!ok) __builtin_trap();  // an invariant of the decoder broke: a bug
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint32_t limit = 1 + 4u * data[0];
  const std::size_t piece = 1 + data[1];
  const baton::chain::ByteView stream(data + 2, size - 2);

  FrameDecoder decoder(limit);
  auto opener = std::make_unique<FrameOpener>(kKey);
  std::size_t fed = 0, taken = 0;
  bool oversized = false;
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    const auto chunk = stream.subspan(at, std::min(piece, stream.size() - at));
    decoder.feed(chunk);
    fed += chunk.size();
    for (;;) {
      FrameResult r = decoder.next();
      if (r.status == FrameStatus::need_more) break;
      if (r.status == FrameStatus::oversized) {
        check(r.announced > limit);
        oversized = true;
        check(decoder.next().status == FrameStatus::oversized);
        check(decoder.capacity() == 0);
        break;
      }
      check(!oversized);
      check(r.body.size() <= limit);
      taken += kFramePrefixSize + r.body.size();
      // Whatever the body, opening it gives a frame or a reason.
      FrameOpener::Opened opened = opener->open(r.body);
      if (!opened.frame) opener = std::make_unique<FrameOpener>(kKey);
      // And any payload survives a seal/open round trip.
      FrameSealer sealer(kKey);
      FrameOpener fresh(kKey);
      baton::chain::Bytes wire;
      sealer.seal(EnvelopeKind::message, r.body, wire);
      const FrameOpener::Opened back =
          fresh.open(baton::chain::ByteView(wire).subspan(kFramePrefixSize));
      check(back.frame && back.frame->payload == r.body);
    }
    if (oversized) break;
    check(oversized || taken + decoder.buffered() == fed);
    // The decoder never holds much more than one frame and one piece.
    check(decoder.buffered() <= kFramePrefixSize + limit + piece);
  }
  return 0;
}

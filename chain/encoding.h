// Byte-level building blocks of the signed and hashed encodings
// (docs/PROTOCOL.md, "Conventions"): big-endian integers, and the canonical
// protobuf rule: stored bytes must be exactly what SerializeAsString
// produces for the parsed message and carry no unknown fields, so that one
// message has one encoding and therefore one hash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "chain/crypto.h"

namespace baton::chain {

inline void append_u8(Bytes& out, std::uint8_t v) { out.push_back(v); }

inline void append_u32be(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

inline void append_u64be(Bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

inline void append_bytes(Bytes& out, std::string_view s) {
  out.insert(out.end(), s.begin(), s.end());
}
inline void append_bytes(Bytes& out, ByteView b) { out.insert(out.end(), b.begin(), b.end()); }

// Parses `bytes` into `out` and returns true only when they are the canonical
// encoding: the parse succeeds, no field is unknown, and re-serializing gives
// the same bytes. Meant for flat messages (no nested message fields).
bool parse_canonical(std::string_view bytes, google::protobuf::Message& out);

}  // namespace baton::chain

// libFuzzer target for the vault's decoders of untrusted bytes: a blob
// downloaded from the object store (header, chunk framing, AES-GCM opening)
// and a key envelope (JSON). Any input must be refused cleanly or, when it
// happens to be valid, round-trip; never crash or write unauthenticated
// plaintext.
//
// Input: byte 0 selects the decoder (even: blob, odd: envelope); the rest is
// the blob or envelope text. Blobs are opened with a fixed key; inputs whose
// header carries that key's commitment (the corpus has some) reach the chunk
// loop.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chain/keys.h"
#include "storage/byte_stream.h"
#include "storage/envelope.h"
#include "storage/vault.h"

namespace {

using namespace baton;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

const storage::DataKey& fixed_key() {
  static const storage::DataKey key = [] {
    std::uint8_t raw[32];
    for (int i = 0; i < 32; ++i) raw[i] = static_cast<std::uint8_t>(i + 1);
    return *storage::DataKey::from_bytes(raw);
  }();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const chain::ByteView rest(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    if (auto h = storage::parse_blob_header(rest); h.ok()) {
      check(h->chunk_size >= storage::kMinChunkSize && h->chunk_size <= storage::kMaxChunkSize);
      const auto again = storage::encode_blob_header(*h);
      check(std::equal(again.begin(), again.end(), rest.begin()));
    }
    storage::MemorySource in(rest);
    storage::MemorySink out;
    auto r = storage::open(in, out, fixed_key(), chain::as_bytes("fuzz"));
    if (r.ok()) {
      check(out.bytes().size() == r->plaintext_size);
      check(r->blob_size == rest.size());
    } else {
      check(!r.error().message.empty());
    }
  } else {
    const std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());
    auto env = storage::parse_envelope(text);
    if (env.ok()) {
      check(!env->recipients.empty());
      auto again = storage::parse_envelope(storage::encode_envelope(*env));
      check(again.ok() && again->recipients.size() == env->recipients.size());
    } else {
      check(env.error().code == static_cast<int>(storage::VaultErrc::bad_envelope));
    }
  }
  return 0;
}

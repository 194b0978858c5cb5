// The streaming SHA-256 the hand-off hashes blobs and plaintext with
// (storage::Sha256Hasher, OpenSSL), checked against a published digest and
// against chain's two SHA-256 code paths (OpenSSL one-shot, libsodium stream),
// and the pass-through sources and sinks that hash while the vault works.
#include <gtest/gtest.h>

#include "storage/byte_stream.h"
#include "storage/vault.h"

namespace baton::storage {
namespace {

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 131 + (i >> 9) + 5);
  return b;
}

TEST(Sha256Hasher, MatchesFipsExampleAbc) {
  Sha256Hasher h;
  h.update(chain::as_bytes("ab"));
  h.update(chain::as_bytes("c"));
  EXPECT_EQ(h.finish().hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Hasher, AgreesWithChainsOneShotAndStreamOnAMultiMegabyteInput) {
  const Bytes data = pattern((3u << 20) + 17);
  Sha256Hasher h;
  chain::Sha256Stream stream;
  // Uneven pieces, so that block boundaries fall everywhere.
  for (std::size_t at = 0, piece = 1; at < data.size(); at += piece, piece = piece * 3 + 1) {
    const std::size_t n = std::min(piece, data.size() - at);
    h.update(ByteView(data.data() + at, n));
    stream.update(ByteView(data.data() + at, n));
  }
  const chain::Hash got = h.finish();
  EXPECT_EQ(got, chain::sha256(data));
  EXPECT_EQ(got, stream.finish());
}

TEST(Sha256Hasher, HashesTheEmptyInput) {
  Sha256Hasher h;
  h.update({});
  EXPECT_EQ(h.finish().hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(HashingSource, HashesExactlyWhatWasRead) {
  const Bytes data = pattern(10'000);
  MemorySource inner(data);
  HashingSource source(inner);
  Bytes buf(777);
  Bytes got;
  for (;;) {
    auto n = source.read(buf);
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
  }
  EXPECT_EQ(got, data);
  EXPECT_EQ(source.finish(), chain::sha256(data));
}

TEST(HashingSink, PassesWritesThroughAndHashesThem) {
  const Bytes data = pattern(5'000);
  MemorySink inner;
  HashingSink sink(inner);
  ASSERT_TRUE(sink.write(ByteView(data.data(), 1234)).ok());
  ASSERT_TRUE(sink.write({}).ok());
  ASSERT_TRUE(sink.write(ByteView(data.data() + 1234, data.size() - 1234)).ok());
  EXPECT_EQ(inner.bytes(), data);
  EXPECT_EQ(sink.finish(), chain::sha256(data));
}

TEST(HashingSource, GivesThePlaintextHashOfASealInTheSamePass) {
  const Bytes plain = pattern(70'000);
  const auto key = DataKey::generate();
  MemorySource inner(plain);
  HashingSource source(inner);
  MemorySink blob;
  blob.reserve(static_cast<std::size_t>(sealed_blob_size(plain.size(), 4096)));
  auto summary = seal(source, blob, key, chain::as_bytes("ad"), SealOptions{4096});
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(source.finish(), chain::sha256(plain));
  EXPECT_EQ(summary->blob_sha256, chain::sha256(blob.bytes()));
  EXPECT_EQ(blob.bytes().size(), sealed_blob_size(plain.size(), 4096));

  MemorySource sealed(blob.bytes());
  MemorySink out;
  HashingSink hashing(out);
  ASSERT_TRUE(open(sealed, hashing, key, chain::as_bytes("ad")).ok());
  EXPECT_EQ(hashing.finish(), chain::sha256(plain));
  EXPECT_EQ(out.bytes(), plain);
}

}  // namespace
}  // namespace baton::storage

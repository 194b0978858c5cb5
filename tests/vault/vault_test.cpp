// The vault: round trips, and every kind of damage refused with nothing
// written. Small chunk sizes keep these fast; one test uses the default.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "storage/byte_stream.h"
#include "storage/envelope.h"
#include "storage/vault.h"
#include "tests/support/test_support.h"

namespace baton::storage {
namespace {

namespace fs = std::filesystem;
using baton::testing::TempDir;

constexpr std::uint32_t kChunk = 64;

Bytes pattern(std::size_t n, std::uint8_t seed = 7) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 31 + seed + (i >> 8));
  return b;
}

Bytes seal_bytes(const Bytes& plain, const DataKey& key, std::string_view ad,
                 std::uint32_t chunk = kChunk) {
  MemorySource in(plain);
  MemorySink out;
  auto s = seal(in, out, key, chain::as_bytes(ad), SealOptions{chunk});
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return out.take();
}

Result<Bytes> open_bytes(const Bytes& blob, const DataKey& key, std::string_view ad) {
  MemorySource in(blob);
  MemorySink out;
  auto s = open(in, out, key, chain::as_bytes(ad));
  if (!s) return s.error();
  return out.take();
}

VaultErrc code_of(const Error& e) { return static_cast<VaultErrc>(e.code); }

class VaultRoundTrip : public ::testing::TestWithParam<std::size_t> {};

TEST(DataKey, LivesInLockedMemoryLeftOutOfCoreDumps) {
  const auto key = DataKey::generate();
  std::string why;
  EXPECT_TRUE(testing::in_secret_memory(key.bytes().data(), &why)) << why;
  const DataKey copy = key;
  EXPECT_NE(copy.bytes().data(), key.bytes().data());
  EXPECT_TRUE(testing::in_secret_memory(copy.bytes().data(), &why)) << why;
}

TEST_P(VaultRoundTrip, OpensToTheSameBytes) {
  const auto key = DataKey::generate();
  const Bytes plain = pattern(GetParam());
  const Bytes blob = seal_bytes(plain, key, "chain/model-1/model-0");
  // Full chunks, then a final one holding the rest (an exact multiple ends
  // on a full final chunk; empty input is one empty final chunk).
  const std::size_t expected_chunks =
      plain.empty() ? 1 : plain.size() / kChunk + (plain.size() % kChunk != 0 ? 1 : 0);
  EXPECT_EQ(blob.size(), kBlobHeaderSize + plain.size() + expected_chunks * kChunkTagSize);
  EXPECT_EQ(blob.size(), sealed_blob_size(plain.size(), kChunk));
  auto back = open_bytes(blob, key, "chain/model-1/model-0");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, plain);
}

INSTANTIATE_TEST_SUITE_P(Sizes, VaultRoundTrip,
                         ::testing::Values(0, 1, kChunk - 1, kChunk, kChunk + 1, 2 * kChunk,
                                           5 * kChunk + 17));

TEST(VaultSeal, SummaryHashIsTheSha256OfTheBlob) {
  const auto key = DataKey::generate();
  const Bytes plain = pattern(1000);
  MemorySource in(plain);
  MemorySink out;
  auto s = seal(in, out, key, chain::as_bytes("ad"), SealOptions{kChunk});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->blob_sha256, chain::sha256(out.bytes()));
  EXPECT_EQ(s->blob_size, out.bytes().size());
  EXPECT_EQ(s->plaintext_size, plain.size());
}

TEST(VaultSeal, TwoSealsOfTheSameInputDiffer) {
  const auto key = DataKey::generate();
  const Bytes plain = pattern(100);
  EXPECT_NE(seal_bytes(plain, key, "ad"), seal_bytes(plain, key, "ad"));
}

TEST(VaultSeal, RefusesChunkSizeOutOfRange) {
  const auto key = DataKey::generate();
  const Bytes plain = pattern(10);
  MemorySource in(plain);
  MemorySink out;
  auto s = seal(in, out, key, {}, SealOptions{8});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(code_of(s.error()), VaultErrc::invalid_argument);
}

TEST(VaultOpen, DefaultChunkSizeRoundTripsMultiChunk) {
  const auto key = DataKey::generate();
  const Bytes plain = pattern(kDefaultChunkSize * 2 + kDefaultChunkSize / 2);
  const Bytes blob = seal_bytes(plain, key, "ad", kDefaultChunkSize);
  auto back = open_bytes(blob, key, "ad");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, plain);
}

TEST(VaultOpen, RefusesAFlippedBitInEveryByte) {
  const auto key = DataKey::generate();
  const Bytes plain = pattern(3 * kChunk + 10);
  const Bytes blob = seal_bytes(plain, key, "ad");
  for (std::size_t i = 0; i < blob.size(); ++i) {
    Bytes bad = blob;
    bad[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    auto r = open_bytes(bad, key, "ad");
    ASSERT_FALSE(r.ok()) << "flipping a bit of byte " << i << " went unnoticed";
  }
}

TEST(VaultOpen, RefusesEveryTruncation) {
  const auto key = DataKey::generate();
  const Bytes plain = pattern(3 * kChunk + 10);
  const Bytes blob = seal_bytes(plain, key, "ad");
  for (std::size_t n = 0; n < blob.size(); ++n) {
    auto r =
        open_bytes(Bytes(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(n)), key, "ad");
    ASSERT_FALSE(r.ok()) << "a blob cut to " << n << " bytes opened";
  }
}

TEST(VaultOpen, NamesTruncationAtAChunkBoundary) {
  const auto key = DataKey::generate();
  const Bytes blob = seal_bytes(pattern(3 * kChunk + 10), key, "ad");
  const std::size_t record = kChunk + kChunkTagSize;
  const Bytes cut(blob.begin(),
                  blob.begin() + static_cast<std::ptrdiff_t>(kBlobHeaderSize + 2 * record));
  auto r = open_bytes(cut, key, "ad");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(code_of(r.error()), VaultErrc::truncated);
  EXPECT_NE(r.error().message.find("truncated"), std::string::npos);
}

TEST(VaultOpen, RefusesTruncationOffAChunkBoundary) {
  const auto key = DataKey::generate();
  const Bytes blob = seal_bytes(pattern(3 * kChunk + 10), key, "ad");
  const Bytes cut(blob.begin(),
                  blob.begin() + static_cast<std::ptrdiff_t>(kBlobHeaderSize + kChunk + 7));
  auto r = open_bytes(cut, key, "ad");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(code_of(r.error()), VaultErrc::tampered);
}

TEST(VaultOpen, RefusesReorderedChunks) {
  const auto key = DataKey::generate();
  const Bytes blob = seal_bytes(pattern(3 * kChunk + 10), key, "ad");
  const std::size_t record = kChunk + kChunkTagSize;
  Bytes bad = blob;
  std::swap_ranges(bad.begin() + kBlobHeaderSize, bad.begin() + kBlobHeaderSize + record,
                   bad.begin() + kBlobHeaderSize + record);
  auto r = open_bytes(bad, key, "ad");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(code_of(r.error()), VaultErrc::tampered);
}

TEST(VaultOpen, RefusesADuplicatedChunk) {
  const auto key = DataKey::generate();
  const Bytes blob = seal_bytes(pattern(3 * kChunk + 10), key, "ad");
  const std::size_t record = kChunk + kChunkTagSize;
  Bytes bad(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(kBlobHeaderSize + record));
  bad.insert(bad.end(), blob.begin() + kBlobHeaderSize,
             blob.begin() + kBlobHeaderSize + record);  // chunk 0 twice
  bad.insert(bad.end(), blob.begin() + kBlobHeaderSize + record, blob.end());
  EXPECT_FALSE(open_bytes(bad, key, "ad").ok());
}

TEST(VaultOpen, RefusesAppendedBytes) {
  const auto key = DataKey::generate();
  Bytes blob = seal_bytes(pattern(2 * kChunk), key, "ad");
  for (const Bytes& tail : {Bytes{0}, pattern(kChunk + kChunkTagSize)}) {
    Bytes bad = blob;
    bad.insert(bad.end(), tail.begin(), tail.end());
    EXPECT_FALSE(open_bytes(bad, key, "ad").ok());
  }
  // A whole final chunk sealed by the same key appended after the real end.
  const Bytes other = seal_bytes(pattern(10), key, "ad");
  Bytes bad = blob;
  bad.insert(bad.end(), other.begin() + kBlobHeaderSize, other.end());
  EXPECT_FALSE(open_bytes(bad, key, "ad").ok());
}

TEST(VaultOpen, RefusesOtherAssociatedData) {
  const auto key = DataKey::generate();
  const Bytes blob = seal_bytes(pattern(100), key, "chain-a/model-2/model-1");
  auto r = open_bytes(blob, key, "chain-a/model-3/model-1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(code_of(r.error()), VaultErrc::tampered);
  EXPECT_FALSE(open_bytes(blob, key, "").ok());
}

TEST(VaultOpen, RefusesAWrongKeyBeforeDecrypting) {
  const Bytes blob = seal_bytes(pattern(100), DataKey::generate(), "ad");
  auto r = open_bytes(blob, DataKey::generate(), "ad");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(code_of(r.error()), VaultErrc::wrong_key);
}

TEST(VaultOpen, RefusesAnotherBlobUnderThisName) {
  // Model 2's blob replaced by model 3's (both properly sealed): model 2's
  // key does not open it, and with model 3's key its AD does not match.
  const auto key2 = DataKey::generate();
  const auto key3 = DataKey::generate();
  const auto ad2 = model_associated_data("chain", "model-2", "model-1");
  const auto ad3 = model_associated_data("chain", "model-3", "model-2");
  const Bytes plain = pattern(500);
  MemorySource in(plain);
  MemorySink blob3;
  ASSERT_TRUE(seal(in, blob3, key3, ad3, SealOptions{kChunk}).ok());
  MemorySource a(blob3.bytes());
  MemorySink sink_a;
  auto r = open(a, sink_a, key2, ad2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(code_of(r.error()), VaultErrc::wrong_key);
  MemorySource b(blob3.bytes());
  MemorySink sink_b;
  EXPECT_FALSE(open(b, sink_b, key3, ad2).ok());
}

TEST(VaultOpen, RefusesNonBlobInput) {
  const auto key = DataKey::generate();
  for (const Bytes& junk : {Bytes{}, pattern(20), pattern(5000)}) {
    auto r = open_bytes(junk, key, "ad");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(code_of(r.error()), VaultErrc::bad_header);
  }
}

TEST(ModelAssociatedData, LengthPrefixesKeepFieldsApart) {
  EXPECT_NE(model_associated_data("ab", "c", ""), model_associated_data("a", "bc", ""));
  EXPECT_NE(model_associated_data("c", "m1", ""), model_associated_data("c", "m1", "m0"));
}

// ---- files: the output appears only when everything authenticated ----

void write_bytes(const fs::path& p, const Bytes& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

Bytes read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

std::size_t entries(const fs::path& dir) {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(VaultFiles, RoundTripThroughFiles) {
  TempDir dir;
  const auto key = DataKey::generate();
  const Bytes plain = pattern(5 * kChunk + 3);
  write_bytes(dir / "plain", plain);
  auto s = seal_file(dir / "plain", dir / "blob", key, chain::as_bytes("ad"), SealOptions{kChunk});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->blob_sha256, chain::sha256(read_bytes(dir / "blob")));
  auto o = open_file(dir / "blob", dir / "back", key, chain::as_bytes("ad"));
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(read_bytes(dir / "back"), plain);
  EXPECT_EQ(fs::status(dir / "back").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST(VaultFiles, FailedOpenLeavesNoOutputFile) {
  TempDir dir;
  const auto key = DataKey::generate();
  write_bytes(dir / "plain", pattern(6 * kChunk));
  ASSERT_TRUE(
      seal_file(dir / "plain", dir / "blob", key, chain::as_bytes("ad"), SealOptions{kChunk}).ok());
  Bytes bad = read_bytes(dir / "blob");
  bad[bad.size() - 3] ^= 0x40;  // damage the last chunk: earlier chunks authenticate
  write_bytes(dir / "bad", bad);
  const std::size_t before = entries(dir.path());
  auto o = open_file(dir / "bad", dir / "out", key, chain::as_bytes("ad"));
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message.find("chunk 5"), std::string::npos) << o.error().message;
  EXPECT_FALSE(fs::exists(dir / "out"));
  EXPECT_EQ(entries(dir.path()), before) << "a temporary file was left behind";
}

TEST(VaultFiles, OpenRefusesToOverwriteUnlessAsked) {
  TempDir dir;
  const auto key = DataKey::generate();
  write_bytes(dir / "plain", pattern(10));
  ASSERT_TRUE(seal_file(dir / "plain", dir / "blob", key, {}, SealOptions{kChunk}).ok());
  write_bytes(dir / "out", pattern(3));
  auto o = open_file(dir / "blob", dir / "out", key, {});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(read_bytes(dir / "out"), pattern(3));
  ASSERT_TRUE(open_file(dir / "blob", dir / "out", key, {}, OpenOptions{true, std::nullopt}).ok());
  EXPECT_EQ(read_bytes(dir / "out"), pattern(10));
}

TEST(VaultFiles, OpenChecksTheRecordedBlobHash) {
  TempDir dir;
  const auto key = DataKey::generate();
  write_bytes(dir / "plain", pattern(300));
  auto s = seal_file(dir / "plain", dir / "blob", key, {}, SealOptions{kChunk});
  ASSERT_TRUE(s.ok());
  auto wrong =
      open_file(dir / "blob", dir / "out", key, {}, OpenOptions{false, chain::sha256("x")});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(code_of(wrong.error()), VaultErrc::tampered);
  EXPECT_FALSE(fs::exists(dir / "out"));
  EXPECT_TRUE(
      open_file(dir / "blob", dir / "out", key, {}, OpenOptions{false, s->blob_sha256}).ok());
}

TEST(VaultFiles, MissingInputIsAnErrorNamingIt) {
  TempDir dir;
  auto o = open_file(dir / "nope", dir / "out", DataKey::generate(), {});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message.find("nope"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "out"));
}

}  // namespace
}  // namespace baton::storage

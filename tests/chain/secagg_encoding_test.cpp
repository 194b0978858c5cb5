// The byte-level parts of secure aggregation (secagg/secagg.h, PROTOCOL
// §21.4): the fixed-point encoding and its overflow bound, the uniformity of
// one masked upload, the masked upload object and the model blob reader,
// each decoder fed what a hostile partner could send.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "chain/training.h"
#include "secagg/secagg.h"

namespace baton::secagg {
namespace {

const chain::RoundBinding kBinding{"test-chain", "run-u", 0};
constexpr double kOne = 1 << kFracBits;  // 2^24

std::int64_t signed_of(std::uint64_t q) { return static_cast<std::int64_t>(q); }

// ---- Fixed point ----

TEST(SecaggFixedPoint, ScalesByWeightAndTwoToTheTwentyFour) {
  const std::vector<float> head = {1.0f, 1.0f, -2.0f, 0.0f};
  const std::vector<float> trained = {1.5f, 0.75f, -2.0f, 0.001f};
  const auto enc = encode_update(head, trained, 3);
  EXPECT_EQ(signed_of(enc.values[0]), static_cast<std::int64_t>(0.5 * 3 * kOne));
  EXPECT_EQ(signed_of(enc.values[1]), static_cast<std::int64_t>(-0.25 * 3 * kOne));
  EXPECT_EQ(enc.values[2], 0u);
  EXPECT_EQ(signed_of(enc.values[3]),
            std::llround(static_cast<double>(0.001f) * 3 * kOne));  // not a tie
  EXPECT_EQ(enc.values[1], static_cast<std::uint64_t>(-12582912));  // two's complement
  EXPECT_EQ(enc.clipped, 0u);
  EXPECT_EQ(enc.non_finite, 0u);
}

TEST(SecaggFixedPoint, ClipsAtSixtyFour) {
  const std::vector<float> head = {0, 0, 0, 0, 10};
  const std::vector<float> trained = {64.0f, -64.0f, 64.5f, -1e30f, 1e38f};
  const auto enc = encode_update(head, trained, 2);
  const auto max = static_cast<std::int64_t>(64 * 2 * kOne);
  EXPECT_EQ(signed_of(enc.values[0]), max);  // exactly 64: kept
  EXPECT_EQ(signed_of(enc.values[1]), -max);
  EXPECT_EQ(signed_of(enc.values[2]), max);  // clipped
  EXPECT_EQ(signed_of(enc.values[3]), -max);
  EXPECT_EQ(signed_of(enc.values[4]), max);
  EXPECT_EQ(enc.clipped, 3u);
}

TEST(SecaggFixedPoint, RoundsHalfToEven) {
  // δ · 2^24 = k + 1/2 exactly, with w = 1: 2^-25 is 0.5 units.
  const float half = std::ldexp(1.0f, -25);
  const std::vector<float> head(8, 0.0f);
  const std::vector<float> trained = {half,  3 * half,  5 * half,  7 * half,
                                      -half, -3 * half, -5 * half, std::ldexp(1.0f, -26)};
  const auto enc = encode_update(head, trained, 1);
  const std::vector<std::int64_t> want = {0, 2, 2, 4, 0, -2, -2, 0};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(signed_of(enc.values[i]), want[i]) << i;
  // With weight 3, 2^-25 · 3 = 1.5 units: to 2.
  EXPECT_EQ(signed_of(encode_update(std::vector<float>{0}, std::vector<float>{half}, 3).values[0]),
            2);
}

TEST(SecaggFixedPoint, NonFiniteEncodesAsZeroAndIsCounted) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> head = {0, nan, inf, 1, inf};
  const std::vector<float> trained = {nan, 1, 1, -inf, inf};  // inf - inf is NaN
  const auto enc = encode_update(head, trained, 5);
  for (auto q : enc.values) EXPECT_EQ(q, 0u);
  EXPECT_EQ(enc.non_finite, 5u);
  EXPECT_EQ(enc.clipped, 0u);
}

// 64 partners at the largest weight and the largest delta, both signs: the
// signed sum is ±2^56, exact, and the aggregate moves the head by exactly 64.
TEST(SecaggFixedPoint, SixtyFourPartnersAtTheBoundDoNotOverflow) {
  const std::vector<float> head = {0.5f, -3.0f};
  const std::vector<float> up = {1e6f, -1e6f};
  std::vector<std::vector<std::uint64_t>> encoded;
  for (std::size_t p = 0; p < chain::kMaxFederatedPartners; ++p) {
    encoded.push_back(encode_update(head, up, chain::kMaxRoundWeight).values);
  }
  const auto sum = plain_sum(encoded);
  EXPECT_EQ(signed_of(sum[0]), std::int64_t{1} << 56);
  EXPECT_EQ(signed_of(sum[1]), -(std::int64_t{1} << 56));
  const auto model =
      apply_aggregate(head, sum, chain::kMaxFederatedPartners * chain::kMaxRoundWeight);
  EXPECT_EQ(model[0], 64.5f);
  EXPECT_EQ(model[1], -67.0f);
}

TEST(SecaggFixedPoint, ApplyAggregateIsTheWeightedMean) {
  const std::vector<float> head = {1.0f, 2.0f};
  // Partner A: δ = (+1, -1) with weight 1; partner B: δ = (+4, +2) with weight 3.
  const auto a = encode_update(head, std::vector<float>{2.0f, 1.0f}, 1).values;
  const auto b = encode_update(head, std::vector<float>{5.0f, 4.0f}, 3).values;
  const std::vector<std::vector<std::uint64_t>> both = {a, b};
  const auto model = apply_aggregate(head, plain_sum(both), 4);
  EXPECT_EQ(model[0], 1.0f + (1.0f * 1 + 4.0f * 3) / 4);
  EXPECT_EQ(model[1], 2.0f + (-1.0f * 1 + 2.0f * 3) / 4);
}

// ---- One masked upload looks uniform ----

// Pearson's chi-square of the top byte of each word over 256 bins.
double top_byte_chi_square(const std::vector<std::uint64_t>& words, int shift) {
  std::vector<double> bins(256, 0);
  for (auto w : words) bins[(w >> shift) & 0xFF] += 1;
  const double expected = static_cast<double>(words.size()) / 256;
  double chi = 0;
  for (double c : bins) chi += (c - expected) * (c - expected) / expected;
  return chi;
}

// The largest |z| of the 64 bit positions' frequencies of ones.
double worst_bit_z(const std::vector<std::uint64_t>& words) {
  double worst = 0;
  const double n = static_cast<double>(words.size());
  for (int b = 0; b < 64; ++b) {
    double ones = 0;
    for (auto w : words) ones += static_cast<double>((w >> b) & 1);
    worst = std::max(worst, std::abs(ones - n / 2) / std::sqrt(n / 4));
  }
  return worst;
}

// Significance 0.001: chi-square with 255 degrees of freedom above 330.52;
// for the 64 bit frequencies, Bonferroni 0.001/64 two-sided, |z| above 4.32.
constexpr double kChiSquareCritical = 330.52;
constexpr double kBitZCritical = 4.32;

bool looks_uniform(const std::vector<std::uint64_t>& words) {
  return top_byte_chi_square(words, 56) < kChiSquareCritical &&
         top_byte_chi_square(words, 0) < kChiSquareCritical && worst_bit_z(words) < kBitZCritical;
}

TEST(SecaggUniformity, OneMaskedUploadPassesAndTheUnmaskedUpdateFails) {
  constexpr std::size_t kValues = 100'000;
  std::vector<chain::X25519SecretKey> keys;
  std::vector<RoundSecrets> secrets;
  std::map<std::uint32_t, Hash> sharers;
  for (std::uint32_t r = 0; r < 4; ++r) {
    keys.push_back(chain::X25519SecretKey::from_bytes(
                       chain::sha256("uniformity partner " + std::to_string(r)).view())
                       .value());
    secrets.push_back(derive_round_secrets(keys.back(), kBinding));
    sharers[r] = secrets.back().ephemeral_public;
  }
  const std::vector<std::uint64_t> zeros(kValues, 0);
  auto masked_zero = mask_update(zeros, secrets[1], 1, sharers, kBinding);
  ASSERT_TRUE(masked_zero.ok());
  EXPECT_TRUE(looks_uniform(*masked_zero))
      << top_byte_chi_square(*masked_zero, 56) << " " << worst_bit_z(*masked_zero);

  // A realistic update: small steps, masked and not.
  std::mt19937_64 rng(11);
  std::normal_distribution<float> step(0.0f, 0.01f);
  std::vector<float> head(kValues, 0.25f), trained(kValues);
  for (std::size_t i = 0; i < kValues; ++i) trained[i] = head[i] + step(rng);
  const auto enc = encode_update(head, trained, 300);
  auto masked = mask_update(enc.values, secrets[1], 1, sharers, kBinding);
  ASSERT_TRUE(masked.ok());
  EXPECT_TRUE(looks_uniform(*masked));

  // Even knowing b_u (the aggregator learns it when u uploads), the pair
  // masks still hide the update.
  auto without_self = *masked;
  add_mask(without_self, secrets[1].self_seed, -1);
  EXPECT_TRUE(looks_uniform(without_self));

  // The test can fail: the same update with its masks removed does, far
  // beyond the critical value, and so do the zeros.
  auto unmasked = *masked;
  add_mask(unmasked, secrets[1].self_seed, -1);
  for (std::uint32_t v : {0u, 2u, 3u}) {
    const auto seed = pair_seed(secrets[1].ephemeral_secret, sharers[v], kBinding, 1, v).value();
    add_mask(unmasked, seed, v > 1 ? -1 : +1);
  }
  ASSERT_EQ(unmasked, enc.values);
  EXPECT_FALSE(looks_uniform(unmasked));
  EXPECT_GT(top_byte_chi_square(unmasked, 56), 100 * kChiSquareCritical);
  EXPECT_FALSE(looks_uniform(zeros));
  // And a mask that is not uniform (a counter) fails too.
  std::vector<std::uint64_t> counter(kValues);
  for (std::size_t i = 0; i < kValues; ++i) counter[i] = enc.values[i] + (i << 40);
  EXPECT_FALSE(looks_uniform(counter));
}

// ---- The masked upload object ----

TEST(SecaggMaskedUpload, RoundTripsWithTheDocumentedBytes) {
  const std::vector<std::uint64_t> values = {1, 0x0102030405060708ull};
  const Bytes object = encode_masked_upload(values);
  EXPECT_EQ(object.size(), masked_upload_size(2));
  EXPECT_EQ(chain::to_hex(object),
            "4241544f4e4d534b"  // "BATONMSK"
            "01000000"          // version 1
            "0200000000000000"  // count 2
            "0100000000000000"
            "0807060504030201"  // values, LE
  );
  EXPECT_EQ(decode_masked_upload(object, 2).value(), values);
  EXPECT_TRUE(decode_masked_upload(encode_masked_upload({}), 0).ok());
}

TEST(SecaggMaskedUpload, RefusesWrongSizeHeaderOrCountBeforeAllocating) {
  const std::vector<std::uint64_t> values(10, 7);
  const Bytes object = encode_masked_upload(values);
  // Sizes one short, one long, and of another model.
  EXPECT_FALSE(decode_masked_upload(ByteView(object).first(object.size() - 1), 10).ok());
  Bytes longer = object;
  longer.push_back(0);
  EXPECT_FALSE(decode_masked_upload(longer, 10).ok());
  EXPECT_FALSE(decode_masked_upload(object, 11).ok());
  EXPECT_FALSE(decode_masked_upload(object, 9).ok());
  // A count the caller could never allocate is refused by size alone.
  EXPECT_FALSE(decode_masked_upload(object, std::size_t{1} << 61).ok());
  EXPECT_FALSE(decode_masked_upload(object, std::numeric_limits<std::size_t>::max()).ok());
  // Right size, wrong magic, version or declared count.
  for (std::size_t at : {0ul, 7ul, 8ul, 11ul, 12ul, 19ul}) {
    Bytes bad = object;
    bad[at] ^= 0x01;
    EXPECT_FALSE(decode_masked_upload(bad, 10).ok()) << at;
  }
  Bytes bad = object;
  bad[20] ^= 0x01;  // a value: still an upload (the hash on the ledger catches it)
  EXPECT_TRUE(decode_masked_upload(bad, 10).ok());
}

// ---- Model blobs (§17) without LibTorch ----

struct TensorSpec {
  std::string name;
  std::uint8_t dtype = 1;  // 1 float32, 2 int64
  std::vector<std::uint64_t> dims;
};

void put_le(Bytes& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A blob written per PROTOCOL §17; float values 0.5, 1.5, ... and int64
// values 7, 8, ... in blob order.
Bytes make_blob(const std::vector<TensorSpec>& tensors) {
  const std::string spec =
      R"({"architecture":"mlp","hidden":[3],"input_shape":[2],"num_classes":2})";
  Bytes out = {'B', 'A', 'T', 'O', 'N', 'M', 'D', 'L'};
  put_le(out, 1, 4);
  put_le(out, spec.size(), 4);
  out.insert(out.end(), spec.begin(), spec.end());
  put_le(out, tensors.size(), 4);
  float f = 0.5f;
  std::int64_t k = 7;
  for (const auto& t : tensors) {
    put_le(out, t.name.size(), 2);
    out.insert(out.end(), t.name.begin(), t.name.end());
    out.push_back(t.dtype);
    out.push_back(static_cast<std::uint8_t>(t.dims.size()));
    std::uint64_t count = 1;
    for (auto d : t.dims) {
      put_le(out, d, 8);
      count *= d;
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      if (t.dtype == 1) {
        put_le(out, std::bit_cast<std::uint32_t>(f), 4);
        f += 1.0f;
      } else {
        put_le(out, static_cast<std::uint64_t>(k++), 8);
      }
    }
  }
  return out;
}

// The MLP 2 -> 3 -> 1 with a batch-norm counter in the middle of the blob.
const std::vector<TensorSpec> kTensors = {
    {"hidden0.weight", 1, {3, 2}}, {"hidden0.bias", 1, {3}}, {"bn.num_batches_tracked", 2, {}},
    {"out.weight", 1, {1, 3}},     {"out.bias", 1, {1}},     {"empty", 1, {0, 5}}};

TEST(SecaggBlob, ReadsAndReplacesTheFloatValuesOnly) {
  const Bytes blob = make_blob(kTensors);
  const auto layout = blob_layout(blob);
  ASSERT_TRUE(layout.ok()) << layout.error().message;
  EXPECT_EQ(layout->float_count, 6u + 3 + 3 + 1);
  ASSERT_EQ(layout->floats.size(), 5u);
  EXPECT_EQ(layout->floats[0].count, 6u);
  EXPECT_EQ(layout->floats[4].count, 0u);
  const auto floats = blob_floats(blob).value();
  ASSERT_EQ(floats.size(), 13u);
  for (std::size_t i = 0; i < floats.size(); ++i) EXPECT_EQ(floats[i], 0.5f + i);

  std::vector<float> changed(floats.size());
  for (std::size_t i = 0; i < changed.size(); ++i) changed[i] = -1.25f * i;
  const Bytes replaced = blob_with_floats(blob, changed).value();
  ASSERT_EQ(replaced.size(), blob.size());
  EXPECT_EQ(blob_floats(replaced).value(), changed);
  // The int64 counter (7) and the header are the head's.
  EXPECT_EQ(make_blob(kTensors), blob_with_floats(replaced, floats).value());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < blob.size(); ++i) differing += blob[i] != replaced[i];
  EXPECT_LE(differing, 4u * 13);
  EXPECT_FALSE(blob_with_floats(blob, std::vector<float>(12)).ok());
  EXPECT_FALSE(blob_with_floats(blob, std::vector<float>(14)).ok());
}

// The whole path on a real blob: masked uploads, unmasked sum, aggregate,
// written back; equal to the plain path.
TEST(SecaggBlob, AggregateOfMaskedUploadsWritesTheSameBlobAsPlain) {
  const Bytes head_blob = make_blob(kTensors);
  const auto head = blob_floats(head_blob).value();
  std::map<std::uint32_t, Hash> sharers;
  std::vector<RoundSecrets> secrets;
  for (std::uint32_t r = 0; r < 3; ++r) {
    secrets.push_back(derive_round_secrets(
        chain::X25519SecretKey::from_bytes(chain::sha256("blob " + std::to_string(r)).view())
            .value(),
        kBinding));
    sharers[r] = secrets.back().ephemeral_public;
  }
  std::map<std::uint32_t, std::vector<std::uint64_t>> masked;
  std::map<std::uint32_t, Hash> seeds;
  std::vector<std::vector<std::uint64_t>> plain;
  for (std::uint32_t r = 0; r < 3; ++r) {
    std::vector<float> trained = head;
    for (std::size_t i = 0; i < trained.size(); ++i) trained[i] += 0.01f * (r + 1) * i;
    const auto enc = encode_update(head, trained, 10 + r);
    plain.push_back(enc.values);
    masked[r] = mask_update(enc.values, secrets[r], r, sharers, kBinding).value();
    seeds[r] = secrets[r].self_seed;
  }
  const auto sum = unmask_sum(masked, seeds, {}, sharers, kBinding).value();
  const auto secure = blob_with_floats(head_blob, apply_aggregate(head, sum, 33)).value();
  const auto reference =
      blob_with_floats(head_blob, apply_aggregate(head, plain_sum(plain), 33)).value();
  EXPECT_EQ(secure, reference);
  EXPECT_NE(secure, head_blob);
}

TEST(SecaggBlob, RefusesEveryTruncationAndTrailingBytes) {
  const Bytes blob = make_blob(kTensors);
  for (std::size_t len = 0; len < blob.size(); ++len) {
    EXPECT_FALSE(blob_layout(ByteView(blob).first(len)).ok()) << "prefix of " << len << " bytes";
  }
  Bytes trailing = blob;
  trailing.push_back(0);
  auto refused = blob_layout(trailing);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("after the last tensor"), std::string::npos);
  EXPECT_FALSE(blob_floats(trailing).ok());
  EXPECT_FALSE(blob_with_floats(trailing, std::vector<float>(13)).ok());
}

// Offsets into make_blob(kTensors)'s header: 8 magic, 4 version, 4 spec length.
constexpr std::size_t kSpecLenAt = 12;

TEST(SecaggBlob, RefusesHostileHeadersWithoutAllocating) {
  const Bytes blob = make_blob(kTensors);
  const std::size_t spec_len = blob[kSpecLenAt] | blob[kSpecLenAt + 1] << 8;
  const std::size_t count_at = 16 + spec_len;
  const auto with = [&](std::size_t at, std::uint64_t v, int bytes) {
    Bytes b = blob;
    for (int i = 0; i < bytes; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
    return b;
  };
  // Wrong magic and version.
  EXPECT_FALSE(blob_layout(with(0, 'X', 1)).ok());
  EXPECT_FALSE(blob_layout(with(8, 2, 4)).ok());
  // A spec length beyond 64 KiB, or beyond the blob.
  EXPECT_FALSE(blob_layout(with(kSpecLenAt, 0xFFFFFFFF, 4)).ok());
  EXPECT_FALSE(blob_layout(with(kSpecLenAt, 65537, 4)).ok());
  // A tensor count of 2^32-1: refused at once, before any tensor is read.
  auto huge = blob_layout(with(count_at, 0xFFFFFFFF, 4));
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().message.find("4294967295 tensors"), std::string::npos);
  // One tensor more or fewer than the blob holds.
  EXPECT_FALSE(blob_layout(with(count_at, kTensors.size() + 1, 4)).ok());
  EXPECT_FALSE(blob_layout(with(count_at, kTensors.size() - 1, 4)).ok());
  // First tensor: u16 name length, name, dtype, rank, dims.
  const std::size_t first = count_at + 4;
  const std::size_t dtype_at = first + 2 + kTensors[0].name.size();
  EXPECT_FALSE(blob_layout(with(dtype_at, 3, 1)).ok());        // unknown dtype
  EXPECT_FALSE(blob_layout(with(dtype_at, 2, 1)).ok());        // int64: sizes disagree
  EXPECT_FALSE(blob_layout(with(dtype_at + 1, 255, 1)).ok());  // rank 255
  EXPECT_FALSE(blob_layout(with(first, 0xFFFF, 2)).ok());      // name past the end
  // Dims whose product overflows 64 bits, or is just too large.
  const std::size_t dims_at = dtype_at + 2;
  EXPECT_FALSE(blob_layout(with(dims_at, std::uint64_t{1} << 62, 8)).ok());
  EXPECT_FALSE(blob_layout(with(dims_at + 8, std::uint64_t{1} << 63, 8)).ok());
  EXPECT_FALSE(blob_layout(with(dims_at, 0xFFFFFFFFFFFFFFFFull, 8)).ok());
  EXPECT_FALSE(blob_layout(with(dims_at, 4, 8)).ok());  // 4x2 where 3x2 are stored
  // A zero dim makes a tensor empty whatever the others say; the values it
  // no longer covers are then trailing bytes.
  Bytes empty_first = with(dims_at, 0, 8);
  EXPECT_FALSE(blob_layout(empty_first).ok());
  // An empty blob list of tensors is a valid (if useless) layout.
  const auto none = blob_layout(make_blob({}));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->float_count, 0u);
  // Huge dims alongside a zero dim: empty, not an overflow.
  const auto zero_huge = blob_layout(make_blob({{"z", 1, {0, 0xFFFFFFFFFFFFFFFFull}}}));
  ASSERT_TRUE(zero_huge.ok()) << zero_huge.error().message;
  EXPECT_EQ(zero_huge->float_count, 0u);
}

}  // namespace
}  // namespace baton::secagg

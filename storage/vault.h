// The vault: streaming AES-256-GCM encryption of model blobs
// (docs/PROTOCOL.md, "Vault blobs").
//
// A blob is a 56-byte header followed by chunks. Each chunk is up to
// `chunk_size` bytes of plaintext encrypted with AES-256-GCM under the model's
// data key, with a 12-byte nonce = 7-byte random prefix || u32 BE chunk index
// || final flag (0x00, or 0x01 on the last chunk), and associated data =
// header || caller's associated data. The header carries a commitment to the
// key, checked before anything is decrypted, so a wrong key is refused rather
// than "succeeding" into garbage. Truncation, reordering, duplication and
// appending all fail authentication; so does a blob moved to another place
// (other associated data).
//
// Memory: one chunk buffer (chunk_size + 17 bytes) per call, whatever the size.
// Thread-safety: functions are reentrant; a DataKey may be shared read-only.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "chain/crypto.h"
#include "chain/result.h"
#include "storage/byte_stream.h"

namespace baton::storage {

inline constexpr std::size_t kDataKeySize = 32;
inline constexpr std::size_t kBlobHeaderSize = 56;
inline constexpr std::size_t kChunkTagSize = 16;
inline constexpr std::uint32_t kDefaultChunkSize = 1u << 20;  // 1 MiB
inline constexpr std::uint32_t kMinChunkSize = 16;
inline constexpr std::uint32_t kMaxChunkSize = 64u << 20;

// Why a vault operation failed; carried in Error::code.
enum class VaultErrc : int {
  io = 1,             // reading the input or writing the output failed
  bad_header = 2,     // not a Baton blob, or an unsupported version / chunk size
  wrong_key = 3,      // the data key does not match the blob's key commitment
  tampered = 4,       // a chunk failed authentication (altered, reordered, other AD)
  truncated = 5,      // the blob ends before its final chunk
  bad_envelope = 6,   // the envelope is malformed or a wrapped key does not open
  not_recipient = 7,  // the envelope holds no key for this member
  invalid_argument = 8,
};

// A 256-bit AES data key, one per model. Held in chain::SecretBytes: locked
// in RAM, out of core dumps, wiped on destruction (chain/secret.h); never
// log it.
class DataKey {
 public:
  static DataKey generate();
  // Fails unless exactly 32 bytes.
  static Result<DataKey> from_bytes(ByteView bytes);
  DataKey(const DataKey&) = default;
  DataKey& operator=(const DataKey&) = default;
  ~DataKey();

  ByteView bytes() const { return key_.view(); }
  // SHA-256("baton/vault/key-commitment/v1" || 0x00 || key).
  std::array<std::uint8_t, 32> commitment() const;

 private:
  DataKey() = default;
  chain::SecretBytes<kDataKeySize> key_;
};

// The parsed fixed header of a blob.
struct BlobHeader {
  std::uint8_t version = 1;
  std::uint32_t chunk_size = kDefaultChunkSize;
  std::array<std::uint8_t, 7> nonce_prefix{};
  std::array<std::uint8_t, 32> key_commitment{};
};

std::array<std::uint8_t, kBlobHeaderSize> encode_blob_header(const BlobHeader& header);
// Refuses anything but a version-1 AES-256-GCM header with a chunk size in
// [kMinChunkSize, kMaxChunkSize] and zero reserved bytes (code bad_header).
Result<BlobHeader> parse_blob_header(ByteView bytes);

struct SealOptions {
  std::uint32_t chunk_size = kDefaultChunkSize;
  // Compute BlobSummary::blob_sha256 while sealing. SHA-256 is slower than
  // AES-GCM, so callers that hash elsewhere may turn it off.
  bool hash_blob = true;
};

struct BlobSummary {
  std::uint64_t plaintext_size = 0;
  std::uint64_t blob_size = 0;  // header + chunks
  chain::Hash
      blob_sha256;  // SHA-256 of the whole blob (what the chain records); zero if not computed
  std::uint64_t chunks = 0;
};

// The size of the blob that seal() makes of `plaintext_size` bytes: the
// header plus one tag per chunk (an empty plaintext still has one chunk).
std::uint64_t sealed_blob_size(std::uint64_t plaintext_size, std::uint32_t chunk_size);

// Encrypts `in` to `out`. A fresh random nonce prefix is drawn per call, so a
// key may seal more than one blob, but the node uses one key per model.
Result<BlobSummary> seal(ByteSource& in, ByteSink& out, const DataKey& key,
                         ByteView associated_data, const SealOptions& options = {});

// Decrypts `in` to `out`, authenticating each chunk before writing its
// plaintext. On failure `out` may already hold the authenticated chunks before
// the bad one: the caller must discard it (open_file does).
// `hash_blob` = false skips the blob's SHA-256 (blob_sha256 stays zero).
Result<BlobSummary> open(ByteSource& in, ByteSink& out, const DataKey& key,
                         ByteView associated_data, bool hash_blob = true);

struct OpenOptions {
  bool overwrite = false;  // replace an existing output file
  // When set (the hash the ledger or the envelope records), the whole blob
  // must hash to it too, or nothing is written (code tampered). When unset
  // the blob is not hashed (the chunk tags still authenticate every byte).
  std::optional<chain::Hash> expected_blob_sha256;
};

// File versions. The output appears only on success (AtomicFile), mode 0600
// for plaintext, 0644 for blobs; `overwrite` = false refuses an existing path.
Result<BlobSummary> seal_file(const std::filesystem::path& in, const std::filesystem::path& out,
                              const DataKey& key, ByteView associated_data,
                              const SealOptions& options = {}, bool overwrite = false);
Result<BlobSummary> open_file(const std::filesystem::path& in, const std::filesystem::path& out,
                              const DataKey& key, ByteView associated_data,
                              const OpenOptions& options = {});

// The associated data the node binds a model blob to:
//   "baton/vault/ad/v1" || 0x00 || u32 BE len || chain_id || u32 BE len || model_id
//   || u32 BE len || parent_model_id        (parent empty for the first model)
chain::Bytes model_associated_data(std::string_view chain_id, std::string_view model_id,
                                   std::string_view parent_model_id);

}  // namespace baton::storage

// AES-256-GCM comes from OpenSSL's EVP interface: it is a Debian package we
// already link, it uses AES-NI/VAES and carry-less multiply where the CPU has
// them (libsodium's AES-GCM refuses to run without AES-NI and has no VAES
// path), and it is the same code `openssl speed` measures, which makes the
// benchmark comparison direct. The blob hash uses OpenSSL's SHA-256 for the
// same reason (SHA-NI; libsodium's SHA-256 is portable C).
#include "storage/vault.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace baton::storage {

namespace {

constexpr std::array<std::uint8_t, 8> kMagic = {'B', 'A', 'T', 'O', 'N', 'V', 'L', 'T'};
constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kCipherAes256Gcm = 1;
constexpr std::string_view kCommitDomain = "baton/vault/key-commitment/v1";
constexpr std::string_view kAdDomain = "baton/vault/ad/v1";

Error vault_error(VaultErrc code, std::string message) {
  return make_error(std::move(message), static_cast<int>(code));
}

void put_u32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

std::uint32_t get_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// SHA-256 over the blob bytes as they stream past.
// Disabled, it does nothing and finishes to the zero hash.
class BlobHasher {
 public:
  explicit BlobHasher(bool enabled) {
    if (enabled) hasher_.emplace();
  }
  void update(ByteView b) {
    if (hasher_) hasher_->update(b);
  }
  chain::Hash finish() { return hasher_ ? hasher_->finish() : chain::Hash{}; }

 private:
  std::optional<Sha256Hasher> hasher_;
};

// One AES-256-GCM key schedule reused for every chunk of a blob.
class ChunkCipher {
 public:
  ChunkCipher(const DataKey& key, bool encrypt,
              const std::array<std::uint8_t, kBlobHeaderSize>& header, ByteView associated_data)
      : ctx_(EVP_CIPHER_CTX_new()) {
    if (!ctx_) std::abort();
    const int ok = encrypt ? EVP_EncryptInit_ex(ctx_.get(), EVP_aes_256_gcm(), nullptr,
                                                key.bytes().data(), nullptr)
                           : EVP_DecryptInit_ex(ctx_.get(), EVP_aes_256_gcm(), nullptr,
                                                key.bytes().data(), nullptr);
    if (ok != 1) std::abort();
    aad_.reserve(header.size() + associated_data.size());
    aad_.insert(aad_.end(), header.begin(), header.end());
    aad_.insert(aad_.end(), associated_data.begin(), associated_data.end());
    std::memcpy(nonce_.data(), header.data() + 16, 7);
  }

  // Encrypts `data` in place and writes the tag to `tag`.
  void seal(std::span<std::uint8_t> data, std::uint32_t index, bool final, std::uint8_t* tag) {
    set_nonce(index, final);
    int n = 0;
    if (EVP_EncryptInit_ex(ctx_.get(), nullptr, nullptr, nullptr, nonce_.data()) != 1 ||
        EVP_EncryptUpdate(ctx_.get(), nullptr, &n, aad_.data(), static_cast<int>(aad_.size())) !=
            1 ||
        (!data.empty() && EVP_EncryptUpdate(ctx_.get(), data.data(), &n, data.data(),
                                            static_cast<int>(data.size())) != 1) ||
        EVP_EncryptFinal_ex(ctx_.get(), data.data() + data.size(), &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_GCM_GET_TAG, kChunkTagSize, tag) != 1) {
      std::abort();  // OpenSSL failing on valid sizes is a bug, not an input problem.
    }
  }

  // Decrypts `data` in place; false when the tag does not verify (the
  // contents of `data` are then garbage and must not be used).
  bool open(std::span<std::uint8_t> data, std::uint32_t index, bool final,
            const std::uint8_t* tag) {
    set_nonce(index, final);
    int n = 0;
    std::array<std::uint8_t, kChunkTagSize> t{};
    std::memcpy(t.data(), tag, t.size());
    if (EVP_DecryptInit_ex(ctx_.get(), nullptr, nullptr, nullptr, nonce_.data()) != 1 ||
        EVP_DecryptUpdate(ctx_.get(), nullptr, &n, aad_.data(), static_cast<int>(aad_.size())) !=
            1 ||
        (!data.empty() && EVP_DecryptUpdate(ctx_.get(), data.data(), &n, data.data(),
                                            static_cast<int>(data.size())) != 1) ||
        EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_GCM_SET_TAG, kChunkTagSize, t.data()) != 1) {
      std::abort();
    }
    return EVP_DecryptFinal_ex(ctx_.get(), data.data() + data.size(), &n) == 1;
  }

 private:
  void set_nonce(std::uint32_t index, bool final) {
    put_u32(nonce_.data() + 7, index);
    nonce_[11] = final ? 1 : 0;
  }

  CipherCtx ctx_;
  std::vector<std::uint8_t> aad_;
  std::array<std::uint8_t, 12> nonce_{};
};

}  // namespace

DataKey DataKey::generate() {
  DataKey k;
  chain::random_bytes({k.key_.data(), k.key_.size()});
  return k;
}

Result<DataKey> DataKey::from_bytes(ByteView bytes) {
  if (bytes.size() != kDataKeySize) {
    return vault_error(VaultErrc::invalid_argument,
                       "a data key is 32 bytes, got " + std::to_string(bytes.size()));
  }
  DataKey k;
  std::memcpy(k.key_.data(), bytes.data(), kDataKeySize);
  return k;
}

DataKey::~DataKey() = default;  // SecretBytes wipes and frees the key

std::array<std::uint8_t, 32> DataKey::commitment() const {
  Bytes msg(kCommitDomain.begin(), kCommitDomain.end());
  msg.push_back(0);
  msg.insert(msg.end(), key_.data(), key_.data() + key_.size());
  const auto h = chain::sha256(msg);
  sodium_memzero(msg.data(), msg.size());
  return h.bytes;
}

std::array<std::uint8_t, kBlobHeaderSize> encode_blob_header(const BlobHeader& header) {
  std::array<std::uint8_t, kBlobHeaderSize> out{};
  std::memcpy(out.data(), kMagic.data(), kMagic.size());
  out[8] = header.version;
  out[9] = kCipherAes256Gcm;
  put_u32(out.data() + 12, header.chunk_size);
  std::memcpy(out.data() + 16, header.nonce_prefix.data(), 7);
  std::memcpy(out.data() + 24, header.key_commitment.data(), 32);
  return out;
}

Result<BlobHeader> parse_blob_header(ByteView bytes) {
  if (bytes.size() < kBlobHeaderSize) {
    return vault_error(
        VaultErrc::bad_header,
        "the input is " + std::to_string(bytes.size()) +
            " bytes, shorter than a Baton blob header (56 bytes); it is not a sealed blob");
  }
  if (std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
    return vault_error(VaultErrc::bad_header,
                       "the input does not start with \"BATONVLT\"; it is not a Baton blob");
  }
  if (bytes[8] != kVersion) {
    return vault_error(VaultErrc::bad_header, "blob format version " + std::to_string(bytes[8]) +
                                                  " is not supported (this build reads version 1)");
  }
  if (bytes[9] != kCipherAes256Gcm) {
    return vault_error(VaultErrc::bad_header, "blob cipher id " + std::to_string(bytes[9]) +
                                                  " is not supported (1 = AES-256-GCM)");
  }
  if (bytes[10] != 0 || bytes[11] != 0 || bytes[23] != 0) {
    return vault_error(VaultErrc::bad_header,
                       "blob header reserved bytes are not zero; the header is damaged");
  }
  BlobHeader h;
  h.version = bytes[8];
  h.chunk_size = get_u32(bytes.data() + 12);
  if (h.chunk_size < kMinChunkSize || h.chunk_size > kMaxChunkSize) {
    return vault_error(VaultErrc::bad_header,
                       "blob chunk size " + std::to_string(h.chunk_size) +
                           " is outside 16 B .. 64 MiB; the header is damaged");
  }
  std::memcpy(h.nonce_prefix.data(), bytes.data() + 16, 7);
  std::memcpy(h.key_commitment.data(), bytes.data() + 24, 32);
  return h;
}

std::uint64_t sealed_blob_size(std::uint64_t plaintext_size, std::uint32_t chunk_size) {
  const std::uint64_t chunk = std::max<std::uint32_t>(chunk_size, 1);  // seal() refuses 0
  const std::uint64_t chunks = plaintext_size == 0 ? 1 : (plaintext_size + chunk - 1) / chunk;
  return kBlobHeaderSize + plaintext_size + chunks * kChunkTagSize;
}

Result<BlobSummary> seal(ByteSource& in, ByteSink& out, const DataKey& key,
                         ByteView associated_data, const SealOptions& options) {
  if (options.chunk_size < kMinChunkSize || options.chunk_size > kMaxChunkSize) {
    return vault_error(
        VaultErrc::invalid_argument,
        "chunk size " + std::to_string(options.chunk_size) + " is outside 16 B .. 64 MiB");
  }
  BlobHeader h;
  h.chunk_size = options.chunk_size;
  chain::random_bytes(h.nonce_prefix);
  h.key_commitment = key.commitment();
  const auto header = encode_blob_header(h);

  BlobSummary summary;
  BlobHasher hasher(options.hash_blob);
  if (auto st = out.write(header); !st) return vault_error(VaultErrc::io, st.error().message);
  hasher.update(header);
  summary.blob_size = header.size();

  ChunkCipher cipher(key, true, header, associated_data);
  const std::size_t chunk = options.chunk_size;
  // One chunk plus its tag, plus one byte of look-ahead to learn whether the
  // chunk just read is the last.
  std::vector<std::uint8_t> buf(chunk + kChunkTagSize + 1);
  auto got = read_full(in, std::span(buf.data(), chunk + 1));
  if (!got) return vault_error(VaultErrc::io, got.error().message);
  std::size_t have = *got;
  for (std::uint64_t index = 0;; ++index) {
    if (index > 0xFFFFFFFFull)
      return vault_error(VaultErrc::invalid_argument, "input too large for one blob (2^32 chunks)");
    const bool final = have <= chunk;
    const std::size_t len = final ? have : chunk;
    std::uint8_t carry = final ? 0 : buf[chunk];
    cipher.seal(std::span(buf.data(), len), static_cast<std::uint32_t>(index), final,
                buf.data() + len);
    const ByteView record(buf.data(), len + kChunkTagSize);
    if (auto st = out.write(record); !st) return vault_error(VaultErrc::io, st.error().message);
    hasher.update(record);
    summary.blob_size += record.size();
    summary.plaintext_size += len;
    summary.chunks = index + 1;
    if (final) break;
    buf[0] = carry;
    got = read_full(in, std::span(buf.data() + 1, chunk));
    if (!got) return vault_error(VaultErrc::io, got.error().message);
    have = 1 + *got;
  }
  summary.blob_sha256 = hasher.finish();
  return summary;
}

Result<BlobSummary> open(ByteSource& in, ByteSink& out, const DataKey& key,
                         ByteView associated_data, bool hash_blob) {
  std::array<std::uint8_t, kBlobHeaderSize> header{};
  auto got = read_full(in, header);
  if (!got) return vault_error(VaultErrc::io, got.error().message);
  auto h = parse_blob_header(ByteView(header.data(), *got));
  if (!h) return h.error();
  if (sodium_memcmp(h->key_commitment.data(), key.commitment().data(), 32) != 0) {
    return vault_error(
        VaultErrc::wrong_key,
        "the data key does not match this blob's key commitment: the envelope belongs to another "
        "blob, or the blob was replaced");
  }
  BlobSummary summary;
  BlobHasher hasher(hash_blob);
  hasher.update(header);
  summary.blob_size = header.size();

  ChunkCipher cipher(key, false, header, associated_data);
  const std::size_t record = std::size_t{h->chunk_size} + kChunkTagSize;
  std::vector<std::uint8_t> buf(record + 1);
  got = read_full(in, std::span(buf.data(), record + 1));
  if (!got) return vault_error(VaultErrc::io, got.error().message);
  std::size_t have = *got;
  for (std::uint64_t index = 0;; ++index) {
    if (index > 0xFFFFFFFFull)
      return vault_error(VaultErrc::tampered, "the blob has more than 2^32 chunks; it is damaged");
    const bool final = have <= record;
    const std::size_t len = final ? have : record;
    if (len < kChunkTagSize) {
      return vault_error(VaultErrc::truncated, "the blob ends inside chunk " +
                                                   std::to_string(index) +
                                                   "'s tag; it is truncated. Download it again");
    }
    const std::uint8_t carry = final ? 0 : buf[record];
    hasher.update(ByteView(buf.data(), len));
    const std::size_t plain = len - kChunkTagSize;
    std::uint8_t* tag = buf.data() + plain;
    if (!cipher.open(std::span(buf.data(), plain), static_cast<std::uint32_t>(index), final, tag)) {
      if (final) {
        // Distinguish "cut after a complete chunk" from other damage: the
        // same bytes authenticate as a non-final chunk. (`buf` was decrypted
        // in place, so re-encrypting restores the ciphertext first.)
        std::array<std::uint8_t, kChunkTagSize> scratch{};
        ChunkCipher enc(key, true, header, associated_data);
        enc.seal(std::span(buf.data(), plain), static_cast<std::uint32_t>(index), true,
                 scratch.data());
        if (plain == h->chunk_size && cipher.open(std::span(buf.data(), plain),
                                                  static_cast<std::uint32_t>(index), false, tag)) {
          return vault_error(VaultErrc::truncated,
                             "the blob ends after chunk " + std::to_string(index) +
                                 " without its final chunk; it is truncated. Download it again");
        }
      }
      return vault_error(
          VaultErrc::tampered,
          "chunk " + std::to_string(index) +
              " of the blob failed authentication: the blob was altered, truncated, reordered, or "
              "sealed for another place (associated data); it was refused");
    }
    if (auto st = out.write(ByteView(buf.data(), plain)); !st)
      return vault_error(VaultErrc::io, st.error().message);
    summary.blob_size += len;
    summary.plaintext_size += plain;
    summary.chunks = index + 1;
    if (final) break;
    buf[0] = carry;
    got = read_full(in, std::span(buf.data() + 1, record));
    if (!got) return vault_error(VaultErrc::io, got.error().message);
    have = 1 + *got;
  }
  summary.blob_sha256 = hasher.finish();
  return summary;
}

Result<BlobSummary> seal_file(const std::filesystem::path& in, const std::filesystem::path& out,
                              const DataKey& key, ByteView associated_data,
                              const SealOptions& options, bool overwrite) {
  auto src = FileSource::open(in);
  if (!src) return vault_error(VaultErrc::io, src.error().message);
  auto dst = AtomicFile::create(out, overwrite, 0644);
  if (!dst) return vault_error(VaultErrc::io, dst.error().message);
  auto summary = seal(**src, **dst, key, associated_data, options);
  if (!summary) return summary;
  if (auto st = (*dst)->commit(); !st) return vault_error(VaultErrc::io, st.error().message);
  return summary;
}

Result<BlobSummary> open_file(const std::filesystem::path& in, const std::filesystem::path& out,
                              const DataKey& key, ByteView associated_data,
                              const OpenOptions& options) {
  auto src = FileSource::open(in);
  if (!src) return vault_error(VaultErrc::io, src.error().message);
  auto dst = AtomicFile::create(out, options.overwrite, 0600);
  if (!dst) return vault_error(VaultErrc::io, dst.error().message);
  auto summary = open(**src, **dst, key, associated_data, options.expected_blob_sha256.has_value());
  if (!summary) return summary;  // `dst` is discarded by its destructor
  if (options.expected_blob_sha256 && summary->blob_sha256 != *options.expected_blob_sha256) {
    return vault_error(VaultErrc::tampered, "the blob's SHA-256 " + summary->blob_sha256.hex() +
                                                " is not the recorded " +
                                                options.expected_blob_sha256->hex() +
                                                "; it is another blob. Nothing was written");
  }
  if (auto st = (*dst)->commit(); !st) return vault_error(VaultErrc::io, st.error().message);
  return summary;
}

chain::Bytes model_associated_data(std::string_view chain_id, std::string_view model_id,
                                   std::string_view parent_model_id) {
  chain::Bytes out(kAdDomain.begin(), kAdDomain.end());
  out.push_back(0);
  for (std::string_view part : {chain_id, model_id, parent_model_id}) {
    std::uint8_t len[4];
    put_u32(len, static_cast<std::uint32_t>(part.size()));
    out.insert(out.end(), len, len + 4);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

}  // namespace baton::storage

// Byte sources and sinks the vault and the object stores stream through, so
// that memory stays bounded whatever the size of a blob. Files are read and
// written with plain POSIX calls; memory versions exist for tests and for
// small objects.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "chain/crypto.h"
#include "chain/result.h"

namespace baton::storage {

using chain::Bytes;
using chain::ByteView;

// Something to read bytes from, front to back. Not thread-safe.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to out.size() bytes; returns how many were read, 0 at the end.
  // A short read does not mean the end: only 0 does.
  virtual Result<std::size_t> read(std::span<std::uint8_t> out) = 0;
};

// Something to append bytes to. Not thread-safe.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status write(ByteView data) = 0;
};

// Reads until `out` is full or the source ends; returns the bytes read.
Result<std::size_t> read_full(ByteSource& source, std::span<std::uint8_t> out);

class MemorySource final : public ByteSource {
 public:
  // `data` must outlive the source.
  explicit MemorySource(ByteView data) : data_(data) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override;

 private:
  ByteView data_;
  std::size_t pos_ = 0;
};

class MemorySink final : public ByteSink {
 public:
  Status write(ByteView data) override;
  // Reserves room for `bytes` in all, so that writing a blob of known size
  // does not copy it again at every reallocation.
  void reserve(std::size_t bytes) { bytes_.reserve(bytes); }
  const Bytes& bytes() const { return bytes_; }
  Bytes take() { return std::move(bytes_); }

 private:
  Bytes bytes_;
};

// Incremental SHA-256 with OpenSSL (SHA-NI where the CPU has it, ~5x
// libsodium's portable code that chain::Sha256Stream uses), for streams the
// size of a model blob. The same digest as chain::sha256. Not thread-safe.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void update(ByteView data);
  // Once; the hasher is spent afterwards.
  chain::Hash finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Passes reads through from `inner` and hashes every byte read, so a stream is
// hashed in the same pass that consumes it. `inner` must outlive this.
class HashingSource final : public ByteSource {
 public:
  explicit HashingSource(ByteSource& inner) : inner_(inner) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override;
  // SHA-256 of the bytes read so far (all of them once read() returned 0).
  chain::Hash finish() { return hasher_.finish(); }

 private:
  ByteSource& inner_;
  Sha256Hasher hasher_;
};

// Passes writes through to `inner` and hashes every byte written.
class HashingSink final : public ByteSink {
 public:
  explicit HashingSink(ByteSink& inner) : inner_(inner) {}
  Status write(ByteView data) override;
  chain::Hash finish() { return hasher_.finish(); }

 private:
  ByteSink& inner_;
  Sha256Hasher hasher_;
};

// Reads a regular file. Errors name the file.
class FileSource final : public ByteSource {
 public:
  static Result<std::unique_ptr<FileSource>> open(const std::filesystem::path& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  Result<std::size_t> read(std::span<std::uint8_t> out) override;
  std::uint64_t size() const { return size_; }
  int fd() const { return fd_; }

 private:
  FileSource(int fd, std::filesystem::path path, std::uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  int fd_ = -1;
  std::filesystem::path path_;
  std::uint64_t size_ = 0;
};

// A file that appears at its path only when commit() succeeds: until then the
// bytes go to an anonymous (O_TMPFILE) or hidden temporary file in the same
// directory, which is removed if the AtomicFile is destroyed uncommitted. A
// process killed before commit() leaves no file at `path` (and, where the file
// system supports O_TMPFILE, nothing at all).
//
// Safe for secrets in a directory other users can write: the temporary file
// is created by this process, exclusively and with mode 0600 (an anonymous
// O_TMPFILE inode, or mkostemp's random name), so nobody else can own it,
// open it or plant it; its final mode is set with fchmod before it gets a
// name, and a failure to set it fails the commit. Without `overwrite` the
// final name is created with linkat/link, which never replace or follow what
// is already there. Every writer of key material (tools' write_file_atomic,
// the vault) goes through this class.
class AtomicFile final : public ByteSink {
 public:
  // Fails when the directory is missing or, unless `overwrite`, when `path`
  // already exists. `mode` is applied to the final file.
  static Result<std::unique_ptr<AtomicFile>> create(const std::filesystem::path& path,
                                                    bool overwrite, unsigned mode = 0644);
  ~AtomicFile() override;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  Status write(ByteView data) override;
  // Writes at an absolute offset (thread-safe with other pwrite calls; used by
  // parallel ranged downloads). Do not mix with write().
  Status pwrite(ByteView data, std::uint64_t offset);
  // fsync, then link/rename into place, then fsync the directory.
  Status commit();
  // Removes the temporary file; the path is left as it was. Idempotent.
  void discard();
  const std::filesystem::path& path() const { return path_; }

 private:
  AtomicFile() = default;
  int fd_ = -1;
  std::filesystem::path path_;
  std::filesystem::path temp_;  // empty when O_TMPFILE is used
  bool overwrite_ = false;
  unsigned mode_ = 0644;
  bool done_ = false;
};

// Replaces `path` durably with `contents`, mode 0600 (AtomicFile: exclusive
// temporary file + fsync + rename + directory fsync). Used for small records
// rewritten in place: the node's signer state, the partner agent's journal.
Status write_file_durably(const std::filesystem::path& path, std::string_view contents);

// Reads the whole file; nullopt when it does not exist.
Result<std::optional<std::string>> read_file_if_exists(const std::filesystem::path& path);

}  // namespace baton::storage

#include "storage/byte_stream.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "chain/crypto.h"

namespace baton::storage {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int e) { return std::strerror(e); }

Status fsync_directory(const fs::path& dir) {
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return make_error("cannot open directory " + dir.string() +
                      " to flush it: " + errno_text(errno));
  const int rc = ::fsync(dfd);
  const int e = errno;
  ::close(dfd);
  if (rc != 0) return make_error("cannot flush directory " + dir.string() + ": " + errno_text(e));
  return {};
}

// Gives the anonymous (O_TMPFILE) file `fd` the name `target`. Fails (-1,
// errno EEXIST) when anything is at `target`, a dangling symlink included:
// linkat never replaces or follows the new name.
int link_anonymous(int fd, const fs::path& target) {
  // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd works for anyone.
  if (::linkat(fd, "", AT_FDCWD, target.c_str(), AT_EMPTY_PATH) == 0) return 0;
  if (errno == EEXIST) return -1;
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  return ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW);
}

}  // namespace

Result<std::size_t> read_full(ByteSource& source, std::span<std::uint8_t> out) {
  std::size_t have = 0;
  while (have < out.size()) {
    auto n = source.read(out.subspan(have));
    if (!n) return n.error();
    if (*n == 0) break;
    have += *n;
  }
  return have;
}

Result<std::size_t> MemorySource::read(std::span<std::uint8_t> out) {
  const std::size_t n = std::min(out.size(), data_.size() - pos_);
  if (n > 0) std::memcpy(out.data(), data_.data() + pos_, n);
  pos_ += n;
  return n;
}

Status MemorySink::write(ByteView data) {
  bytes_.insert(bytes_.end(), data.begin(), data.end());
  return {};
}

// OpenSSL failing on valid memory is a bug or an exhausted heap, not an input
// problem: the hashers abort rather than return a wrong digest.
struct Sha256Hasher::Impl {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx{EVP_MD_CTX_new()};
};

Sha256Hasher::Sha256Hasher() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr) != 1) std::abort();
}

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::update(ByteView data) {
  if (!data.empty() && EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) != 1)
    std::abort();
}

chain::Hash Sha256Hasher::finish() {
  chain::Hash h;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), h.bytes.data(), &len) != 1 || len != h.bytes.size())
    std::abort();
  return h;
}

Result<std::size_t> HashingSource::read(std::span<std::uint8_t> out) {
  auto n = inner_.read(out);
  if (n && *n > 0) hasher_.update(ByteView(out.data(), *n));
  return n;
}

Status HashingSink::write(ByteView data) {
  if (auto st = inner_.write(data); !st) return st;
  hasher_.update(data);
  return {};
}

Result<std::unique_ptr<FileSource>> FileSource::open(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) return make_error("file " + path.string() + " does not exist");
    return make_error("cannot open " + path.string() + ": " + errno_text(e));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(path.string() + " is not a regular file");
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<FileSource>(
      new FileSource(fd, path, static_cast<std::uint64_t>(st.st_size)));
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::size_t> FileSource::read(std::span<std::uint8_t> out) {
  for (;;) {
    const ssize_t n = ::read(fd_, out.data(), out.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    return make_error("cannot read " + path_.string() + ": " + errno_text(errno));
  }
}

Result<std::unique_ptr<AtomicFile>> AtomicFile::create(const fs::path& path, bool overwrite,
                                                       unsigned mode) {
  std::error_code ec;
  if (path.filename().empty())
    return make_error("output path " + path.string() + " names a directory, not a file");
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    return make_error("directory " + dir.string() + " does not exist; create it first");
  if (fs::is_directory(path, ec))
    return make_error(path.string() + " is a directory; choose a file name");
  if (!overwrite && fs::exists(path, ec)) {
    return make_error(path.string() + " already exists; remove it or choose another path");
  }
  std::unique_ptr<AtomicFile> f(new AtomicFile());
  f->path_ = path;
  f->overwrite_ = overwrite;
  f->mode_ = mode;
  f->fd_ = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (f->fd_ < 0) {
    // File systems without O_TMPFILE: a hidden, unique name beside the target.
    std::string templ = (dir / ("." + path.filename().string() + ".partial-XXXXXX")).string();
    f->fd_ = ::mkostemp(templ.data(), O_CLOEXEC);
    if (f->fd_ < 0)
      return make_error("cannot create a temporary file in " + dir.string() + ": " +
                        errno_text(errno));
    f->temp_ = templ;
  }
  return f;
}

AtomicFile::~AtomicFile() { discard(); }

Status AtomicFile::write(ByteView data) {
  if (done_)
    return make_error("write to " + path_.string() + " after it was committed or discarded");
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("cannot write " + path_.string() + ": " + errno_text(errno));
    }
    off += static_cast<std::size_t>(n);
  }
  return {};
}

Status AtomicFile::pwrite(ByteView data, std::uint64_t offset) {
  if (done_)
    return make_error("write to " + path_.string() + " after it was committed or discarded");
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n =
        ::pwrite(fd_, data.data() + off, data.size() - off, static_cast<off_t>(offset + off));
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("cannot write " + path_.string() + ": " + errno_text(errno));
    }
    off += static_cast<std::size_t>(n);
  }
  return {};
}

Status AtomicFile::commit() {
  if (done_) return make_error(path_.string() + " was already committed or discarded");
  if (::fchmod(fd_, static_cast<mode_t>(mode_)) != 0) {
    const int e = errno;
    discard();
    return make_error("cannot set the permissions of " + path_.string() + ": " + errno_text(e) +
                      "; nothing was written");
  }
  if (::fsync(fd_) != 0) {
    const int e = errno;
    discard();
    return make_error("cannot flush " + path_.string() + " to disk: " + errno_text(e));
  }
  const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  if (temp_.empty() && !overwrite_) {
    // The anonymous file gets its final name directly: no name in between
    // that another user could plant, and linkat neither replaces nor
    // follows whatever is already at the path.
    if (link_anonymous(fd_, path_) != 0) {
      const int e = errno;
      discard();
      if (e == EEXIST)
        return make_error(path_.string() + " already exists; remove it or choose another path");
      return make_error("cannot create " + path_.string() + ": " + errno_text(e));
    }
  } else {
    if (temp_.empty()) {
      // To replace a file the new one needs a name to rename from (linkat
      // cannot replace): a random hidden one, created exclusively.
      for (int attempt = 0;; ++attempt) {
        std::array<std::uint8_t, 12> tag{};
        chain::random_bytes(tag);
        const fs::path named =
            dir / ("." + path_.filename().string() + ".partial-" + chain::to_hex(tag));
        if (link_anonymous(fd_, named) == 0) {
          temp_ = named;
          break;
        }
        const int e = errno;
        if (e != EEXIST || attempt == 3) {
          discard();
          return make_error("cannot name the new file " + path_.string() + ": " + errno_text(e));
        }
      }
    }
    if (!overwrite_) {
      // link() refuses to replace, so a file that appeared meanwhile is kept.
      if (::link(temp_.c_str(), path_.c_str()) != 0) {
        const int e = errno;
        discard();
        if (e == EEXIST)
          return make_error(path_.string() + " already exists; remove it or choose another path");
        return make_error("cannot create " + path_.string() + ": " + errno_text(e));
      }
      ::unlink(temp_.c_str());
    } else if (::rename(temp_.c_str(), path_.c_str()) != 0) {
      const int e = errno;
      discard();
      return make_error("cannot move the new file into " + path_.string() + ": " + errno_text(e));
    }
  }
  temp_.clear();
  ::close(fd_);
  fd_ = -1;
  done_ = true;
  return fsync_directory(dir);
}

void AtomicFile::discard() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_.empty()) {
    ::unlink(temp_.c_str());
    temp_.clear();
  }
  done_ = true;
}

Status write_file_durably(const std::filesystem::path& path, std::string_view contents) {
  // storage::AtomicFile: an exclusive 0600 temporary file (never a fixed
  // name another user could plant as a symlink), fsync, rename, fsync of the
  // directory.
  auto file = storage::AtomicFile::create(path, /*overwrite=*/true, 0600);
  if (!file)
    return make_error("cannot create " + path.string() + ": " + file.error().message +
                      "; check the data directory");
  if (auto s = (*file)->write(chain::as_bytes(contents)); !s)
    return make_error(s.error().message + "; check free disk space");
  return (*file)->commit();
}

Result<std::optional<std::string>> read_file_if_exists(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<std::string>{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read " + path.string() + "; check its permissions");
  std::ostringstream buf;
  buf << in.rdbuf();
  return std::optional<std::string>{buf.str()};
}

}  // namespace baton::storage

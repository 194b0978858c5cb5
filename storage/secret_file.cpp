#include "storage/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace baton::storage {

std::optional<std::string> secret_file_mode_refusal(const std::filesystem::path& path,
                                                    unsigned mode) {
  if ((mode & 077) == 0) return std::nullopt;
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", mode & 07777);
  return "the secret file " + path.string() + " has mode " + octal +
         ", so other users of this host may read or change it; Baton refuses such a secret "
         "as ssh does: run `chmod 600 " +
         path.string() +
         "` (and, if others could read it, consider the secret exposed and replace it)";
}

Result<chain::SecretText> read_secret_file(const std::filesystem::path& path, std::size_t max_bytes,
                                           SecretFileAccess access) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot open " + path.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(path.string() + " is not a regular file");
  }
  if (access == SecretFileAccess::owner_only) {
    if (auto refusal = secret_file_mode_refusal(path, st.st_mode & 07777)) {
      ::close(fd);
      return make_error(std::move(*refusal));
    }
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return make_error(path.string() + " is " + std::to_string(st.st_size) +
                      " bytes, too large for a key file (at most " + std::to_string(max_bytes) +
                      ")");
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t have = 0;
  while (have < text.size()) {
    const ssize_t n = ::read(fd, text.data() + have, text.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      chain::wipe(text);
      return make_error("cannot read " + path.string() + ": " + std::strerror(e));
    }
    if (n == 0) break;  // the file shrank meanwhile: what is there is what we have
    have += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(have);  // never grows, so never reallocates
  return chain::SecretText(std::move(text));
}

Result<PrivateDirectory> make_private_directory(const std::filesystem::path& dir) {
  PrivateDirectory out;
  std::error_code ec;
  const auto parent = dir.parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return make_error("cannot create " + parent.string() + ": " + ec.message());
  if (::mkdir(dir.c_str(), 0700) == 0) {
    out.created = true;
    // mkdir's mode is masked by the umask, which can only take bits away.
  } else if (errno != EEXIST) {
    return make_error("cannot create the directory " + dir.string() + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return make_error("cannot read the mode of " + dir.string() + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return make_error(dir.string() + " exists and is not a directory; remove it or choose another");
  }
  out.mode = st.st_mode & 07777;
  out.open_to_others = !out.created && (out.mode & 077) != 0;
  return out;
}

}  // namespace baton::storage

#include "api/admin_token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <sodium.h>

#include "chain/crypto.h"
#include "storage/secret_file.h"

namespace baton::api {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kTokenHexChars = 64;

Result<std::string> parse_token_text(std::string_view text, const fs::path& path) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (!text.starts_with(kAdminTokenPrefix) ||
      text.size() != kAdminTokenPrefix.size() + kTokenHexChars) {
    return make_error("the admin token file " + path.string() +
                      " is not a Baton admin token; delete it and restart batond to make a new "
                      "one");
  }
  const std::string_view hex = text.substr(kAdminTokenPrefix.size());
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return make_error("the admin token file " + path.string() +
                        " holds a malformed token; delete it and restart batond");
    }
  }
  return std::string(hex);
}

Status check_private(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return make_error("cannot stat the admin token file " + path.string() + ": " +
                      std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return make_error("the admin token file " + path.string() + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    return make_error("the admin token file " + path.string() +
                      " may be read or written by other users; chmod 600 it");
  }
  return {};
}

}  // namespace

Result<std::string> read_admin_token(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return make_error("the admin token file " + path.string() +
                      " does not exist; batond writes it at start (admin_token_file in "
                      "node.toml), or pass --token-file");
  }
  if (auto s = check_private(path); !s) return s.error();
  auto text = storage::read_secret_file(path, 1024);
  if (!text) return text.error();
  return parse_token_text(text->view(), path);
}

Result<std::string> load_or_create_admin_token(const fs::path& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) return read_admin_token(path);
  if (!path.parent_path().empty()) fs::create_directories(path.parent_path(), ec);
  std::array<std::uint8_t, kTokenHexChars / 2> raw{};
  randombytes_buf(raw.data(), raw.size());
  const std::string hex = chain::to_hex(raw);
  sodium_memzero(raw.data(), raw.size());
  const std::string text = std::string(kAdminTokenPrefix) + hex + "\n";
  // O_EXCL: never follow or overwrite what another process put there.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return read_admin_token(path);
    return make_error("cannot create the admin token file " + path.string() + ": " +
                      std::strerror(errno) + "; check the directory's permissions");
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) {
    ::unlink(path.c_str());
    return make_error("cannot write the admin token file " + path.string());
  }
  return hex;
}

bool bearer_matches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kBearer = "Bearer ";
  if (token.empty() || !authorization.starts_with(kBearer)) return false;
  const std::string_view given = authorization.substr(kBearer.size());
  if (given.size() != token.size()) return false;
  return sodium_memcmp(given.data(), token.data(), token.size()) == 0;
}

}  // namespace baton::api

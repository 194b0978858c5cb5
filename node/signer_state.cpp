#include "node/signer_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "chain/crypto.h"

namespace baton::node {
namespace {

std::string errno_text() { return std::strerror(errno); }

Status write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("cannot write " + path.string() + ": " + errno_text() +
                        "; check free disk space");
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

Status write_file_durably(const std::filesystem::path& path, std::string_view contents) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error("cannot create " + tmp.string() + ": " + errno_text() +
                      "; check the data directory");
  Status written = write_all(fd, contents, tmp);
  if (written && ::fsync(fd) != 0)
    written = make_error("cannot fsync " + tmp.string() + ": " + errno_text());
  ::close(fd);
  if (!written) return written;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return make_error("cannot rename " + tmp.string() + " to " + path.string() + ": " +
                      errno_text());
  }
  const std::filesystem::path dir =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return make_error("cannot open directory " + dir.string() + " to fsync it: " + errno_text());
  const int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return make_error("cannot fsync directory " + dir.string() + ": " + errno_text());
  return {};
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

Result<std::optional<consensus::pb::SignerState>> FileSignerStateStore::load() {
  auto text = read_file_if_exists(path_);
  if (!text) return text.error();
  if (!text->has_value()) return std::optional<consensus::pb::SignerState>{};
  // Layout: SHA-256(record) (32 bytes) || serialized SignerState.
  const std::string& file = **text;
  consensus::pb::SignerState state;
  const bool intact = file.size() >= 32 &&
                      std::memcmp(chain::sha256(std::string_view(file).substr(32)).bytes.data(),
                                  file.data(), 32) == 0;
  if (!intact || !state.ParseFromArray(file.data() + 32, static_cast<int>(file.size() - 32))) {
    return make_error(
        "the signer state " + path_.string() +
        " is damaged; the node will not sign until an operator restores it from a backup "
        "(deleting it risks double-signing)");
  }
  return std::optional<consensus::pb::SignerState>{std::move(state)};
}

Status FileSignerStateStore::save(const consensus::pb::SignerState& state) {
  std::string bytes;
  if (!state.SerializeToString(&bytes)) return make_error("cannot serialize the signer state");
  const chain::Hash sum = chain::sha256(bytes);
  std::string file(sum.bytes.begin(), sum.bytes.end());
  file += bytes;
  return write_file_durably(path_, file);
}

}  // namespace baton::node

#include "node/signer_state.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "chain/crypto.h"
#include "storage/byte_stream.h"

namespace baton::node {
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

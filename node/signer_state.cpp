#include "node/signer_state.h"

#include <cstring>

#include "chain/crypto.h"
#include "storage/byte_stream.h"

namespace baton::node {
Result<std::optional<consensus::pb::SignerState>> FileSignerStateStore::load() {
  auto text = storage::read_file_if_exists(path_);
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
  return storage::write_file_durably(path_, file);
}

}  // namespace baton::node

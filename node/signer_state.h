// File-backed records that must survive kill -9 and power loss: the signer's
// double-sign guard (consensus::SignerStateStore) and, generically, any small
// protobuf record the node rewrites in place (storage::write_file_durably).
//
// The file holds SHA-256(record) || record. It is written to NAME.tmp, fsynced, renamed over NAME,
// and the directory is fsynced, so after a crash the file holds either the old or the new record,
// never a torn one. A record that exists but does not parse is an error: the node refuses to sign
// until an operator looks (it never treats a damaged guard as "nothing signed yet").
//
// Not thread-safe; the node uses each store from its event-loop thread only.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "chain/result.h"
#include "consensus/signer.h"

namespace baton::node {

class FileSignerStateStore final : public consensus::SignerStateStore {
 public:
  explicit FileSignerStateStore(std::filesystem::path path) : path_(std::move(path)) {}

  Result<std::optional<consensus::pb::SignerState>> load() override;
  Status save(const consensus::pb::SignerState& state) override;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace baton::node

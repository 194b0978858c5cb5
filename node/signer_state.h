// File-backed records that must survive kill -9 and power loss: the signer's
// double-sign guard (consensus::SignerStateStore) and, generically, any small
// protobuf record the node rewrites in place.
//
// The file holds SHA-256(record) || record. It is written to NAME.tmp, fsynced, renamed over NAME,
// and the directory is fsynced, so after a crash the file holds either the old or the new record,
// never a torn one. A record that exists but does not parse is an error: the node refuses to sign
// until an operator looks (it never treats a damaged guard as "nothing signed yet").
//
// Not thread-safe; the node uses each store from its event-loop thread only.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "chain/result.h"
#include "consensus/signer.h"

namespace baton::node {

// Replaces `path` durably with `contents`, mode 0600 (storage::AtomicFile:
// exclusive temporary file + fsync + rename + directory fsync).
Status write_file_durably(const std::filesystem::path& path, std::string_view contents);

// Reads the whole file; nullopt when it does not exist.
Result<std::optional<std::string>> read_file_if_exists(const std::filesystem::path& path);

class FileSignerStateStore final : public consensus::SignerStateStore {
 public:
  explicit FileSignerStateStore(std::filesystem::path path) : path_(std::move(path)) {}

  Result<std::optional<consensus::pb::SignerState>> load() override;
  Status save(const consensus::pb::SignerState& state) override;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A SignerStateStore that forwards to another and reports every failed save
// to `on_failure` (with the error's sentence) before returning it: the node
// halts on it (node/storage_faults.h) instead of running on unable to vote.
class ReportingSignerStateStore final : public consensus::SignerStateStore {
 public:
  ReportingSignerStateStore(consensus::SignerStateStore& inner,
                            std::function<void(const std::string&)> on_failure)
      : inner_(inner), on_failure_(std::move(on_failure)) {}

  Result<std::optional<consensus::pb::SignerState>> load() override { return inner_.load(); }
  Status save(const consensus::pb::SignerState& state) override {
    auto saved = inner_.save(state);
    if (!saved && on_failure_) on_failure_(saved.error().message);
    return saved;
  }

 private:
  consensus::SignerStateStore& inner_;
  std::function<void(const std::string&)> on_failure_;
};

}  // namespace baton::node

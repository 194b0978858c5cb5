// RocksDB's info log (DATA/ledger/LOG) for the ledger's writer, internal to
// storage/. RocksDB's own logger writes through a file writer that, in the
// Debian build (assertions on), aborts the process when it is written to
// again after one failed write: on a full disk the first log line RocksDB
// fails to write kills batond. This one appends with plain write(2) and
// drops a line the disk refuses, so a full disk costs log lines, never the
// process (docs/OPERATIONS.md, "Halted states"). It keeps LOG below
// `max_bytes` by renaming it to LOG.old (replacing the previous one).
//
// Thread-safe: RocksDB logs from its background threads too.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>

#include <rocksdb/env.h>

namespace baton::storage {

class LedgerInfoLog final : public rocksdb::Logger {
 public:
  explicit LedgerInfoLog(std::filesystem::path path, std::size_t max_bytes = 4u << 20);
  ~LedgerInfoLog() override;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  size_t GetLogFileSize() const override;

 private:
  void open_locked();

  const std::filesystem::path path_;
  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  int fd_ = -1;
  std::size_t size_ = 0;
};

}  // namespace baton::storage

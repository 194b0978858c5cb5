#include "storage/ledger_info_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace baton::storage {

LedgerInfoLog::LedgerInfoLog(std::filesystem::path path, std::size_t max_bytes)
    : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL),
      path_(std::move(path)),
      max_bytes_(max_bytes) {
  std::lock_guard lock(mutex_);
  open_locked();
}

LedgerInfoLog::~LedgerInfoLog() {
  if (fd_ >= 0) ::close(fd_);
}

void LedgerInfoLog::open_locked() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  struct stat st {};
  size_ = (fd_ >= 0 && ::fstat(fd_, &st) == 0) ? static_cast<std::size_t>(st.st_size) : 0;
}

void LedgerInfoLog::Logv(const char* format, va_list ap) {
  // "2026/12/06-04:36:01.123456 message", as RocksDB's own LOG lines start.
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1'000'000;
  std::tm tm{};
  localtime_r(&secs, &tm);
  char line[1024];
  int n = std::snprintf(line, sizeof line, "%04d/%02d/%02d-%02d:%02d:%02d.%06d ", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        static_cast<int>(micros));
  va_list copy;
  va_copy(copy, ap);
  const int m =
      std::vsnprintf(line + n, sizeof line - static_cast<std::size_t>(n) - 1, format, copy);
  va_end(copy);
  if (m < 0) return;
  n = std::min<int>(n + m, static_cast<int>(sizeof line) - 2);
  if (line[n - 1] != '\n') line[n++] = '\n';

  std::lock_guard lock(mutex_);
  if (size_ + static_cast<std::size_t>(n) > max_bytes_) {
    std::error_code ec;
    std::filesystem::rename(path_, std::filesystem::path(path_.string() + ".old"), ec);
    open_locked();
  }
  if (fd_ < 0) open_locked();
  if (fd_ < 0) return;
  const ssize_t written = ::write(fd_, line, static_cast<std::size_t>(n));
  if (written > 0) size_ += static_cast<std::size_t>(written);
}

size_t LedgerInfoLog::GetLogFileSize() const {
  std::lock_guard lock(mutex_);
  return size_;
}

}  // namespace baton::storage

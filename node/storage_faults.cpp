#include "node/storage_faults.h"

#include <algorithm>

namespace baton::node {

const char* to_string(StorageArea area) {
  switch (area) {
    case StorageArea::ledger:
      return "ledger";
    case StorageArea::checkpoint:
      return "consensus checkpoint";
    case StorageArea::signer_state:
      return "signer state";
  }
  return "storage";
}

std::optional<std::string> StorageFaults::throttled(std::string line, std::uint64_t now_ms) {
  ++failures_;
  if (failures_ > 1 && now_ms - last_log_ms_ < options_.log_interval_ms) {
    ++held_back_;
    return std::nullopt;
  }
  if (held_back_ > 0) {
    line += " [" + std::to_string(held_back_) + " similar errors in the last " +
            std::to_string((now_ms - last_log_ms_ + 500) / 1000) + " s not logged]";
  }
  held_back_ = 0;
  last_log_ms_ = now_ms;
  return line;
}

std::optional<std::string> StorageFaults::on_failure(StorageArea area, std::string_view why,
                                                     std::uint64_t now_ms) {
  const std::string what = std::string(to_string(area)) + ": " + std::string(why);
  if (!halted_) {
    halted_ = true;
    area_ = area;
    reason_ = what;
    halted_since_ms_ = now_ms;
    failures_ = 0;
    held_back_ = 0;
    retry_pause_ms_ = options_.first_retry_ms;
    next_retry_ms_ = now_ms + retry_pause_ms_;
    return throttled("halted: cannot write the " + what +
                         "; this node stops signing and committing and retries by itself once "
                         "the disk takes writes again (free space or fix the disk)",
                     now_ms);
  }
  return throttled("still halted: cannot write the " + what, now_ms);
}

std::optional<std::string> StorageFaults::on_retry_failed(std::string_view why,
                                                          std::uint64_t now_ms) {
  retry_pause_ms_ =
      std::min(options_.max_retry_ms, std::max<std::uint64_t>(1, retry_pause_ms_) * 2);
  next_retry_ms_ = now_ms + retry_pause_ms_;
  return throttled("still halted (" + reason_ + "): recovery failed: " + std::string(why), now_ms);
}

std::string StorageFaults::on_recovered(std::uint64_t now_ms) {
  std::string line = "storage works again after " +
                     std::to_string((now_ms - halted_since_ms_ + 500) / 1000) + " s and " +
                     std::to_string(failures_) + " failed writes or attempts (" + reason_ +
                     "); resuming";
  halted_ = false;
  reason_.clear();
  failures_ = 0;
  held_back_ = 0;
  return line;
}

}  // namespace baton::node

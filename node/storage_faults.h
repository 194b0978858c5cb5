// What the node does when its disk fails (docs/OPERATIONS.md, "Halted
// states"): the pure half. A write the node needs in order to take part in
// consensus (a block into the ledger, the consensus checkpoint, the signer's
// double-sign guard) failed, typically with "No space left on device". The
// node then stops signing and committing and says so (halted, with the
// reason, in /status and /metrics), logs the failure once and afterwards one
// line per interval with a count (not 15 lines a second), and retries
// recovery with a growing pause until the disk takes writes again; it then
// resumes by itself (node.cpp: reopen the ledger, check its tip, restart
// consensus, catch up by block sync).
//
// This class keeps the state and makes every decision; it does no I/O and
// reads no clock (times are passed in, in milliseconds of any monotonic
// clock). Not thread-safe: the node uses it on its event-loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace baton::node {

enum class StorageArea {
  ledger,        // DATA/ledger (RocksDB): committing a block
  checkpoint,    // DATA/consensus_checkpoint
  signer_state,  // DATA/signer_state (the double-sign guard)
};
const char* to_string(StorageArea area);

struct StorageFaultOptions {
  std::uint64_t log_interval_ms = 10'000;  // at most one line per interval while failing
  std::uint64_t first_retry_ms = 500;      // first recovery attempt after the halt
  std::uint64_t max_retry_ms = 5'000;      // the pause doubles up to this
};

class StorageFaults {
 public:
  explicit StorageFaults(StorageFaultOptions options = {}) : options_(options) {}

  // A write to `area` failed with `why` at `now_ms`. Halts (if not halted
  // yet) with this as the reason. Returns the line to log now, or nullopt
  // when it is held back (and counted in the next line).
  std::optional<std::string> on_failure(StorageArea area, std::string_view why,
                                        std::uint64_t now_ms);

  bool halted() const { return halted_; }
  // The first failure of this halt: "<area>: <why>"; empty when not halted.
  const std::string& reason() const { return reason_; }
  StorageArea area() const { return area_; }
  // Failures (and failed recovery attempts) since the halt began.
  std::uint64_t failures() const { return failures_; }

  // True when halted and the next recovery attempt is due.
  bool retry_due(std::uint64_t now_ms) const { return halted_ && now_ms >= next_retry_ms_; }
  // A recovery attempt failed with `why`: the pause before the next one
  // doubles (up to max_retry_ms). Returns the line to log now, or nullopt.
  std::optional<std::string> on_retry_failed(std::string_view why, std::uint64_t now_ms);
  // Recovery worked: no longer halted. Returns the line to log.
  std::string on_recovered(std::uint64_t now_ms);

 private:
  // Counts one failure; returns the line when the interval allows one.
  std::optional<std::string> throttled(std::string line, std::uint64_t now_ms);

  StorageFaultOptions options_;
  bool halted_ = false;
  StorageArea area_ = StorageArea::ledger;
  std::string reason_;
  std::uint64_t halted_since_ms_ = 0;
  std::uint64_t failures_ = 0;
  std::uint64_t held_back_ = 0;  // failures not logged since the last line
  std::uint64_t last_log_ms_ = 0;
  std::uint64_t retry_pause_ms_ = 0;
  std::uint64_t next_retry_ms_ = 0;
};

}  // namespace baton::node

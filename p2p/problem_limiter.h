// The rate limit on a transport's problem reports (TransportLimits::
// problems_per_second). Anyone who can reach the P2P port can make a problem
// (garbage bytes, a failed handshake), so reports to the node's log are
// bounded: a token bucket that holds at most twice the rate, starts full and
// refills at the rate. A report that finds a whole token takes it and goes
// out carrying the number of reports held back since the last one that went
// out; any other is held back and counted.
//
// So over any span of T seconds at most 2 * rate + rate * T reports go out,
// a burst of up to 2 * rate goes out at once after a quiet spell, and every
// problem is accounted for: the reports that went out, each plus its held
// back count, add up to all problems but those held back since the last one.
//
// Pure: the caller passes the time (its io thread's steady clock; tests pass
// their own). Not thread-safe: one owner (TcpTransport's io thread).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>

namespace baton::p2p {

class ProblemLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // `per_second` > 0; the bucket starts full at `now`.
  ProblemLimiter(double per_second, Clock::time_point now)
      : rate_(per_second), tokens_(2.0 * per_second), last_refill_(now) {}

  // A problem at `now` (not before the previous call's). Returns the number
  // of problems held back since the last admitted one when this one is to be
  // reported (and resets that count), nullopt when it is held back.
  std::optional<std::uint64_t> admit(Clock::time_point now) {
    const double elapsed = std::chrono::duration<double>(now - last_refill_).count();
    last_refill_ = now;
    tokens_ = std::min(2.0 * rate_, tokens_ + elapsed * rate_);
    if (tokens_ < 1.0) {
      ++suppressed_;
      return std::nullopt;
    }
    tokens_ -= 1.0;
    return std::exchange(suppressed_, 0);
  }

 private:
  double rate_;
  double tokens_;
  Clock::time_point last_refill_;
  std::uint64_t suppressed_ = 0;
};

}  // namespace baton::p2p

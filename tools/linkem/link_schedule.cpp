#include "tools/linkem/link_schedule.h"

#include <algorithm>

namespace baton::linkem {

bool valid_profile(const LinkProfile& p) {
  return p.delay_ms <= kMaxDelayMs && p.jitter_ms <= kMaxDelayMs && p.loss_ppm <= kMaxLossPpm;
}

Duration loss_stall(const LinkProfile& p) {
  return kMinRto + std::chrono::milliseconds(2 * std::uint64_t{p.delay_ms});
}

Clock::time_point DirectionSchedule::deliver_at(Clock::time_point arrival, std::size_t bytes,
                                                const LinkProfile& profile, std::mt19937_64& rng) {
  // Serialisation behind the previous chunk when the rate is capped.
  Clock::time_point sent = arrival;
  if (profile.rate_bytes_s > 0) {
    const Clock::time_point start = std::max(arrival, link_free_);
    const auto ns = static_cast<std::int64_t>(
        (static_cast<unsigned __int128>(bytes) * 1'000'000'000u) / profile.rate_bytes_s);
    link_free_ = start + Duration(ns);
    sent = link_free_;
  }
  // Delay +- jitter, in microseconds so that small jitters are not all-or-nothing.
  std::int64_t us = std::int64_t{profile.delay_ms} * 1000;
  if (profile.jitter_ms > 0) {
    const std::int64_t j = std::int64_t{profile.jitter_ms} * 1000;
    us += std::uniform_int_distribution<std::int64_t>(-j, j)(rng);
    us = std::max<std::int64_t>(us, 0);
  }
  Clock::time_point at = sent + std::chrono::microseconds(us);
  if (profile.loss_ppm > 0 &&
      std::uniform_int_distribution<std::uint32_t>(0, kMaxLossPpm - 1)(rng) < profile.loss_ppm) {
    at += loss_stall(profile);
    ++stalls_;
  }
  at = std::max(at, last_delivery_);
  last_delivery_ = at;
  return at;
}

std::optional<Clock::time_point> PacketSchedule::deliver_at(Clock::time_point arrival,
                                                            std::size_t bytes,
                                                            const LinkProfile& profile,
                                                            std::mt19937_64& rng) {
  if (profile.loss_ppm > 0 &&
      std::uniform_int_distribution<std::uint32_t>(0, kMaxLossPpm - 1)(rng) < profile.loss_ppm) {
    ++losses_;
    return std::nullopt;
  }
  LinkProfile no_loss = profile;
  no_loss.loss_ppm = 0;
  return order_.deliver_at(arrival, bytes, no_loss, rng);
}

}  // namespace baton::linkem

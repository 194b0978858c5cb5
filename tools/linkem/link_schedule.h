// The delivery schedule of baton-linkem (a userspace WAN link emulator, see
// linkem_main.cpp): when a chunk of bytes that entered one direction of an
// emulated link at time `arrival` leaves it. Pure: no sockets, no clock; the
// caller passes the times and a seeded random engine.
//
// The model, per direction of one relayed TCP connection:
//   - rate cap (optional, bytes per second): chunks are serialised one after
//     the other, a chunk of n bytes occupying the link for n / rate;
//   - one-way delay d and jitter j: each chunk gets d + u, u uniform in
//     [-j, +j] (never below 0) after it is serialised;
//   - loss: TCP never delivers a byte stream with holes; a lost segment is
//     resent after the sender's retransmission timeout. So a "lost" chunk
//     (probability p per chunk, drawn independently) is delivered late by one
//     retransmission timeout: Linux's minimum RTO (200 ms) plus the round trip
//     (2 d). This is a stall, not a drop: what the application above TCP
//     sees of a loss. It is per chunk (one read of up to kChunkBytes), not
//     per segment, so bulk transfers see fewer stalls than a per-packet loss
//     rate would give them; consensus messages are mostly one segment each.
//     Not modelled: congestion-window collapse after loss, fast retransmit
//     (three duplicate ACKs: a shorter stall), repeated losses of one segment.
//   - order: delivery times are monotone per direction (max with the previous
//     chunk's), so bytes of one stream are never reordered, as TCP
//     guarantees; jitter therefore also delays the chunks queued behind a
//     late one (head-of-line blocking, as on a real TCP connection).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace baton::linkem {

using Clock = std::chrono::steady_clock;
using Duration = std::chrono::nanoseconds;

// One read from a socket; also the unit of loss.
inline constexpr std::size_t kChunkBytes = 16 * 1024;
// Linux's TCP_RTO_MIN.
inline constexpr std::chrono::milliseconds kMinRto{200};

// A link's conditions (both directions of its connections use the same).
struct LinkProfile {
  std::uint32_t delay_ms = 0;      // one-way
  std::uint32_t jitter_ms = 0;     // +- around delay_ms, at most delay_ms below it
  std::uint32_t loss_ppm = 0;      // chunks stalled by one RTO, per million
  std::uint64_t rate_bytes_s = 0;  // 0: no cap
  bool operator==(const LinkProfile&) const = default;
};

// Bounds a profile must keep (linkem refuses others): delays up to a minute,
// loss at most 100%.
inline constexpr std::uint32_t kMaxDelayMs = 60'000;
inline constexpr std::uint32_t kMaxLossPpm = 1'000'000;
bool valid_profile(const LinkProfile& p);

// The stall a lost chunk suffers on a link with this one-way delay.
Duration loss_stall(const LinkProfile& p);

// One direction's schedule. Not thread-safe (one per direction).
class DirectionSchedule {
 public:
  // When a chunk of `bytes` that arrived at `arrival` is delivered. Arrival
  // times must not decrease between calls. The profile may differ between
  // calls (the delay of a link changed at run time); order still holds.
  Clock::time_point deliver_at(Clock::time_point arrival, std::size_t bytes,
                               const LinkProfile& profile, std::mt19937_64& rng);

  // How many chunks were stalled as lost so far.
  std::uint64_t stalls() const { return stalls_; }

 private:
  Clock::time_point link_free_{};      // end of the last chunk's serialisation
  Clock::time_point last_delivery_{};  // monotone delivery
  std::uint64_t stalls_ = 0;
};

// The packet switch's model (packet_switch.h), per direction of a link
// between two nodes: each packet is lost independently with the profile's
// probability (dropped: the endpoints' TCP sees a real loss and retransmits
// or recovers by itself, congestion window and all); the others go through a
// DirectionSchedule without loss (rate, delay +- jitter, in order: unlike
// kernel netem with jitter, packets of a link are never reordered).
class PacketSchedule {
 public:
  // nullopt: lost. Arrival times must not decrease between calls.
  std::optional<Clock::time_point> deliver_at(Clock::time_point arrival, std::size_t bytes,
                                              const LinkProfile& profile, std::mt19937_64& rng);
  std::uint64_t losses() const { return losses_; }

 private:
  DirectionSchedule order_;
  std::uint64_t losses_ = 0;
};

}  // namespace baton::linkem

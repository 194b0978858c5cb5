// baton-linkem's packet mode (issue 18): an IPv4 switch between network
// namespaces, for kernels without sch_netem. Each node runs in its own
// network namespace with one TUN device (its only route to the others); the
// switch holds every TUN's file descriptor, reads each IP packet a node
// sends, and writes it to the TUN of the node that owns the destination
// address after the directed link's delay, jitter and rate (PacketSchedule,
// in order), or drops it: lost at the link's loss rate, or cut (a
// partition: no packet crosses, connections stay open and time out as on a
// real network). The kernels of both ends run real TCP over it: a loss is
// retransmitted by the sender, a partition stalls every connection across
// it, not a closed socket as the TCP relay shows it.
//
// Threads: the TUN devices are opened by start() on the calling thread
// (each inside its namespace, then back); every read, timer and link state
// then lives on one io thread. control() may be called from any thread.
//
// Bounds: a packet is at most kMaxPacket bytes (a TUN's MTU is at most
// that); a link queues at most `max_queued_bytes` waiting for their time
// (beyond that packets are dropped at the tail, as a router's buffer does);
// a packet to an address no port owns, or not IPv4, is dropped and counted.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tools/linkem/link_config.h"

namespace baton::linkem {

inline constexpr std::size_t kMaxPacket = 65535;

struct SwitchOptions {
  std::vector<PortSpec> ports;
  std::vector<ProfileSpec> profiles;  // links "A>B" not listed: no delay, no loss
  std::optional<Endpoint> control;
  std::uint64_t seed = 1;  // link k's engine: seed + k
  std::size_t max_queued_bytes = 1u << 20;
};

// The IPv4 destination of a packet as a TUN without packet information
// hands it over; nullopt when it is not a well-formed IPv4 header.
std::optional<std::array<std::uint8_t, 4>> ipv4_destination(const std::uint8_t* packet,
                                                            std::size_t size);

class PacketSwitch {
 public:
  explicit PacketSwitch(SwitchOptions options);
  ~PacketSwitch();  // stop()
  PacketSwitch(const PacketSwitch&) = delete;
  PacketSwitch& operator=(const PacketSwitch&) = delete;

  // Checks the profiles name pairs of ports, opens every TUN device (and
  // the control server), then runs the io thread. On failure nothing runs
  // and the sentence names the port or link. Precondition: called once.
  bool start(std::string& error);
  // One control command line (link_config.h); the reply, ending "ok" or
  // "error: ...". Thread-safe; not from the io thread.
  std::string control(const std::string& line);
  std::uint16_t control_port() const;
  void stop();  // idempotent

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::linkem

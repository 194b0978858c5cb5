// baton-linkem's relay: for each link, a TCP listener whose connections are
// relayed to the link's target, each direction through a DirectionSchedule
// (link_schedule.h), plus the control server (link_config.h's commands).
//
// Threads: one io thread, started by start() and joined by stop(); every
// socket, timer and link state lives on it. control() may be called from any
// thread (it runs the command on the io thread and waits for the reply).
//
// Bounds: at most `max_connections_per_link` relayed connections per link
// (more are closed at accept); per direction at most `max_queued_bytes`
// waiting for their delivery time (beyond that the relay stops reading that
// side, so TCP's flow control pushes back on the sender, as a slow link
// would); control connections at most 8 at once, lines at most
// kMaxControlLine bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tools/linkem/link_config.h"

namespace baton::linkem {

struct RelayOptions {
  std::vector<LinkSpec> links;
  std::optional<Endpoint> control;  // the control server's address (loopback)
  std::uint64_t seed = 1;           // each link's engine: seed + its index
  std::size_t max_connections_per_link = 64;
  std::size_t max_queued_bytes = 4u << 20;
};

class Relay {
 public:
  explicit Relay(RelayOptions options);
  ~Relay();  // stop()
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Binds every listener (and the control server), then runs the io thread.
  // On failure nothing runs and the sentence says which address failed.
  // Precondition: called once.
  bool start(std::string& error);
  // Runs one control command line; the reply's lines, the last "ok" or
  // "error: ...". Thread-safe; not from the io thread.
  std::string control(const std::string& line);
  // The bound ports (after start): of link i, and of the control server (0: none).
  std::uint16_t link_port(std::size_t i) const;
  std::uint16_t control_port() const;
  // Closes everything and joins the io thread. Idempotent.
  void stop();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::linkem

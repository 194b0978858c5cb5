// Admission of connections to the admin HTTP server: which connection gives
// way when a new one arrives at a limit (docs/OPERATIONS.md, "Admin API").
//
// Any local process can open connections to the admin port. Refusing new
// connections at a limit (as batond once did) let 64 idle sockets lock out
// the CLI and monitoring. So a new connection is always taken, and an open
// one gives way to it: first one that waits idle between requests, then a
// parked long-poll (its client, the partner agent, simply asks again), then
// one still sending a request, and last one whose answer is still being written
// (a client that sends requests and never reads the answers blocks the
// server's writes until write_timeout_ms: 64 such connections locked the API
// out as surely as 64 idle ones); each time the least recently active. A
// client address at its own limit gives way from its own connections, so
// one address cannot push out the others.
//
// Pure: no sockets, no clock (times are passed in). Table-tested in
// tests/api/http_admission_test.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace baton::api {

enum class ConnectionPhase {
  idle,     // connected, no byte of a next request yet
  waiting,  // a long-poll is parked: the server answers when it has news or
            // its wait is over (api/http_server.h, HttpWait)
  reading,  // a request's header or body is arriving
  busy,     // the request is being answered: its response is being written
            // (the handler runs on the server's one thread, so admission never
            // sees a connection inside the handler)
};

struct OpenConnection {
  std::uint64_t id = 0;
  std::string client;  // the peer's IP address as text
  ConnectionPhase phase = ConnectionPhase::idle;
  std::uint64_t last_active_ms = 0;  // when it last changed phase
};

struct AdmissionLimits {
  std::size_t max_connections = 64;
  std::size_t max_per_client = 32;
};

struct Admission {
  bool accept = false;
  std::optional<std::uint64_t> evict;  // close this one first
};

// Decides about a new connection from `client`, given those open now.
// Refuses only when a limit binds and no connection is open to give way
// (a limit of 0).
Admission admit_connection(const std::vector<OpenConnection>& open, std::string_view client,
                           const AdmissionLimits& limits);

}  // namespace baton::api

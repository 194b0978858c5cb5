// baton-linkem's text inputs, parsed into types: the links file (one link a
// line) and the control protocol's command lines. Pure.
//
// Links file (`#` starts a comment; blank lines are skipped):
//   NAME LISTEN_HOST:PORT TARGET_HOST:PORT [delay_ms=N] [jitter_ms=N]
//        [loss_pct=X | loss_ppm=N] [rate_bytes_s=N]
// e.g.  hospital-a>hospital-b 127.0.0.1:41002 127.0.0.1:26656 delay_ms=20 loss_pct=1
// NAME: 1..64 of [A-Za-z0-9._>-]; loss_pct: a decimal with up to 4 places.
//
// Packet mode (`baton-linkem --ports`, packet_switch.h) reads two files.
// Ports file, one node a line:
//   NAME NETNS IFNAME IPV4
// e.g.  hospital-a /run/netns/baton-1a2b3c-1 bt0 10.77.0.1
// NAME: 1..64 of [A-Za-z0-9._-]; NETNS: the path of the node's network
// namespace (`ip netns add` makes /run/netns/NAME), or "-" for linkem's
// own; IFNAME: an existing TUN device there (`ip tuntap add ... mode tun`),
// 1..15 of [A-Za-z0-9._-]; IPV4: the node's address, unique.
// Its links file names the directed pairs that are not perfect, one a line:
//   A>B [delay_ms=N] [jitter_ms=N] [loss_pct=X | loss_ppm=N] [rate_bytes_s=N]
// (A and B port names; a pair not listed has no delay and no loss).
//
// Control commands (one a line; every reply ends with a line "ok" or
// "error: SENTENCE"):
//   status                       one line per link, then ok
//   cut NAME...  | cut *         close the links' connections, refuse new ones
//   heal NAME... | heal *        accept again
//   set NAME...|* key=value...   change delay_ms, jitter_ms, loss_pct/loss_ppm,
//                                rate_bytes_s of the links (running connections
//                                too; order within a stream still holds)
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/linkem/link_schedule.h"

namespace baton::linkem {

inline constexpr std::size_t kMaxLinkName = 64;
inline constexpr std::size_t kMaxLinks = 4096;
inline constexpr std::size_t kMaxControlLine = 64 * 1024;

struct Endpoint {
  std::string host;  // an address or a name; [v6] without the brackets
  std::uint16_t port = 0;
  std::string to_string() const;
};

struct LinkSpec {
  std::string name;
  Endpoint listen;
  Endpoint target;
  LinkProfile profile;
};

// "host:port" with port 1..65535 (IPv6 in brackets).
std::optional<Endpoint> parse_endpoint(std::string_view text);
// "1", "0.5", "100": a percentage to parts per million; nullopt past 100 or
// more than 4 decimal places.
std::optional<std::uint32_t> parse_percent_ppm(std::string_view text);

// One line of the links file; nullopt for a blank or comment line. Errors
// go to `error` (a sentence) and return nullopt with a non-empty error.
std::optional<LinkSpec> parse_link_line(std::string_view line, std::string& error);
// The whole file: every link, names unique, at most kMaxLinks.
std::optional<std::vector<LinkSpec>> parse_links(std::string_view text, std::string& error);

inline constexpr std::size_t kMaxPorts = 64;

struct PortSpec {
  std::string name;
  std::string netns;  // "" for linkem's own namespace
  std::string ifname;
  std::array<std::uint8_t, 4> address{};
  std::string address_text() const;
};
std::optional<std::vector<PortSpec>> parse_ports(std::string_view text, std::string& error);

struct ProfileSpec {
  std::string name;  // "A>B"
  LinkProfile profile;
};
// Names unique; whether A and B are ports is the switch's to check.
std::optional<std::vector<ProfileSpec>> parse_profiles(std::string_view text, std::string& error);

// The profile fields a `set` command changes.
struct ProfileChange {
  std::optional<std::uint32_t> delay_ms, jitter_ms, loss_ppm;
  std::optional<std::uint64_t> rate_bytes_s;
  LinkProfile applied_to(LinkProfile p) const;
};

enum class CommandKind { status, cut, heal, set };
struct ControlCommand {
  CommandKind kind = CommandKind::status;
  bool all = false;                // "*"
  std::vector<std::string> links;  // when !all
  ProfileChange change;            // set
};
std::optional<ControlCommand> parse_command(std::string_view line, std::string& error);

}  // namespace baton::linkem

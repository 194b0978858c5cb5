// baton-linkem: a userspace WAN link emulator for Baton's test networks
// (issue 18). Firecracker-style VM kernels (this project's CI among them)
// have no sch_netem, so `tc qdisc ... netem` cannot add delay or loss there;
// this program does it in one of two ways.
//
// Relay mode (--links FILE): it relays TCP for a set of directed links
// (listen address -> target address); each relayed connection gets, in both
// directions, the link's one-way delay, jitter (never reordering the bytes
// of a stream), an optional rate cap, and loss modelled as TCP shows it to
// applications: a lost chunk is delivered one retransmission timeout late
// (200 ms + the round trip), see link_schedule.h for the exact model and
// what it leaves out. A cut link closes its connections and refuses new
// ones. Nodes are pointed at the links with node.toml's [p2p.dial]
// (deploy/testnet.sh --wan writes both). Needs no privilege.
//
// Packet mode (--ports FILE [--links FILE]): it switches IPv4 packets
// between nodes that each run in their own network namespace behind a TUN
// device (packet_switch.h): per packet delay, jitter, rate and real loss,
// so the nodes' kernels run TCP across it as across a WAN, and a cut link
// drops every packet (a true partition). Needs CAP_NET_ADMIN and
// CAP_SYS_ADMIN (root): deploy/testnet.sh --netns makes the namespaces and
// devices and runs it.
//
//   baton-linkem --links FILE [--control 127.0.0.1:PORT] [--seed N]
//                [--max-connections-per-link N] [--max-queued-bytes N]
//   baton-linkem --ports FILE [--links FILE] [--control 127.0.0.1:PORT]
//                [--seed N] [--max-queued-bytes N]
//
// The files and the control protocol are described in link_config.h.
// Prints "ready" on stdout once every listener or device is open; stops on
// SIGINT or SIGTERM.
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "tools/linkem/packet_switch.h"
#include "tools/linkem/relay.h"

namespace {

using namespace baton::linkem;

int usage(const char* why) {
  if (why != nullptr) std::cerr << "baton-linkem: " << why << "\n";
  std::cerr
      << "usage: baton-linkem --links FILE [--control 127.0.0.1:PORT] [--seed N]\n"
         "                    [--max-connections-per-link N] [--max-queued-bytes N]\n"
         "       baton-linkem --ports FILE [--links FILE] [--control 127.0.0.1:PORT] [--seed N]\n"
         "                    [--max-queued-bytes N]\n"
         "relay links FILE: one link a line: NAME LISTEN_HOST:PORT TARGET_HOST:PORT [delay_ms=N]\n"
         "      [jitter_ms=N] [loss_pct=X] [rate_bytes_s=N]\n"
         "ports FILE: one node a line: NAME NETNS_PATH|- TUN_IFNAME IPV4\n"
         "packet links FILE: A>B [delay_ms=N] [jitter_ms=N] [loss_pct=X] [rate_bytes_s=N]\n"
         "control lines: status | cut NAME...|* | heal NAME...|* | set NAME...|* key=value...\n";
  return why == nullptr ? 0 : 2;
}

bool parse_count(const std::string& text, std::uint64_t max, std::uint64_t& out) {
  try {
    std::size_t used = 0;
    const unsigned long long v = std::stoull(text, &used);
    if (used != text.size() || v == 0 || v > max) return false;
    out = v;
    return true;
  } catch (...) {
    return false;
  }
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "baton-linkem: cannot read " << path << "\n";
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `emulator` (a Relay or a PacketSwitch) until SIGINT or SIGTERM.
template <typename Emulator>
int serve(Emulator& emulator, const sigset_t& stop_signals) {
  std::string error;
  if (!emulator.start(error)) {
    std::cerr << "baton-linkem: " << error << "\n";
    return 1;
  }
  std::cout << "ready" << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  emulator.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string links_file, ports_file;
  std::optional<Endpoint> control;
  std::uint64_t seed = 1, max_connections = 0, max_queued = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") return usage(nullptr);
    if (i + 1 >= argc) return usage(("option " + arg + " needs a value").c_str());
    const std::string value = argv[++i];
    if (arg == "--links") {
      links_file = value;
    } else if (arg == "--ports") {
      ports_file = value;
    } else if (arg == "--control") {
      control = parse_endpoint(value);
      if (!control || (control->host != "127.0.0.1" && control->host != "::1")) {
        return usage(
            "--control must be a loopback HOST:PORT (127.0.0.1:PORT): anyone who "
            "reaches it can cut the links");
      }
    } else if (arg == "--seed") {
      if (!parse_count(value, UINT64_MAX, seed)) return usage("--seed takes a positive number");
    } else if (arg == "--max-connections-per-link") {
      if (!parse_count(value, 100'000, max_connections)) {
        return usage("--max-connections-per-link: 1..100000");
      }
    } else if (arg == "--max-queued-bytes") {
      if (!parse_count(value, std::uint64_t{1} << 30, max_queued)) {
        return usage("--max-queued-bytes: 1..1073741824");
      }
    } else {
      return usage(("unknown option " + arg).c_str());
    }
  }
  if (links_file.empty() && ports_file.empty())
    return usage("--links FILE or --ports FILE is required");
  // At least one chunk (relay) or one packet (switch), whatever the order of the options.
  if (max_queued != 0 && max_queued < (ports_file.empty() ? kChunkBytes : kMaxPacket)) {
    return usage("--max-queued-bytes: at least 16384 (relay) or 65535 (--ports)");
  }
  if (!ports_file.empty() && max_connections != 0) {
    return usage("--max-connections-per-link is for relay mode (--links without --ports)");
  }

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::string error;
  const auto links_text =
      links_file.empty() ? std::optional<std::string>("") : read_file(links_file);
  if (!links_text) return 1;
  if (!ports_file.empty()) {
    const auto ports_text = read_file(ports_file);
    if (!ports_text) return 1;
    SwitchOptions options;
    auto ports = parse_ports(*ports_text, error);
    if (!ports) {
      std::cerr << "baton-linkem: " << ports_file << ": " << error << "\n";
      return 1;
    }
    auto profiles = parse_profiles(*links_text, error);
    if (!profiles) {
      std::cerr << "baton-linkem: " << links_file << ": " << error << "\n";
      return 1;
    }
    options.ports = std::move(*ports);
    options.profiles = std::move(*profiles);
    options.control = control;
    options.seed = seed;
    if (max_queued != 0) options.max_queued_bytes = max_queued;
    PacketSwitch emulator(std::move(options));
    return serve(emulator, stop_signals);
  }
  RelayOptions options;
  auto links = parse_links(*links_text, error);
  if (!links) {
    std::cerr << "baton-linkem: " << links_file << ": " << error << "\n";
    return 1;
  }
  options.links = std::move(*links);
  options.control = control;
  options.seed = seed;
  if (max_connections != 0) options.max_connections_per_link = max_connections;
  if (max_queued != 0) options.max_queued_bytes = max_queued;
  Relay emulator(std::move(options));
  return serve(emulator, stop_signals);
}

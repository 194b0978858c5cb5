// baton-linkem: a userspace WAN link emulator for Baton's test networks
// (issue 18). Firecracker-style VM kernels (this project's CI among them)
// have no sch_netem, so `tc qdisc ... netem` cannot add delay or loss there;
// this program does it above TCP instead. One process relays TCP for a set of
// directed links (listen address -> target address); each relayed connection
// gets, in both directions, the link's one-way delay, jitter (never
// reordering the bytes of a stream), an optional rate cap, and loss modelled
// as TCP shows it to applications: a lost chunk is delivered one
// retransmission timeout late (200 ms + the round trip), see link_schedule.h
// for the exact model and what it leaves out.
//
//   baton-linkem --links FILE [--control 127.0.0.1:PORT] [--seed N]
//                [--max-connections-per-link N] [--max-queued-bytes N]
//
// FILE and the control protocol are described in link_config.h. A cut link
// closes its connections and refuses new ones (accepted and closed at once):
// a partition as TCP sees it. Nodes are pointed at the links with node.toml's
// [p2p.dial] (deploy/testnet.sh --wan writes both). Prints "ready" on stdout
// once every listener is bound; stops on SIGINT or SIGTERM.
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "tools/linkem/relay.h"

namespace {

int usage(const char* why) {
  if (why != nullptr) std::cerr << "baton-linkem: " << why << "\n";
  std::cerr
      << "usage: baton-linkem --links FILE [--control 127.0.0.1:PORT] [--seed N]\n"
         "                    [--max-connections-per-link N] [--max-queued-bytes N]\n"
         "FILE: one link a line: NAME LISTEN_HOST:PORT TARGET_HOST:PORT [delay_ms=N]\n"
         "      [jitter_ms=N] [loss_pct=X] [rate_bytes_s=N]\n"
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

}  // namespace

int main(int argc, char** argv) {
  using namespace baton::linkem;
  std::string links_file;
  RelayOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") return usage(nullptr);
    if (i + 1 >= argc) return usage(("option " + arg + " needs a value").c_str());
    const std::string value = argv[++i];
    std::uint64_t n = 0;
    if (arg == "--links") {
      links_file = value;
    } else if (arg == "--control") {
      auto e = parse_endpoint(value);
      if (!e || (e->host != "127.0.0.1" && e->host != "::1")) {
        return usage(
            "--control must be a loopback HOST:PORT (127.0.0.1:PORT): anyone who "
            "reaches it can cut the links");
      }
      options.control = *e;
    } else if (arg == "--seed") {
      if (!parse_count(value, UINT64_MAX, n)) return usage("--seed takes a positive number");
      options.seed = n;
    } else if (arg == "--max-connections-per-link") {
      if (!parse_count(value, 100'000, n)) return usage("--max-connections-per-link: 1..100000");
      options.max_connections_per_link = n;
    } else if (arg == "--max-queued-bytes") {
      if (!parse_count(value, std::uint64_t{1} << 30, n) || n < kChunkBytes) {
        return usage("--max-queued-bytes: 16384..1073741824");
      }
      options.max_queued_bytes = n;
    } else {
      return usage(("unknown option " + arg).c_str());
    }
  }
  if (links_file.empty()) return usage("--links FILE is required");
  std::ifstream in(links_file);
  if (!in) {
    std::cerr << "baton-linkem: cannot read " << links_file << "\n";
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string error;
  auto links = parse_links(text.str(), error);
  if (!links) {
    std::cerr << "baton-linkem: " << links_file << ": " << error << "\n";
    return 1;
  }
  options.links = std::move(*links);

  // Block the stop signals in every thread; this one waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  Relay relay(std::move(options));
  if (!relay.start(error)) {
    std::cerr << "baton-linkem: " << error << "\n";
    return 1;
  }
  std::cout << "ready" << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  relay.stop();
  return 0;
}

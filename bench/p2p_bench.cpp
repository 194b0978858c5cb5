// baton-bench-p2p [--quick]: measures the P2P transport on loopback and
// prints one line per figure. Two TcpTransports in this process, each with
// its own io thread, exactly as two batond would run them.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_help.h"
#include "p2p/frame.h"
#include "p2p/secure_channel.h"
#include "p2p/transport_tcp.h"

namespace {

using namespace baton;
using namespace baton::p2p;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

class Sink final : public TransportListener {
 public:
  MessageVerdict on_message(const PeerId& from, chain::ByteView message) override {
    received.fetch_add(1, std::memory_order_relaxed);
    bytes.fetch_add(message.size(), std::memory_order_relaxed);
    if (echo != nullptr) (void)echo->send(from, chain::Bytes(message.begin(), message.end()));
    if (on_any) on_any();
    return MessageVerdict::accept;
  }
  void on_peer_connected(const PeerId&) override { connected.store(true); }
  void on_peer_disconnected(const PeerId&, DisconnectReason) override { connected.store(false); }

  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<bool> connected{false};
  Transport* echo = nullptr;
  std::function<void()> on_any;
};

struct Pair {
  chain::SigningKey ka = chain::SigningKey::generate();
  chain::SigningKey kb = chain::SigningKey::generate();
  Sink sa, sb;
  std::unique_ptr<TcpTransport> a, b;

  // B dials A; A listens on a port the OS picks.
  bool start(const TransportLimits& limits) {
    TcpTransportOptions oa;
    oa.chain_id = "bench";
    oa.genesis_hash = chain::sha256(std::string_view("bench genesis"));
    oa.listen_host = "127.0.0.1";
    oa.limits = limits;
    oa.members = {{ka.public_key(), "", 0}, {kb.public_key(), "", 0}};
    a = std::make_unique<TcpTransport>(ka, oa);
    if (!a->start(sa).ok()) return false;
    TcpTransportOptions ob = oa;
    ob.members = {{ka.public_key(), "127.0.0.1", a->listen_port()}, {kb.public_key(), "", 0}};
    b = std::make_unique<TcpTransport>(kb, ob);
    if (!b->start(sb).ok()) return false;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!(sa.connected && sb.connected) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return sa.connected && sb.connected;
  }
};

void bench_sealing(bool quick) {
  SessionKey key{};
  FrameSealer sealer(key);
  for (std::size_t size : {200u, 4096u, 1u << 20}) {
    const chain::Bytes payload(size, 7);
    chain::Bytes out;
    const std::size_t total = quick ? (64u << 20) : (512u << 20);
    const std::size_t n = std::max<std::size_t>(1, total / size);
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
      out.clear();
      sealer.seal(EnvelopeKind::message, payload, out);
    }
    const double s = seconds_since(t0);
    std::printf("seal %7zu-byte frames: %10.0f frames/s  %7.1f MiB/s (one core)\n", size, n / s,
                n * size / s / (1 << 20));
  }
}

void bench_handshake(bool quick) {
  const int n = quick ? 5 : 20;
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    Pair p;
    const auto t0 = Clock::now();
    if (!p.start(TransportLimits{})) {
      std::printf("handshake: could not connect\n");
      return;
    }
    ms.push_back(seconds_since(t0) * 1000);
  }
  std::sort(ms.begin(), ms.end());
  std::printf(
      "start two transports until both report the session: p50 %.2f ms, max %.2f ms (%d runs)\n",
      ms[ms.size() / 2], ms.back(), n);
}

void bench_throughput(bool quick) {
  for (std::size_t size : {200u, 4096u, 1u << 20}) {
    Pair p;
    TransportLimits limits;
    limits.send_queue_messages = 1u << 20;
    limits.send_queue_bytes = 1u << 30;
    if (!p.start(limits)) {
      std::printf("throughput: could not connect\n");
      return;
    }
    const std::size_t total = quick ? (64u << 20) : (512u << 20);
    const std::size_t n = std::min<std::size_t>(quick ? 100000 : 500000, total / size);
    const chain::Bytes payload(size, 1);
    const auto t0 = Clock::now();
    // Send in slices so the sender's queue stays within its bound.
    std::size_t sent = 0;
    while (sent < n) {
      const std::size_t window = std::max<std::size_t>(8, (64u << 20) / size);
      while (sent < n && sent - p.sa.received.load() < window) {
        (void)p.b->send(p.ka.public_key(), payload);
        ++sent;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    while (p.sa.received.load() < n && seconds_since(t0) < 120) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    const double s = seconds_since(t0);
    std::printf("one-way %7zu-byte messages: %10.0f msg/s  %7.1f MiB/s  (%zu messages)\n", size,
                p.sa.received.load() / s, p.sa.bytes.load() / s / (1 << 20), n);
  }
}

void bench_round_trip(bool quick) {
  Pair p;
  if (!p.start(TransportLimits{})) {
    std::printf("round trip: could not connect\n");
    return;
  }
  p.sa.echo = p.a.get();  // A echoes what B sends
  std::mutex m;
  std::condition_variable cv;
  bool back = false;
  p.sb.on_any = [&] {
    std::lock_guard lock(m);
    back = true;
    cv.notify_one();
  };
  const int n = quick ? 2000 : 20000;
  const chain::Bytes payload(200, 3);
  std::vector<double> us;
  us.reserve(n);
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    {
      std::unique_lock lock(m);
      back = false;
    }
    (void)p.b->send(p.ka.public_key(), payload);
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return back; });
    us.push_back(seconds_since(t0) * 1e6);
  }
  std::sort(us.begin(), us.end());
  std::printf("round trip, 200-byte message and echo: p50 %.0f us, p99 %.0f us (%d runs)\n",
              us[us.size() / 2], us[us.size() * 99 / 100], n);
}

}  // namespace

int main(int argc, char** argv) {
  baton::bench::answer_version(argc, argv, "baton-bench-p2p");
  baton::bench::answer_help(argc, argv,
                            "usage: baton-bench-p2p [--quick]\nMeasures the P2P transport on "
                            "loopback; prints one line per figure, asserts nothing.\n");
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  std::printf("baton-bench-p2p%s: %u hardware threads\n", quick ? " --quick" : "",
              std::thread::hardware_concurrency());
  bench_sealing(quick);
  bench_handshake(quick);
  bench_throughput(quick);
  bench_round_trip(quick);
  return 0;
}

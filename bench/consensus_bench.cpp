// baton-bench-consensus: real batond processes on loopback (started with
// deploy/testnet.sh), driven through their admin APIs. Prints
//   - commit latency p50/p99 (submit -> the block holding the tx is visible
//     on the node it was sent to) under light load (one tx every --gap-ms);
//   - committed tx/s under sustained load from --clients threads;
//   - the CPU time (user + sys of every batond, from /proc/PID/stat) spent
//     per committed transaction over the same window, which unlike tx/s does
//     not depend on what else runs on the machine, and the throughput it
//     projects if the nodes had every core to themselves (a projection, not
//     a measurement);
//   - each node's RSS at the start and end of the sustained load.
// With --memory-s S it runs only a steady load of --rate tx/s for S seconds
// and prints every node's RSS each --sample-s seconds (memory flat or not).
// Figures go to docs/BENCHMARKS.md ("Consensus and network").
//
//   baton-bench-consensus [--nodes 4] [--latency-txs 200] [--gap-ms 50]
//                         [--load-s 20] [--clients 4] [--dir DIR]
//                         [--memory-s 600 --rate 300 [--sample-s 10]]
//                         [--wan D[:J[:L]]] [--wan-node NAME=D[:J[:L]] ...]
//                         [--netns] [--max-block-txs N]
// --wan / --wan-node put every pair of nodes behind baton-linkem (testnet.sh
// --wan: D ms one-way delay, +-J ms jitter, L % loss as TCP retransmission
// stalls; docs/OPERATIONS.md "Emulated WAN links"), and the latency line
// adds the floor: three one-way delays (propose, prevote, precommit).
// --netns (root) runs each node in its own network namespace and applies
// the profiles per IP packet instead (testnet.sh --netns: real loss that
// the nodes' TCP retransmits); the clients reach the nodes' admin sockets.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "bench/bench_help.h"
#include "chain/genesis.h"
#include "chain/keys.h"
#include "chain/transaction.h"
#include "api/http_client.h"

namespace {

using namespace std::chrono;
using baton::api::HttpClient;
using nlohmann::json;

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Node {
  std::string name, url;
  int pid = 0;
};

std::unique_ptr<HttpClient> client(const std::string& url) {
  return std::move(HttpClient::connect_to(url, seconds(10))).value();
}

long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// user + sys CPU seconds of a process (fields 14 and 15 of /proc/PID/stat),
// or -1 when it cannot be read.
double cpu_seconds(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return -1;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After ")": state is field 3; utime and stime are fields 14 and 15.
  for (int f = 3; f <= 15 && rest >> field; ++f) {
    if (f == 14) utime = std::stoull(field);
    if (f == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double nodes_cpu_seconds(const std::vector<Node>& nodes) {
  double sum = 0;
  for (const auto& n : nodes) sum += std::max(0.0, cpu_seconds(std::to_string(n.pid)));
  return sum;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

std::uint64_t height(HttpClient& c) {
  auto r = c.get("/status");
  if (!r || r->status != 200) return 0;
  return json::parse(r->body)["height"].get<std::uint64_t>();
}

// Watches one node: records when each transaction hash first appears in a
// committed block, and the number of transactions per block with its time.
class Watcher {
 public:
  Watcher(const std::string& url, std::uint64_t from) : c_(client(url)), next_(from + 1) {
    thread_ = std::thread([this] { run(); });
  }
  ~Watcher() {
    stop_ = true;
    thread_.join();
  }
  std::optional<steady_clock::time_point> seen(const std::string& hash) {
    std::lock_guard l(m_);
    auto it = seen_.find(hash);
    if (it == seen_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::pair<steady_clock::time_point, std::size_t>> blocks() {
    std::lock_guard l(m_);
    return blocks_;
  }

 private:
  void run() {
    while (!stop_) {
      const std::uint64_t h = height(*c_);
      while (next_ <= h && !stop_) {
        auto r = c_->get("/block/" + std::to_string(next_));
        if (!r || r->status != 200) break;
        const auto now = steady_clock::now();
        json b = json::parse(r->body);
        std::lock_guard l(m_);
        for (const auto& t : b["transactions"]) seen_.emplace(t["hash"].get<std::string>(), now);
        blocks_.emplace_back(now, b["transactions"].size());
        ++next_;
      }
      std::this_thread::sleep_for(milliseconds(2));
    }
  }
  std::unique_ptr<HttpClient> c_;
  std::uint64_t next_;
  std::atomic<bool> stop_{false};
  std::mutex m_;
  std::map<std::string, steady_clock::time_point> seen_;
  std::vector<std::pair<steady_clock::time_point, std::size_t>> blocks_;
  std::thread thread_;
};

struct Sender {
  baton::chain::SigningKey key;
  std::uint64_t nonce = 1;
};

// Signs `s`'s next note and posts it; on acceptance the nonce moves on.
bool post_note(HttpClient& c, const baton::chain::NetworkId& network, Sender& s,
               const std::string& text) {
  const std::string tx =
      baton::chain::encode_transaction(baton::chain::make_note(network, s.key, s.nonce, text));
  auto r = c.request("POST", "/tx", tx, "application/octet-stream");
  if (!r || r->status != 202) return false;
  ++s.nonce;
  return true;
}

// Steady load of `rate` tx/s for `seconds_total`; prints every node's RSS each
// `sample_s` seconds, then first / last / max per node.
int memory_run(const std::vector<Node>& nodes, const std::vector<Sender>& senders,
               const baton::chain::NetworkId& network, int seconds_total, int rate, int sample_s,
               int clients) {
  auto c0 = client(nodes[0].url);
  const std::uint64_t h0 = height(*c0);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> accepted{0}, refused{0};
  std::vector<std::thread> threads;
  const double per_client = static_cast<double>(rate) / clients;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      const int idx = t % static_cast<int>(nodes.size());
      auto c = client(nodes[idx].url);
      Sender s{senders[idx].key};
      if (auto r = c->get("/nonce/" + s.key.public_key().hex()); r && r->status == 200)
        s.nonce = json::parse(r->body)["next_nonce"].get<std::uint64_t>();
      const std::string pad(120, 'x');
      const auto start = steady_clock::now();
      for (std::uint64_t k = 0; !stop; ++k) {
        // Paced: the k-th transaction is due k / per_client seconds in.
        std::this_thread::sleep_until(start +
                                      microseconds(static_cast<long long>(k * 1e6 / per_client)));
        if (post_note(*c, network, s, "memory " + std::to_string(s.nonce) + pad)) {
          ++accepted;
        } else {
          ++refused;
        }
      }
    });
  }
  std::vector<std::vector<long>> series(nodes.size());
  const auto t0 = steady_clock::now();
  const double cpu0 = nodes_cpu_seconds(nodes);
  std::printf("memory run: %d tx/s from %d clients for %d s, RSS (MiB) every %d s\n", rate, clients,
              seconds_total, sample_s);
  std::printf("%6s %8s %10s", "t_s", "height", "submitted");
  for (const auto& n : nodes) std::printf(" %9s", n.name.c_str());
  std::printf(" %s\n", "load");
  for (int k = 0; k * sample_s <= seconds_total; ++k) {
    std::this_thread::sleep_until(t0 + seconds(k * sample_s));
    std::printf("%6d %8llu %10llu", k * sample_s, static_cast<unsigned long long>(height(*c0)),
                static_cast<unsigned long long>(accepted.load()));
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      series[i].push_back(rss_kib(nodes[i].pid));
      std::printf(" %9.1f", series[i].back() / 1024.0);
    }
    std::printf(" %s\n", load_average().c_str());
    std::fflush(stdout);
  }
  stop = true;
  for (auto& t : threads) t.join();
  const double cpu = nodes_cpu_seconds(nodes) - cpu0;
  // Let the last submitted transactions commit before counting.
  std::this_thread::sleep_for(seconds(3));
  std::uint64_t committed = 0;
  const std::uint64_t h1 = height(*c0);
  for (std::uint64_t h = h0 + 1; h <= h1; ++h) {
    auto r = c0->get("/block/" + std::to_string(h));
    if (r && r->status == 200) committed += json::parse(r->body)["transactions"].size();
  }
  std::printf(
      "submitted %llu (refused %llu), committed %llu in blocks %llu..%llu; nodes' CPU %.1f s "
      "(%.0f us per committed tx)\n",
      static_cast<unsigned long long>(accepted.load()),
      static_cast<unsigned long long>(refused.load()), static_cast<unsigned long long>(committed),
      static_cast<unsigned long long>(h0 + 1), static_cast<unsigned long long>(h1), cpu,
      committed ? cpu / committed * 1e6 : 0.0);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& v = series[i];
    std::printf("  %s RSS: first %.1f MiB, last %.1f MiB, max %.1f MiB\n", nodes[i].name.c_str(),
                v.front() / 1024.0, v.back() / 1024.0,
                *std::max_element(v.begin(), v.end()) / 1024.0);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  baton::bench::answer_version(argc, argv, "baton-bench-consensus");
  baton::bench::answer_help(
      argc, argv,
      "usage: baton-bench-consensus [--nodes N] [--latency-txs K] [--gap-ms MS] [--load-s S] "
      "[--clients C] [--dir DIR] [--memory-s S] [--rate R] [--sample-s S] [--wan D[:J[:L]]] "
      "[--wan-node NAME=D[:J[:L]]] [--netns] [--max-block-txs N]\nStarts real batond "
      "processes on loopback (deploy/testnet.sh) and prints commit latency, throughput and memory; "
      "asserts nothing.\n");
  int nodes_n = 4, latency_txs = 200, gap_ms = 50, load_s = 20, clients = 4;
  int memory_s = 0, rate = 300, sample_s = 10;
  std::string dir, wan, wan_args;
  for (int i = 1; i < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--netns") {  // a flag: the next argument is an option again
      wan_args += " --netns";
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << a << " needs a value\n";
      return 2;
    }
    const std::string v = argv[i + 1];
    if (a == "--nodes")
      nodes_n = std::stoi(v);
    else if (a == "--latency-txs")
      latency_txs = std::stoi(v);
    else if (a == "--gap-ms")
      gap_ms = std::stoi(v);
    else if (a == "--load-s")
      load_s = std::stoi(v);
    else if (a == "--clients")
      clients = std::stoi(v);
    else if (a == "--dir")
      dir = v;
    else if (a == "--memory-s")
      memory_s = std::stoi(v);
    else if (a == "--rate")
      rate = std::stoi(v);
    else if (a == "--sample-s")
      sample_s = std::stoi(v);
    else if (a == "--max-block-txs")
      wan_args += " --max-block-txs " + std::to_string(std::stoi(v));
    else if (a == "--wan" || a == "--wan-node") {
      // Passed to testnet.sh; it checks the format. No shell quoting needed
      // for what it accepts (digits, ':', '.', '=' and node names).
      if (v.find_first_not_of(
              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:.=_-") !=
          std::string::npos) {
        std::cerr << a << " " << v << ": only names, digits, ':', '.', '=' are allowed\n";
        return 2;
      }
      if (a == "--wan") wan = v;
      wan_args += " " + a + " " + v;
    } else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  if (dir.empty()) {
    char tmpl[] = "/tmp/baton-bench-consensus-XXXXXX";
    dir = std::string(mkdtemp(tmpl)) + "/net";
  }
  const std::string script = std::string(BATON_SOURCE_DIR) + "/deploy/testnet.sh";
  // BATON_BIN_DIR in the environment picks other batond/baton binaries (e.g. an
  // older build, to compare).
  const char* bin_env = std::getenv("BATON_BIN_DIR");
  const std::string env =
      "BATON_BIN_DIR=" + std::string(bin_env != nullptr ? bin_env : BATON_BIN_DIR) + " ";
  if (std::system((env + script + " up --nodes " + std::to_string(nodes_n) + " --dir " + dir +
                   wan_args + " >/dev/null")
                      .c_str()) != 0) {
    std::cerr << "testnet.sh up failed\n";
    return 1;
  }
  struct Down {
    std::string cmd;
    ~Down() { (void)std::system(cmd.c_str()); }
  } down{env + script + " down --dir " + dir + " --kill >/dev/null"};

  std::vector<Node> nodes;
  for (const auto& j : json::parse(slurp(dir + "/nodes.json")))
    nodes.push_back({j["name"], j["admin_url"], j["pid"]});
  const std::string genesis_text = slurp(dir + "/genesis.json");
  const baton::chain::NetworkId network{baton::chain::parse_genesis(genesis_text).value().chain_id,
                                        baton::chain::genesis_hash(genesis_text)};
  std::vector<Sender> senders;
  for (const auto& n : nodes) {
    senders.push_back(
        {baton::chain::parse_secret_keys(slurp(dir + "/keys/" + n.name + ".key")).value().signing});
  }
  auto c0 = client(nodes[0].url);
  std::string linkem_pid = "0";  // the emulator's, when --wan or --netns started one
  if (std::ifstream in(dir + "/linkem.pid"); in) in >> linkem_pid;
  std::this_thread::sleep_for(seconds(2));  // let every session come up

  const unsigned cores = std::thread::hardware_concurrency();
  std::cout << "nodes: " << nodes_n << ", cores: " << cores << ", load average: " << load_average()
            << "\n";
  if (memory_s > 0) return memory_run(nodes, senders, network, memory_s, rate, sample_s, clients);

  // --- light load: latency ---
  {
    Watcher w(nodes[0].url, height(*c0));
    std::vector<std::pair<std::string, steady_clock::time_point>> sent;
    for (int k = 0; k < latency_txs; ++k) {
      Sender& s = senders[0];
      const std::string tx = baton::chain::encode_transaction(
          baton::chain::make_note(network, s.key, s.nonce, "latency probe " + std::to_string(k)));
      const auto t0 = steady_clock::now();
      auto r = c0->request("POST", "/tx", tx, "application/octet-stream");
      if (r && r->status == 202) {
        ++s.nonce;
        sent.emplace_back(json::parse(r->body)["hash"].get<std::string>(), t0);
      }
      std::this_thread::sleep_for(milliseconds(gap_ms));
    }
    const auto deadline = steady_clock::now() + seconds(30);
    std::vector<double> lat;
    for (const auto& [hash, t0] : sent) {
      std::optional<steady_clock::time_point> t1;
      while (!(t1 = w.seen(hash)) && steady_clock::now() < deadline)
        std::this_thread::sleep_for(milliseconds(5));
      if (t1) lat.push_back(duration<double, std::milli>(*t1 - t0).count());
    }
    std::printf(
        "light load (1 tx / %d ms): %zu of %zu committed, commit latency p50 %.1f ms, p99 %.1f "
        "ms\n",
        gap_ms, lat.size(), sent.size(), percentile(lat, 0.5), percentile(lat, 0.99));
    if (!wan.empty()) {
      // The floor: propose, prevote, precommit, one one-way delay each (plus
      // one more when the tx must first reach another node's proposer).
      const int delay_ms = std::stoi(wan.substr(0, wan.find(':')));
      std::printf(
          "  WAN %s%s: floor 3 x %d ms = %d ms (4 x = %d ms when the proposer is another node)\n",
          wan.c_str(),
          wan_args.find("--netns") != std::string::npos ? " per packet (--netns)" : " (TCP relay)",
          delay_ms, 3 * delay_ms, 4 * delay_ms);
    }
  }

  // --- sustained load: throughput and memory ---
  {
    std::vector<long> rss_start;
    for (const auto& n : nodes) rss_start.push_back(rss_kib(n.pid));
    Watcher w(nodes[0].url, height(*c0));
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> accepted{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t) {
      threads.emplace_back([&, t] {
        // One sender per client thread (its nonces stay in order), entering
        // through "its" node.
        const int idx = t % static_cast<int>(nodes.size());
        auto c = client(nodes[idx].url);
        Sender s{senders[idx].key};
        s.nonce = 1;
        if (auto r = c->get("/nonce/" + s.key.public_key().hex()); r && r->status == 200) {
          s.nonce = json::parse(r->body)["next_nonce"].get<std::uint64_t>();
        }
        const std::string pad(120, 'x');
        while (!stop) {
          if (post_note(*c, network, s, "load " + std::to_string(s.nonce) + pad)) {
            ++accepted;
          } else {
            ++refused;
            std::this_thread::sleep_for(milliseconds(5));  // pool full or nonce gap: back off
          }
        }
      });
    }
    const auto t0 = steady_clock::now();
    // The measured window starts after the first 20% (warm-up).
    const auto from = t0 + milliseconds(load_s * 1000 / 5);
    std::this_thread::sleep_until(from);
    const double cpu_from = nodes_cpu_seconds(nodes), self_from = cpu_seconds("self"),
                 link_from = cpu_seconds(linkem_pid);
    std::vector<long> rss_peak(nodes.size(), 0);
    while (steady_clock::now() - t0 < seconds(load_s)) {
      std::this_thread::sleep_for(milliseconds(500));
      for (std::size_t i = 0; i < nodes.size(); ++i)
        rss_peak[i] = std::max(rss_peak[i], rss_kib(nodes[i].pid));
    }
    const auto t1 = steady_clock::now();
    const double cpu_to = nodes_cpu_seconds(nodes), self_to = cpu_seconds("self"),
                 link_to = cpu_seconds(linkem_pid);
    const std::string load_end = load_average();
    stop = true;
    for (auto& t : threads) t.join();
    std::size_t txs = 0, blocks = 0;
    for (const auto& [when, n] : w.blocks()) {
      if (when >= from && when <= t1) {
        txs += n;
        ++blocks;
      }
    }
    const double secs = duration<double>(t1 - from).count();
    std::printf(
        "sustained load (%d clients, %d s): %.0f committed tx/s (%zu txs in %zu blocks over %.1f "
        "s), "
        "%llu submitted, %llu refused/retried\n",
        clients, load_s, txs / secs, txs, blocks, secs,
        static_cast<unsigned long long>(accepted.load()),
        static_cast<unsigned long long>(refused.load()));
    if (txs > 0) {
      const double node_cpu = cpu_to - cpu_from;
      const double per_tx_us = node_cpu / static_cast<double>(txs) * 1e6;
      std::printf(
          "  CPU: the %zu batond used %.2f CPU-s (user+sys) in those %.1f s = %.0f us per "
          "committed tx; this bench's clients and watcher %.0f us per tx; load average at the "
          "end %s\n",
          nodes.size(), node_cpu, secs, per_tx_us,
          (self_to - self_from) / static_cast<double>(txs) * 1e6, load_end.c_str());
      if (link_from >= 0 && link_to >= 0) {
        std::printf("  baton-linkem (the emulated links) used %.2f CPU-s = %.0f us per tx\n",
                    link_to - link_from, (link_to - link_from) / static_cast<double>(txs) * 1e6);
      }
      std::printf(
          "  projection (not a measurement): with all %u cores for the nodes alone, %.0f us per "
          "tx allows %.0f tx/s\n",
          cores, per_tx_us, cores * 1e6 / per_tx_us);
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      std::printf("  %s RSS: start %ld MiB, peak %ld MiB, end %ld MiB\n", nodes[i].name.c_str(),
                  rss_start[i] / 1024, rss_peak[i] / 1024, rss_kib(nodes[i].pid) / 1024);
    }
  }
  return 0;
}

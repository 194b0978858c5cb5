// baton-bench-consensus: real batond processes on loopback (started with
// deploy/testnet.sh), driven through their admin APIs. Prints
//   - commit latency p50/p99 (submit -> the block holding the tx is visible
//     on the node it was sent to) under light load (one tx every --gap-ms);
//   - committed tx/s under sustained load from --clients threads;
//   - each node's RSS at the start and end of the sustained load.
// Figures go to docs/BENCHMARKS.md ("Consensus and network").
//
//   baton-bench-consensus [--nodes 4] [--latency-txs 200] [--gap-ms 50]
//                         [--load-s 20] [--clients 4] [--dir DIR]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/genesis.h"
#include "chain/keys.h"
#include "chain/transaction.h"
#include "node/http_client.h"

namespace {

using namespace std::chrono;
using baton::node::HttpClient;
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

}  // namespace

int main(int argc, char** argv) {
  int nodes_n = 4, latency_txs = 200, gap_ms = 50, load_s = 20, clients = 4;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
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
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  if (dir.empty()) {
    char tmpl[] = "/tmp/baton-bench-consensus-XXXXXX";
    dir = std::string(mkdtemp(tmpl)) + "/net";
  }
  const std::string script = std::string(BATON_SOURCE_DIR) + "/deploy/testnet.sh";
  const std::string env = "BATON_BIN_DIR=" + std::string(BATON_BIN_DIR) + " ";
  if (std::system((env + script + " up --nodes " + std::to_string(nodes_n) + " --dir " + dir +
                   " >/dev/null")
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
  const std::string chain_id =
      baton::chain::parse_genesis(slurp(dir + "/genesis.json")).value().chain_id;
  std::vector<Sender> senders;
  for (const auto& n : nodes) {
    senders.push_back(
        {baton::chain::parse_secret_keys(slurp(dir + "/keys/" + n.name + ".key")).value().signing});
  }
  auto c0 = client(nodes[0].url);
  std::this_thread::sleep_for(seconds(2));  // let every session come up

  std::cout << "nodes: " << nodes_n << ", cores: " << std::thread::hardware_concurrency() << "\n";

  // --- light load: latency ---
  {
    Watcher w(nodes[0].url, height(*c0));
    std::vector<std::pair<std::string, steady_clock::time_point>> sent;
    for (int k = 0; k < latency_txs; ++k) {
      Sender& s = senders[0];
      const std::string tx = baton::chain::encode_transaction(
          baton::chain::make_note(chain_id, s.key, s.nonce, "latency probe " + std::to_string(k)));
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
          const std::string tx = baton::chain::encode_transaction(baton::chain::make_note(
              chain_id, s.key, s.nonce, "load " + std::to_string(s.nonce) + pad));
          auto r = c->request("POST", "/tx", tx, "application/octet-stream");
          if (r && r->status == 202) {
            ++s.nonce;
            ++accepted;
          } else {
            ++refused;
            std::this_thread::sleep_for(milliseconds(5));  // pool full or nonce gap: back off
          }
        }
      });
    }
    const auto t0 = steady_clock::now();
    std::vector<long> rss_peak(nodes.size(), 0);
    while (steady_clock::now() - t0 < seconds(load_s)) {
      std::this_thread::sleep_for(seconds(1));
      for (std::size_t i = 0; i < nodes.size(); ++i)
        rss_peak[i] = std::max(rss_peak[i], rss_kib(nodes[i].pid));
    }
    stop = true;
    for (auto& t : threads) t.join();
    const auto t1 = steady_clock::now();
    // Committed tx/s over the load window, skipping the first 20% (warm-up).
    const auto from = t0 + (t1 - t0) / 5;
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
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      std::printf("  %s RSS: start %ld MiB, peak %ld MiB, end %ld MiB\n", nodes[i].name.c_str(),
                  rss_start[i] / 1024, rss_peak[i] / 1024, rss_kib(nodes[i].pid) / 1024);
    }
  }
  return 0;
}

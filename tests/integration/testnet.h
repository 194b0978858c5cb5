// A test's handle on a local network started by deploy/testnet.sh: the
// nodes.json it wrote, an admin-API client per node, members' keys for
// signing transactions, and `down --kill` on destruction.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/keys.h"
#include "api/http_client.h"
#include "tests/support/test_support.h"

namespace baton::integration {

struct TestNode {
  std::string name;
  std::string admin_url;
  std::string p2p_addr;
  std::filesystem::path data_dir;
  std::filesystem::path config;
  std::string admin_cert_sha256;  // the pinned certificate of an https admin_url; "" otherwise
};

// What `testnet.sh up` is asked for (see its header for each option).
struct TestnetOptions {
  int nodes = 4;
  int empty_block_ms = 500;
  // Empty blocks while no run needs the block clock (batond's
  // idle_block_interval_ms); -1: the same as empty_block_ms, so that tests
  // that wait for heights see them grow while idle; 0: none at all.
  int idle_block_ms = -1;
  std::vector<std::string> names;  // default node1..nodeN
  std::string chain_id;            // default testnet.sh's
  std::filesystem::path plan;      // training plan into the genesis
  std::string store;               // [store] uri
  std::filesystem::path data;      // `baton data split` output: [training] per node
  std::string malicious;           // a node that flips its training labels
  std::string overspend;           // a node that trains past its privacy budget (--overspend)
  std::string drop_out;            // a node lost after its first masked upload (--drop-out)
  int model_check_s = 0;           // [model_cache] check_interval_s; 0: the node's default
  // How the agents reach their nodes (testnet.sh --agent-link): "" or
  // "http" (plain, loopback), "https" (every admin API over TLS, pinned;
  // this harness's clients pin it too), "unix" (the admin API's socket).
  std::string agent_link;
  std::string sponsor;                            // testnet.sh --sponsor: a member with no node
  std::map<std::string, std::uint64_t> balances;  // testnet.sh --balance NAME=N
  // Real-network conditions (issue 18): testnet.sh --wan D[:J[:L]] and
  // --wan-node NAME=D[:J[:L]] (one baton-linkem relays every pair).
  std::string wan;
  std::vector<std::string> wan_nodes;
  // testnet.sh --netns: each node in a network namespace of its own, the
  // --wan profiles applied per packet by baton-linkem's packet switch.
  bool netns = false;
  bool no_start = false;  // testnet.sh up --no-start (then start_all())
};

// Why this machine cannot run testnet.sh --netns ("" when it can).
std::string netns_unavailable();

class Testnet {
 public:
  // Runs `testnet.sh up --nodes n`; check ok() after.
  explicit Testnet(int n, int empty_block_ms = 500);
  explicit Testnet(const TestnetOptions& options);
  ~Testnet();

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::vector<TestNode>& nodes() const { return nodes_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

  // A node is its batond and, with [training] data, its baton-agent.
  enum class Process { both, batond, agent };
  // testnet.sh start/stop for one node (both processes, or one: --only);
  // stop with kill = true sends SIGKILL.
  bool start(int i, Process which = Process::both);
  bool stop(int i, bool kill = false, Process which = Process::both);
  // testnet.sh down: stops every node (SIGTERM).
  bool down();
  // testnet.sh start-all (after TestnetOptions::no_start).
  bool start_all();
  // testnet.sh wan COMMAND: a baton-linkem control line (e.g. "cut a>c c>a",
  // "heal *"); its reply, which ends in "ok" when it worked.
  std::string wan(const std::string& command);
  // The directory testnet.sh works in (keys/, genesis.json, nodes/NAME/).
  std::filesystem::path net_dir() const { return dir_.path() / "net"; }
  // Index of the node called `name`, or -1.
  int index_of(const std::string& name) const;
  // Sends `sig` (e.g. SIGSTOP, SIGCONT) to node i's batond (or its agent);
  // false if not running.
  bool signal(int i, int sig, Process which = Process::batond);

  // GET /training of node i (api/training_json.h); nullopt when it does not answer.
  std::optional<nlohmann::json> training(int i);

  // GET /status of node i; nullopt when it does not answer.
  std::optional<nlohmann::json> status(int i);
  std::uint64_t height(int i);  // 0 when down
  // Block id at `height` from node i's admin API; "" when missing.
  std::string block_id(int i, std::uint64_t height);
  // Number of transactions in block `height` of node i.
  std::size_t block_tx_count(int i, std::uint64_t height);

  // Signs a TX_NOTE from member `sender` with the next local nonce and posts
  // it to node `via`. Returns the tx hash, or "" when refused (with `why`).
  std::string submit_note(int sender, int via, const std::string& text, std::string* why = nullptr);
  // True once node i reports the transaction committed.
  bool committed(int i, const std::string& tx_hash);

  // Signs a transaction of `type` with member `sender`'s key and the node's
  // next nonce for it (GET /nonce) and posts it to node `via`. Returns the tx
  // hash, or "" when refused (with `why`).
  std::string submit_tx(int sender, int via, int type, const std::string& payload,
                        std::string* why = nullptr);

  std::string chain_id() const { return chain_id_; }
  const chain::MemberSecretKeys& keys(int i) const { return keys_.at(i); }
  chain::Hash genesis_hash() const { return genesis_hash_; }
  std::uint16_t p2p_port(int i) const;

 private:
  api::HttpClient& client(int i);
  void init(const std::vector<std::string>& args);
  testing::TempDir dir_{"baton-testnet"};
  bool ok_ = false;
  std::string error_;
  std::vector<TestNode> nodes_;
  std::vector<std::unique_ptr<api::HttpClient>> clients_;
  std::vector<chain::MemberSecretKeys> keys_;
  std::map<int, std::uint64_t> next_nonce_;
  std::string chain_id_;
  chain::Hash genesis_hash_;
};

}  // namespace baton::integration

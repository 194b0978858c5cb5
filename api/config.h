// node.toml: what one hospital's `batond` needs to know about itself.
//
//   name         = "hospital-a"          # must match a genesis member
//   key_file     = "keys/hospital-a.key" # NAME.key (chain/keys.h), mode 0600
//   genesis_file = "genesis.json"
//   data_dir     = "data"                # RocksDB ledger + signer state
//   p2p_listen   = "0.0.0.0:26656"       # host:port for peers
//   admin_listen = "127.0.0.1:26680"     # admin HTTP API; loopback by default
//   admin_token_file = "admin.token"     # the API's bearer token (api/admin_token.h);
//                                        # created at start when absent
//   log_level    = "info"                # trace|debug|info|warn|error|off
//   log_file     = ""                    # empty: stderr
//
//   [p2p.dial]       # optional (issue 18): dial a member here instead of its
//   hospital-b = "10.8.0.2:26656"        # genesis p2p_address (NAT, VPN gateway,
//                                        # TCP proxy); the handshake still checks
//                                        # its genesis key, so a wrong address
//                                        # only fails to connect
//
//   [consensus]      # optional; each key overrides the genesis default
//   timeout_propose_ms, timeout_prevote_ms, timeout_precommit_ms,
//   timeout_delta_ms (every step's per-round increase), timeout_commit_ms
//   (pause after a commit), empty_block_interval_ms (heartbeat while a run
//   needs the block clock), idle_block_interval_ms (heartbeat otherwise),
//   max_proposal_txs (this node's blocks carry at most this many)
//
//   [mempool]        # optional
//   max_txs = 20000, max_bytes = 67108864, max_nonce_gap = 1000
//
//   [ledger]         # optional
//   snapshot_interval_blocks = 1000   # a state snapshot every N blocks
//                                     # (docs/PROTOCOL.md §24); 0 = never;
//                                     # at most 100000000
//
//   [statesync]      # optional; only used while the ledger is empty
//   trust_height = 1200                # a snapshot height a peer's status lists
//   trust_block_id = "64 hex"          # the block id at that height
//                                      # (docs/OPERATIONS.md, state sync)
//
//   [admin_api]      # optional; limits of the admin HTTP API (docs/OPERATIONS.md)
//   max_connections = 64, max_connections_per_client = 32,
//   idle_timeout_ms = 30000 (between requests), header_timeout_ms = 5000
//   (from a request's first byte to the end of its header), body_timeout_ms =
//   30000, allowed_hosts = [] (names besides loopback and admin_listen's host
//   that requests may carry in Host and Origin)
//   tls = false          # TLS on admin_listen (api/admin_tls.h); required when
//                        # admin_listen is not a loopback address (batond refuses
//                        # to start otherwise)
//   tls_cert = "admin-tls.crt", tls_key = "admin-tls.key"   # beside node.toml;
//                        # when neither is set and both files are absent, batond
//                        # makes a self-signed P-256 pair at start
//   unix_socket = ""     # also serve the API on this socket file (mode 0600, or
//   unix_socket_group = ""  # 0660 with this group); its permissions are the
//                        # authentication: no token is asked for on it
//
//   [store]          # where sealed model blobs live; required with [training]
//   uri      = "file:///abs/dir" | "s3://bucket/prefix"
//   endpoint = "http://127.0.0.1:9000"   # s3 only; default $BATON_S3_ENDPOINT, else AWS
//   region   = "us-east-1"               # s3 only; default $AWS_REGION
//   (S3 credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or ~/.aws/credentials)
//
//   [training]       # optional: this hospital trains and votes in runs
//   enabled              = true        # false: keep the section but do not take part
//   train_csv            = "data/train.csv"       # local training rows (never leave the node)
//   validation_csv       = "data/validation.csv"  # local rows used to vote on models
//   feature_schema       = ""          # optional: agreed preprocessor JSON
//   (learning/preprocess.h);
//                                      # empty: standardise with this hospital's own train_csv
//   na_values            = ["", "NA"]  # cells that mean "no value" when fitting on
//                                      # train_csv (a feature_schema file has its own)
//   work_dir             = ""          # journal, timings, temporary files; default data_dir/agent
//   torch_threads        = 1           # LibTorch intra-op threads
//   device               = "cpu"       # or "cuda:N": needs a LibTorch with CUDA
//                                      # (docs/OPERATIONS.md; refused at start otherwise)
//   malicious_label_flip = false       # flips local training labels (tests/demo of a
//                                      # dishonest hospital; never in production)
//   malicious_ignore_privacy_budget = false  # trains every epoch of a DP-SGD plan
//                                      # whatever its privacy budget allows (tests of
//                                      # a dishonest hospital; never in production)
//   test_drop_out_after_upload = false # federated: takes no part in a run once its
//                                      # first masked upload is on the ledger (tests
//                                      # of a partner lost after masking; never in
//                                      # production)
//
//   [model_cache]    # optional: this node's copies of approved models (agent/model_cache.h)
//   enabled              = true        # false: the object store holds the only copy
//   dir                  = ""          # default <training work_dir>/model_cache
//   max_bytes            = 4294967296  # size cap; the least wanted copies go first
//   keep_lineage         = true        # every approved model of active runs (false: heads)
//   keep_finished        = true        # the final model of every finished run
//   check_interval_s     = 60          # how often the store's copies are checked
//   full_check_max_bytes = 67108864    # copies up to this size are re-hashed at each
//                                      # check (larger: by size; in full after a failure)
//
// Since issue 12 batond itself neither trains nor votes: the partner agent is
// the `baton-agent` process, configured by agent.toml (AgentConfig below),
// which takes the [store], [training] and [model_cache] sections as they are
// written here. node.toml still parses them (old files keep working; batond
// warns that they have moved).
//
// Without [training] (or with enabled = false) the node validates and commits
// blocks but takes no part in runs: it neither trains nor approves load
// requests nor votes on models. Its voting power still counts in the runs'
// quorums, so such a member should hold no voting power or be a minority.
//
// Relative paths are resolved against the directory of the config file, so a
// node directory can be moved as a whole. Parsing only reads text: checking
// that files exist and ports are free belongs to the node's start-up.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/crypto.h"
#include "chain/result.h"

namespace baton::api {

// "host:port" split; the host may be a name, IPv4 or [IPv6].
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const;
};

// Parses "host:port"; port 0 is allowed only when `allow_zero_port`.
Result<HostPort> parse_host_port(std::string_view text, bool allow_zero_port = false);

// Overrides of the genesis consensus parameters; unset = use genesis.
struct ConsensusOverrides {
  std::optional<std::uint32_t> timeout_propose_ms;
  std::optional<std::uint32_t> timeout_prevote_ms;
  std::optional<std::uint32_t> timeout_precommit_ms;
  std::optional<std::uint32_t> timeout_delta_ms;
  std::optional<std::uint32_t> timeout_commit_ms;
  // With no transactions waiting, a proposer still proposes an (empty) block
  // once this long has passed since the last commit while the ledger counts
  // blocks (a run in progress): deadlines in blocks keep their meaning in
  // time. Default 1000 ms.
  std::optional<std::uint32_t> empty_block_interval_ms;
  // The same heartbeat while no deadline counted in blocks is pending (no
  // run in progress, every gain and escrow settled: chain::needs_block_clock).
  // Default 600000 ms (10 minutes); 0: no empty block at all while idle.
  std::optional<std::uint32_t> idle_block_interval_ms;
  // When this node proposes, at most this many transactions (and never more
  // than genesis max_block_txs). Smaller blocks keep rounds shorter than the
  // timeouts on a busy machine. Default 2000.
  std::optional<std::uint32_t> max_proposal_txs;
};

// [ledger]: how the node keeps its ledger.
struct LedgerConfig {
  // A state snapshot after every block whose height is a multiple of this
  // (docs/PROTOCOL.md §24): a restart replays only the blocks after the
  // newest one. 0: never.
  std::uint64_t snapshot_interval_blocks = 1000;
};

// [statesync]: a node with an empty ledger takes the state snapshot at
// trust_height from its peers instead of replaying from genesis, accepting
// it only when block trust_height has the id trust_block_id
// (docs/PROTOCOL.md §24.4).
struct StateSyncConfig {
  std::uint64_t trust_height = 0;  // >= 1
  chain::Hash trust_block_id;
};

struct MempoolLimits {
  std::size_t max_txs = 20000;
  std::size_t max_bytes = 64u << 20;
  // A transaction whose nonce is further than this ahead of the sender's next
  // committed nonce is refused (it could never be included soon and would
  // only take space).
  std::uint64_t max_nonce_gap = 1000;
};

enum class LogLevel { trace, debug, info, warn, error, off };

// [admin_api]: the admin HTTP server's limits (api/http_server.h) and the
// hosts its request checks accept (api/admin_access.h).
struct AdminApiConfig {
  std::size_t max_connections = 64;
  std::size_t max_connections_per_client = 32;
  std::uint32_t idle_timeout_ms = 30'000;
  std::uint32_t header_timeout_ms = 5'000;
  std::uint32_t body_timeout_ms = 30'000;
  std::vector<std::string> allowed_hosts;
  bool tls = false;
  std::filesystem::path tls_cert;     // with tls: default admin-tls.crt beside node.toml
  std::filesystem::path tls_key;      // with tls: default admin-tls.key beside node.toml
  bool tls_self_signed = false;       // neither named: batond makes the pair when both are absent
  std::filesystem::path unix_socket;  // empty: none
  std::string unix_socket_group;      // empty: mode 0600; else 0660 with this group
};

// [store]: the object store the node's partner agent uses.
struct StoreConfig {
  std::string uri;       // file:///DIR or s3://BUCKET[/PREFIX]
  std::string endpoint;  // s3: empty = $BATON_S3_ENDPOINT or AWS
  std::string region;    // s3: empty = $AWS_REGION or us-east-1
};

// [training]: this hospital's part in training runs (agent/agent.h).
struct TrainingConfig {
  bool enabled = true;
  std::filesystem::path train_csv;
  std::filesystem::path validation_csv;
  std::filesystem::path feature_schema;  // empty: fit on train_csv
  // The CSV cells that mean "no value" when fitting on train_csv (absent:
  // "" and "NA"); a feature_schema file carries its own.
  std::optional<std::vector<std::string>> na_values;
  std::filesystem::path work_dir;  // default data_dir/agent
  int torch_threads = 1;
  std::string device = "cpu";  // "cpu" or "cuda:N", N in 0..63 (issue 16)
  bool malicious_label_flip = false;
  // Test-only dishonest hospital (issue 14): under DP-SGD it trains the
  // plan's epochs whatever its privacy budget allows; the ledger refuses its
  // SaveRequest once that passes the budget (privacy_budget_exceeded).
  bool malicious_ignore_privacy_budget = false;
  // Test-only partner lost after masking (issue 15): once one of its masked
  // uploads of a federated run is on the ledger, the agent does nothing more
  // for that run (no share revealed, no aggregate, no vote), like a hospital
  // whose agent died right after its upload.
  bool test_drop_out_after_upload = false;
};

// [training] device (issue 16): the CUDA device index of "cuda:N" (N in
// 0..63), -1 for "cpu", nullopt for anything else.
std::optional<int> training_device_index(std::string_view device);
inline bool valid_training_device(std::string_view device) {
  return training_device_index(device).has_value();
}

// [model_cache]: what the partner agent keeps of approved models, and how
// often it checks the object store's copies (agent/model_cache.h).
struct ModelCacheConfig {
  bool enabled = true;
  std::filesystem::path dir;  // empty: <training work_dir>/model_cache
  std::uint64_t max_bytes = 4ull << 30;
  bool keep_lineage = true;
  bool keep_finished = true;
  std::uint32_t check_interval_s = 60;
  std::uint64_t full_check_max_bytes = 64ull << 20;
};

inline constexpr std::string_view kDefaultAdminTokenFile = "admin.token";

struct NodeConfig {
  std::filesystem::path config_path;  // the file this came from (absolute)
  std::string name;
  std::filesystem::path key_file;
  std::filesystem::path genesis_file;
  std::filesystem::path data_dir;
  HostPort p2p_listen;
  HostPort admin_listen{"127.0.0.1", 26680};
  std::filesystem::path admin_token_file;  // default: admin.token beside the config
  LogLevel log_level = LogLevel::info;
  std::filesystem::path log_file;  // empty: stderr
  // [p2p.dial]: genesis member name -> the address dialled instead of its
  // genesis p2p_address. Names are checked against the genesis at start.
  std::map<std::string, HostPort, std::less<>> p2p_dial;
  ConsensusOverrides consensus;
  MempoolLimits mempool;
  LedgerConfig ledger;
  std::optional<StateSyncConfig> statesync;  // [statesync]; absent: no state sync
  AdminApiConfig admin_api;
  std::optional<StoreConfig> store;
  std::optional<TrainingConfig> training;  // absent: the node does not take part in runs
  ModelCacheConfig model_cache;

  // True when the partner agent runs ([training] present and enabled).
  bool trains() const { return training.has_value() && training->enabled; }
};

// Parses node.toml text. `config_path` is used to resolve relative paths and
// to name the file in errors. Every error is one sentence naming the key.
Result<NodeConfig> parse_node_config(std::string_view toml_text,
                                     const std::filesystem::path& config_path);

// Reads and parses the file; errors name the path.
Result<NodeConfig> load_node_config(const std::filesystem::path& config_path);

// agent.toml: what one hospital's `baton-agent` (agent/) needs.
//
//   name         = "hospital-a"              # this hospital's genesis member name
//   key_file     = "keys/hospital-a.key"     # the member's key file; the agent reads only
//                                            # its X25519 secret (to open sealed models)
//   genesis_file = "genesis.json"
//   node_url     = "http://127.0.0.1:26680"  # its node's admin API: http:// on loopback,
//                                            # https://HOST:PORT, or unix:/PATH (the socket)
//   node_cert_sha256 = ""                    # https: the node's certificate fingerprint
//   token_file   = "admin.token"             # the node's admin token (batond writes it;
//                                            # not needed over unix:)
//   admin_listen = "127.0.0.1:26681"         # the agent's own API (/models/check, /models/repair)
//   poll_ms      = 200                       # the least time between two of its polls
//                                            # (each a long-poll: the node answers when
//                                            # a block commits, or 204 after 20 s)
//   log_level, log_file                      # as in node.toml
//   [store], [training], [model_cache]       # as in node.toml above; [training] required;
//                                            # work_dir defaults to "agent" beside this file
//
// The token is never sent in clear text off the host: an http:// node_url
// must be a loopback address, and an https:// one needs node_cert_sha256
// (docs/OPERATIONS.md, "Admin API").
struct AgentConfig {
  std::filesystem::path config_path;
  std::string name;
  std::filesystem::path key_file;
  std::filesystem::path genesis_file;
  std::string node_url;
  std::string node_cert_sha256;  // https node_url: 64 hex (api/admin_tls.h)
  std::filesystem::path token_file;
  HostPort admin_listen{"127.0.0.1", 26681};
  std::uint32_t poll_ms = 200;
  LogLevel log_level = LogLevel::info;
  std::filesystem::path log_file;
  StoreConfig store;
  TrainingConfig training;
  ModelCacheConfig model_cache;
};

Result<AgentConfig> parse_agent_config(std::string_view toml_text,
                                       const std::filesystem::path& config_path);
Result<AgentConfig> load_agent_config(const std::filesystem::path& config_path);

std::string_view to_string(LogLevel level);

}  // namespace baton::api

// Node: the one context object of `batond`. It owns every part (ledger store,
// ledger state, mempool, consensus driver, block sync, P2P transport, admin
// API) and wires them; there are no globals.
//
// Threads:
//   - the event loop (one thread, an io_context): the engine, the mempool,
//     the ledger state and every write to the store run here and only here;
//   - the transport's io thread: parses incoming messages and posts them to
//     the loop (at most `kMaxPendingInbound` waiting; beyond that, gossip and
//     consensus messages are dropped, which the protocol tolerates: the
//     engine rebroadcasts and block sync fills gaps);
//   - the admin HTTP thread: reads the store directly (thread-safe) and asks
//     the loop, with a timeout, for what lives there (mempool, nonces).
//
// Start-up: open() checks the configuration (key file, genesis, data
// directory) and loads the committed chain: it replays every stored block to
// rebuild the ledger state, and the engine resumes at tip height + 1 with
// its last checkpoint and signer record. start() binds the ports.
// stop() (SIGTERM) stops accepting, lets the loop finish the task it is in
// (a commit is one task), stops the engine and closes the store.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/logger.h>

#include "chain/chain_spec.h"
#include "chain/keys.h"
#include "chain/ledger_state.h"
#include "chain/validation.h"
#include "node/block_sync.h"
#include "api/config.h"
#include "api/http_server.h"
#include "node/consensus_driver.h"
#include "node/mempool.h"
#include "node/metrics.h"
#include "node/proto/node_message.pb.h"
#include "node/signer_state.h"
#include "node/storage_faults.h"
#include "p2p/transport.h"
#include "node/verified_tx_hashes.h"
#include "storage/ledger_store.h"

namespace baton::node {

// A consistent view for the admin API, refreshed by the loop.
struct NodeSnapshot {
  std::uint64_t height = 0;
  chain::Hash tip_hash;
  std::uint32_t round = 0;
  std::string step = "new_height";
  std::size_t mempool_txs = 0;
  std::size_t mempool_bytes = 0;
  bool halted = false;
  std::string halt_reason;
  // "ledger", "checkpoint", "signer_state" (a storage failure: the node
  // resumes by itself once the disk takes writes) or "consensus" (it waits
  // for an operator); empty when not halted.
  std::string halt_cause;
};

struct PeerStatus {
  std::string name;
  std::string address;
  bool connected = false;
  std::string last_error;
};

struct SubmitOutcome {
  bool accepted = false;
  bool busy = false;  // the node could not answer in time; retry
  chain::Hash hash;
  std::uint64_t nonce = 0;
  std::string reason;  // when refused
  bool pool_full = false;
};

// The serialized NodeMessage, as sent to peers (node_p2p.cpp).
chain::Bytes encode_node_message(const pb::NodeMessage& m);

class Node final : public ConsensusHost,
                   public consensus::Application,
                   public p2p::TransportListener {
 public:
  static constexpr std::size_t kMaxPendingInbound = 20000;
  // Transaction hashes remembered as verified (~100 bytes each).
  static constexpr std::size_t kVerifiedTxHashes = 50000;

  // Reads the key and the genesis, checks that the key is a genesis member
  // and opens (or creates) the ledger in config.data_dir/ledger. Every error
  // is a sentence for the operator.
  static Result<std::unique_ptr<Node>> open(const api::NodeConfig& config,
                                            std::shared_ptr<spdlog::logger> log);
  ~Node() override;

  // Binds the P2P and admin ports and starts the loop. Fails (nothing left
  // running) when a port is in use.
  Status start();
  // Idempotent. After it returns, no thread of the node runs.
  void stop();

  // The admin API's port (useful when admin_listen has port 0).
  std::uint16_t admin_port() const;
  std::uint16_t p2p_port() const;

  // --- for the admin API; thread-safe ---
  NodeSnapshot snapshot() const;
  std::vector<PeerStatus> peers() const;
  const chain::ChainSpec& spec() const { return *spec_; }
  const api::NodeConfig& config() const { return config_; }
  const storage::LedgerStore& store() const { return *store_; }
  const Metrics& metrics() const { return metrics_; }
  SubmitOutcome submit_transaction(std::string tx_bytes);
  // Next nonce for `sender` counting its transactions waiting in the mempool.
  std::optional<std::uint64_t> next_nonce(const chain::PublicKey& sender);
  // The serialized transaction if it waits in the mempool.
  std::optional<std::string> pending_transaction(const chain::Hash& hash);
  // True once stop() began or the node halted itself.
  bool halted() const { return halted_.load(); }
  // The committed ledger state at the tip, for readers off the loop (the
  // admin API's GET /training): the immutable state published after
  // start-up replay and after every commit (shared, not copied). Never null
  // once open() returned.
  std::shared_ptr<const chain::LedgerState> committed_state() const;
  // What the partner agent (`baton-agent`, GET /agent/state) follows: the
  // committed height and state, published after each commit while block
  // sync is within kAgentSyncSlack blocks of the peers (older states are
  // history: acting on them would only send transactions the ledger
  // refuses). height 0 and a null state until the first such commit (or the
  // replayed tip, at start).
  struct AgentView {
    std::uint64_t height = 0;
    std::shared_ptr<const chain::LedgerState> state;
  };
  AgentView agent_view() const;
  // Signs `payload` as a transaction of `type` with this node's key and its
  // next nonce (counting its transactions waiting in the mempool) and
  // submits it (POST /agent/tx; the agent never holds the signing key).
  // Idempotent: when the same type and payload were signed before and that
  // transaction still waits in the mempool or is committed, its outcome is
  // returned again and nothing new is signed, so that an agent restarted
  // between sending and recording never puts a second copy on the ledger.
  SubmitOutcome sign_and_submit(chain::pb::TxType type, std::string payload);
  // Agent transactions remembered for that (sha256 of type and payload).
  static constexpr std::size_t kAgentTxsRemembered = 4096;
  // The admin API's bearer token (api/admin_token.h), read or created by open().
  const std::string& admin_token() const { return admin_token_; }
  // The partner agent's own API ("http://127.0.0.1:PORT", as it announced
  // with its last GET /agent/state), where /models/* are forwarded; "" when
  // no agent announced one. Thread-safe.
  std::string agent_api() const;
  void set_agent_api(std::string url);

  // --- ConsensusHost (loop thread) ---
  Status commit_decision(const consensus::Decision& decision) override;
  void broadcast(const consensus::pb::ConsensusMessage& message) override;
  bool has_pending_work() const override { return mempool_.size() > 0; }
  void halt(const std::string& why) override;
  void storage_failed(StorageArea area, const std::string& why) override;
  void note(const std::string& what) override;

  // --- consensus::Application (loop thread) ---
  Result<std::string> make_block(std::uint64_t height, std::uint32_t round,
                                 const std::vector<std::string>& evidence) override;
  Status check_block(std::uint64_t height, const std::string& block) override;

  // --- p2p::TransportListener (transport thread) ---
  p2p::MessageVerdict on_message(const p2p::PeerId& from, chain::ByteView message) override;
  void on_peer_connected(const p2p::PeerId& peer) override;
  void on_peer_disconnected(const p2p::PeerId& peer, p2p::DisconnectReason reason) override;
  void on_problem(const p2p::TransportProblem& problem) override;

 private:
  Node(api::NodeConfig config, std::shared_ptr<spdlog::logger> log,
       std::unique_ptr<chain::ChainSpec> spec, chain::MemberSecretKeys keys,
       std::unique_ptr<storage::LedgerStore> store);

  Status replay_ledger();
  SubmitOutcome sign_new(chain::pb::TxType type, std::string payload);
  void handle(const p2p::PeerId& from, const pb::NodeMessage& message);
  void add_gossiped(const pb::NodeMessage& message,
                    const std::vector<chain::pb::Transaction>& checked);
  void handle_block_response(const p2p::PeerId& from, const pb::BlockResponse& response);
  void serve_blocks(const p2p::PeerId& to, const pb::BlockRequest& request);
  Status apply_committed(const std::string& committed_bytes, chain::LedgerState after,
                         std::uint64_t height);
  // The state after a block the store now holds becomes the committed state.
  void adopt_committed(chain::LedgerState after, std::uint64_t height);
  // A consensus driver for tip + 1 with this node's signer (not started).
  Result<std::unique_ptr<ConsensusDriver>> build_driver();
  // --- storage failures (node_storage.cpp, loop thread) ---
  // Tries to leave a storage halt: probe, reopen the ledger, check its tip,
  // restart consensus. Called from tick() when a retry is due.
  void recover_storage();
  // The ledger's tip against the committed state after a reopen; adopts
  // blocks a failed-looking write did store. An error means the two cannot
  // be reconciled (the node then waits for an operator).
  Status reconcile_tip();
  // Publishes the halt state to the snapshot and the metrics.
  void publish_halt();
  void after_commit(std::uint64_t height);
  void publish_committed_state();
  void send_status(const std::optional<p2p::PeerId>& to);
  void maybe_request_blocks();
  void tick();
  void refresh_snapshot();
  void gossip_transactions(std::vector<std::string> txs);
  // For the block checks: bytes this node verified before (loop thread only).
  chain::VerifiedTxs verified_txs() const;
  std::uint64_t now_ms() const;
  std::string name_of(const chain::PublicKey& key) const;  // genesis name, or hex
  // Runs `fn` on the loop and waits up to `timeout_ms`; false when it did not run in time.
  template <class Fn>
  bool run_on_loop(Fn&& fn, int timeout_ms = 5000);

  api::NodeConfig config_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<chain::ChainSpec> spec_;
  chain::MemberSecretKeys keys_;
  std::unique_ptr<storage::LedgerStore> store_;
  // The committed state; loop thread only, never null. Each commit replaces
  // it and nothing changes it in place, so committed_state_ shares it.
  std::shared_ptr<const chain::LedgerState> state_;
  Mempool mempool_;  // loop thread only
  BlockSync sync_;   // loop thread only
  Metrics metrics_;
  FileSignerStateStore signer_store_;
  // Blocks this node checked or proposed at the current height: id -> state after.
  std::map<chain::Hash, chain::LedgerState> checked_;
  std::map<chain::PublicKey, std::string> names_;
  // Signatures already verified, skipped when checking blocks; loop thread only.
  VerifiedTxHashes verified_txs_{kVerifiedTxHashes};

  // Storage failures and the halt they cause; loop thread only.
  StorageFaults storage_faults_;
  // Set by halt(): a halt the node does not leave by itself.
  std::string permanent_halt_;
  // Drivers replaced after a storage halt. Their timers' handlers may still
  // be queued on the loop, so they live until stop() has stopped the loop.
  std::vector<std::unique_ptr<ConsensusDriver>> retired_drivers_;

  boost::asio::io_context loop_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::steady_timer tick_timer_;
  std::unique_ptr<ConsensusDriver> driver_;
  std::unique_ptr<p2p::Transport> transport_;
  std::unique_ptr<api::HttpServer> http_;
  std::unique_ptr<api::HttpServer> http_socket_;       // [admin_api] unix_socket, when set
  std::shared_ptr<const api::TlsIdentity> admin_tls_;  // [admin_api] tls, when set
  std::vector<std::string> gossip_queue_;              // loop thread only
  bool gossip_scheduled_ = false;
  boost::asio::steady_timer gossip_timer_;
  std::thread loop_thread_;
  std::atomic<std::size_t> pending_inbound_{0};
  std::atomic<bool> halted_{false};
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::uint64_t last_status_ms_ = 0;

  mutable std::mutex snapshot_mutex_;
  NodeSnapshot snapshot_;
  mutable std::mutex committed_mutex_;
  std::shared_ptr<const chain::LedgerState> committed_state_;
  AgentView agent_view_;   // guarded by committed_mutex_
  std::string agent_api_;  // guarded by committed_mutex_
  std::string admin_token_;
  std::mutex agent_txs_mutex_;
  std::map<chain::Hash, chain::Hash> agent_txs_;  // sha256(type || payload) -> tx hash
  std::deque<chain::Hash> agent_tx_order_;        // oldest first, to bound agent_txs_
};

}  // namespace baton::node

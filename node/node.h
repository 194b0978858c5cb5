// Node: the one context object of `batond`. It owns every part (ledger store,
// ledger state, mempool, consensus driver, block sync, P2P transport, admin
// API) and wires them; there are no globals. The parts decide; Node builds
// them, runs their threads and carries what one part says to another:
//   - LedgerApplication (node/ledger_application.h): what to propose, whether
//     a proposed or decided block extends the committed state;
//   - CommittedViews (node/committed_views.h): what readers off the loop and
//     the partner agent see of the committed state;
//   - AgentSigner (node/agent_signer.h): the agent's transactions, signed once;
//   - peer_messages.h, block_exchange.h: what a peer may send and ask for,
//     and the checks a synced block passes; tip_reconcile.h: the ledger's
//     tip against the committed state after a storage failure;
//   - tx_admission.h: the one admission rule for POST /tx and gossip, and
//     the next-nonce rule of GET /nonce and the agent signer;
//   - StorageFaults, BlockSync, Mempool, ConsensusDriver: their own headers;
//   - node_options.h: every part's options from the genesis and node.toml;
//   - AdminApi (node/admin_api.h) sees the node only as an AdminNode.
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
#include "node/admin_node.h"
#include "node/agent_signer.h"
#include "node/block_sync.h"
#include "node/committed_views.h"
#include "api/config.h"
#include "node/consensus_driver.h"
#include "api/http_server.h"
#include "node/ledger_application.h"
#include "node/membership_follow.h"
#include "node/mempool.h"
#include "node/metrics.h"
#include "node/node_state_sync.h"
#include "node/proto/node_message.pb.h"
#include "node/signer_state.h"
#include "node/storage_faults.h"
#include "node/tx_admission.h"
#include "p2p/transport.h"
#include "node/verified_tx_hashes.h"
#include "storage/ledger_store.h"

namespace baton::node {

class AdminApi;  // node/admin_api.h

// The serialized NodeMessage, as sent to peers (node_p2p.cpp).
chain::Bytes encode_node_message(const pb::NodeMessage& m);

class Node final : public AdminNode, public ConsensusHost, public p2p::TransportListener {
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
  // True once stop() began or the node halted itself.
  bool halted() const { return halted_.load(); }

  // --- AdminNode (node/admin_node.h; the admin HTTP thread) ---
  NodeSnapshot snapshot() const override;
  std::vector<PeerStatus> peers() const override;
  std::string metrics_text() const override;
  const storage::BlockStore& ledger() const override { return *store_; }
  std::shared_ptr<const chain::LedgerState> committed_state() const override {
    return views_.committed_state();
  }
  AgentView agent_view() const override { return views_.agent_view(); }
  MembersView members_view() const override;  // node_members.cpp
  std::optional<std::string> pending_transaction(const chain::Hash& hash) override;
  std::optional<std::uint64_t> next_nonce(const chain::PublicKey& sender) override;
  // The signature is checked on the caller's thread; the loop only does the
  // cheap, stateful part (the mempool).
  SubmitOutcome submit_transaction(std::string tx_bytes) override;
  SubmitOutcome sign_and_submit(chain::pb::TxType type, std::string payload) override {
    return agent_signer_.sign_and_submit(type, std::move(payload));
  }

  // --- ConsensusHost (loop thread) ---
  Status commit_decision(const consensus::Decision& decision) override;
  void broadcast(const consensus::pb::ConsensusMessage& message) override;
  bool has_pending_work() const override { return mempool_.size() > 0; }
  std::optional<consensus::ValidatorSet> next_validators() const override {
    return membership_.validators();
  }
  bool needs_clock() const override {
    const auto state = views_.committed_state();
    return state == nullptr || chain::needs_block_clock(state->training);
  }
  void halt(const std::string& why) override;
  void storage_failed(StorageArea area, const std::string& why) override;
  void note(const std::string& what) override;

  // --- TransportListener (transport thread) ---
  p2p::MessageVerdict on_message(const p2p::PeerId& from, chain::ByteView message) override;
  void on_peer_connected(const p2p::PeerId& peer) override;
  void on_peer_disconnected(const p2p::PeerId& peer, p2p::DisconnectReason reason) override;
  void on_problem(const p2p::TransportProblem& problem) override;

 private:
  Node(api::NodeConfig config, std::shared_ptr<spdlog::logger> log,
       std::unique_ptr<chain::ChainSpec> spec, chain::MemberSecretKeys keys,
       std::unique_ptr<storage::LedgerStore> store, chain::LedgerState replayed,
       std::string admin_token);

  void handle(const p2p::PeerId& from, const pb::NodeMessage& message);
  // Stage 2 of admission (node/tx_admission.h) for a peer's gossip.
  void add_gossiped(std::vector<OfferedTx> offers);
  void handle_block_response(const p2p::PeerId& from, const pb::BlockResponse& response);
  void serve_blocks(const p2p::PeerId& to, const pb::BlockRequest& request);
  Status apply_committed(const std::string& committed_bytes, chain::LedgerState after,
                         std::uint64_t height);
  // The state after a block the store now holds becomes the committed state.
  void adopt_committed(chain::LedgerState after, std::uint64_t height);
  // After a commit at a multiple of [ledger] snapshot_interval_blocks: stores
  // the committed state as a snapshot (node_storage.cpp), posted behind the
  // commit's own work. A failed write is logged; the next interval retries.
  void maybe_write_snapshot();
  // Stores `state` as a state snapshot now and logs what it cost.
  void store_snapshot(const chain::LedgerState& state);
  // A consensus driver for tip + 1 with this node's signer (not started).
  Result<std::unique_ptr<ConsensusDriver>> build_driver();
  // --- storage failures (node_storage.cpp, loop thread) ---
  // Tries to leave a storage halt: probe, reopen the ledger, check its tip,
  // restart consensus. Called from tick() when a retry is due.
  void recover_storage();
  // The ledger's tip against the committed state after a reopen, as
  // node/tip_reconcile.h decides; adopts blocks a failed-looking write did
  // store. An error means the two cannot be reconciled (the node then waits
  // for an operator).
  Status reconcile_tip();
  // Publishes the halt state to the snapshot and the metrics.
  void publish_halt();
  void send_status(const std::optional<p2p::PeerId>& to);
  void maybe_request_blocks();
  void tick();
  void refresh_snapshot();
  void gossip_transactions(std::vector<std::string> txs);
  std::uint64_t now_ms() const;
  std::string name_of(const chain::PublicKey& key) const;  // member name, or hex
  // --- membership (node_members.cpp, loop thread) ---
  // After the committed state changed (commit, block sync, start-up): when
  // the ledger's members changed, the transport, the mempool and names_
  // follow; the engine asks next_validators() itself after each commit.
  void follow_membership();
  // At open, after the replay: this node's key against the ledger's members
  // (a name that differs from node.toml's is an error; a key that is no
  // member yet is a node waiting to be admitted: a warning).
  Status check_own_membership();
  // --- state sync, backfill and repair (node_state_sync.cpp, loop thread) ---
  // [statesync] on an empty ledger: consensus waits for the trusted snapshot.
  void begin_state_sync(const StateSyncTrust& trust);
  // A stored block found damaged at start-up: consensus waits for a good copy.
  void begin_repair(std::uint64_t height, const std::string& why);
  void refresh_stored_snapshots();
  void serve_snapshot(const p2p::PeerId& to, const pb::SnapshotRequest& request);
  void handle_snapshot_response(const p2p::PeerId& from, const pb::SnapshotResponse& response);
  // True when `response` answered a backfill or repair request (it is used here).
  bool handle_history_response(const p2p::PeerId& from, const pb::BlockResponse& response);
  void repair_with(const p2p::PeerId& from, const pb::BlockResponse& response);
  void state_sync_tick();
  void state_sync_snapshot_step(std::uint64_t now);
  void state_sync_repair_step(std::uint64_t now);
  std::vector<chain::PublicKey> peers_at_least(std::uint64_t height) const;
  // Builds and starts the consensus driver at tip + 1 (once the state is in).
  void start_consensus();
  bool consensus_waits() const { return state_sync_->consensus_waits(); }

  // Runs `fn` on the loop and waits up to `timeout_ms`; false when it did not run in time.
  template <class Fn>
  bool run_on_loop(Fn&& fn, int timeout_ms = 5000);

  api::NodeConfig config_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<chain::ChainSpec> spec_;
  chain::MemberSecretKeys keys_;
  std::unique_ptr<storage::LedgerStore> store_;
  // The committed state; loop thread only, never null. Each commit replaces
  // it and nothing changes it in place, so views_ shares it.
  std::shared_ptr<const chain::LedgerState> state_;
  Mempool mempool_;  // loop thread only
  BlockSync sync_;   // loop thread only
  Metrics metrics_;
  FileSignerStateStore signer_store_;
  // Every name a key ever had (names and keys are never reused); grows when
  // members join or re-key. Read from the transport and HTTP threads.
  mutable std::mutex names_mutex_;
  std::map<chain::PublicKey, std::string> names_;
  MembershipFollower membership_;  // loop thread only
  // Signatures already verified, skipped when checking blocks; loop thread only.
  VerifiedTxHashes verified_txs_{kVerifiedTxHashes};
  LedgerApplication app_;  // loop thread only
  CommittedViews views_;
  const std::string admin_token_;
  AgentSigner agent_signer_;

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
  std::shared_ptr<AdminApi> admin_api_;  // its servers' handler; stop_forwards() in stop()
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

  // State sync, backfill and repair; loop thread only (after open()).
  std::unique_ptr<StateSyncRun> state_sync_ = std::make_unique<StateSyncRun>();

  mutable std::mutex snapshot_mutex_;
  NodeSnapshot snapshot_;
};

}  // namespace baton::node

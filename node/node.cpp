#include "node/node.h"

#include <chrono>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "chain/membership.h"
#include "consensus/messages.h"
#include "node/admin_api.h"
#include "api/admin_tls.h"
#include "api/admin_token.h"
#include "storage/ledger_replay.h"
#include "node/node_options.h"
#include "node/node_setup.h"
#include "p2p/transport_tcp.h"

namespace baton::node {
namespace {

namespace asio = boost::asio;

constexpr std::uint64_t kStatusIntervalMs = 1000;
constexpr std::uint32_t kTickMs = 100;

}  // namespace

// ---------------------------------------------------------------- opening

Result<std::unique_ptr<Node>> Node::open(const api::NodeConfig& config,
                                         std::shared_ptr<spdlog::logger> log) {
  auto setup = open_node_setup(config);
  if (!setup) return setup.error();
  auto& [keys, spec, store, warnings] = *setup;
  // A damaged stored block does not stop the start: it is refetched from
  // peers (node_state_sync.cpp) before consensus starts.
  std::optional<storage::DamagedBlock> damaged;
  auto replayed = storage::replay_ledger(*spec, *store, true, &damaged);
  if (!replayed) return replayed.error();
  const std::uint64_t snapshot_height = replayed->snapshot_height;
  const std::uint64_t blocks_replayed = replayed->blocks_replayed;
  const std::vector<std::string> refused_snapshots = std::move(replayed->refused_snapshots);
  auto token = api::load_or_create_admin_token(config.admin_token_file);
  if (!token) return token.error();
  std::unique_ptr<Node> node(new Node(config, std::move(log), std::move(spec), std::move(keys),
                                      std::move(store), std::move(replayed->state),
                                      std::move(*token)));
  if (config.admin_api.tls) {
    auto tls = api::load_or_create_tls_identity(config.admin_api.tls_cert, config.admin_api.tls_key,
                                                config.admin_api.tls_self_signed, config.name);
    if (!tls) return tls.error();
    node->admin_tls_ = std::make_shared<const api::TlsIdentity>(std::move(*tls));
  }
  if (auto s = node->check_own_membership(); !s) return s.error();
  for (const std::string& w : warnings) node->log_->warn("{}", w);
  for (const std::string& w : refused_snapshots) node->log_->warn("{}", w);
  if (snapshot_height > 0) {
    node->log_->info(
        "ledger state restored from the snapshot at height {}, then {} block(s) validated",
        snapshot_height, blocks_replayed);
  }
  // --- state sync and repair (docs/PROTOCOL.md §24.4)
  node->refresh_stored_snapshots();
  if (damaged) {
    node->begin_repair(damaged->height, damaged->why);
  } else if (config.statesync && node->store_->tip().height == 0) {
    node->begin_state_sync({config.statesync->trust_height, config.statesync->trust_block_id});
  } else if (config.statesync) {
    node->log_->info("[statesync] is not used: the ledger already holds blocks up to height {}",
                     node->store_->tip().height);
  }
  // --- end state sync
  // A long replay (a ledger from before snapshots, or refused ones) is not
  // repeated at the next start: the state at the tip becomes a snapshot.
  const std::uint64_t every = config.ledger.snapshot_interval_blocks;
  if (every > 0 && blocks_replayed >= every) node->store_snapshot(*node->state_);
  if (config.trains()) {
    node->log_->warn(
        "node.toml has [training]: batond no longer trains or votes itself; run `baton-agent "
        "--config agent.toml` beside it (docs/OPERATIONS.md, \"The agent process and its link to "
        "the node\")");
  }
  return node;
}

Node::Node(api::NodeConfig config, std::shared_ptr<spdlog::logger> log,
           std::unique_ptr<chain::ChainSpec> spec, chain::MemberSecretKeys keys,
           std::unique_ptr<storage::LedgerStore> store, chain::LedgerState replayed,
           std::string admin_token)
    : config_(std::move(config)),
      log_(std::move(log)),
      spec_(std::move(spec)),
      keys_(std::move(keys)),
      store_(std::move(store)),
      state_(std::make_shared<const chain::LedgerState>(std::move(replayed))),
      mempool_(*spec_, config_.mempool),
      signer_store_(config_.data_dir / "signer_state"),
      app_(*spec_, keys_.signing, state_, mempool_, verified_txs_,
           config_.consensus.max_proposal_txs.value_or(2000), log_),
      admin_token_(std::move(admin_token)),
      agent_signer_(
          keys_.signing, spec_->network(),
          AgentSignerPorts{[this](const chain::PublicKey& k) { return next_nonce(k); },
                           [this](std::string tx) { return submit_transaction(std::move(tx)); },
                           [this](const chain::Hash& h) {
                             auto committed = store_->find_tx(h);
                             return pending_transaction(h) || (committed && committed->has_value());
                           }}),
      work_(asio::make_work_guard(loop_)),
      tick_timer_(loop_),
      gossip_timer_(loop_) {
  follow_membership();
  views_.publish_replayed(state_);
  metrics_.height = state_->height;
  metrics_.txs_committed = state_->tx_count;
  refresh_snapshot();
  log_->info("ledger at height {} (tip {}), chain {}", state_->height, state_->last_block_id.hex(),
             spec_->chain_id());
}

Node::~Node() { stop(); }

// ---------------------------------------------------------------- start/stop

Result<std::unique_ptr<ConsensusDriver>> Node::build_driver() {
  // The set of tip + 1 as the ledger has it. The signer is opened whether or
  // not this key holds power now: a node admitted by vote while it runs
  // starts signing at its first height as a validator, and the engine signs
  // only at heights whose set holds its key.
  if (!membership_.validators()) return make_error("the ledger's members hold no voting power");
  std::unique_ptr<consensus::Signer> signer;
  {
    // Signer::open reads the record from disk: after a storage halt the new
    // signer starts from what was durably saved, as after a restart. The
    // driver writes each new record (and reports a failed write).
    auto opened = consensus::Signer::open(keys_.signing, spec_->network(), signer_store_);
    if (!opened) return make_error("cannot open the signer state: " + opened.error().message);
    signer = std::move(opened).value();
  }
  return std::make_unique<ConsensusDriver>(loop_, consensus_driver_options(*spec_, config_),
                                           *membership_.validators(), app_, *this,
                                           std::move(signer), &signer_store_);
}

Status Node::start() {
  if (started_) return {};
  if (!consensus_waits()) {  // else state sync or repair starts it (start_consensus)
    auto driver = build_driver();
    if (!driver) return driver.error();
    driver_ = std::move(driver).value();
  }

  std::vector<std::string> warnings;
  auto topts = tcp_transport_options(*spec_, membership_.members(), config_,
                                     keys_.signing.public_key(), warnings);
  for (const std::string& w : warnings) log_->warn("{}", w);
  transport_ = std::make_unique<p2p::TcpTransport>(keys_.signing, std::move(topts));
  if (auto s = transport_->start(*this); !s) {
    transport_.reset();
    return make_error("cannot start the P2P transport: " + s.error().message +
                      " (is another batond running? change p2p_listen in node.toml)");
  }

  auto api = std::make_shared<AdminApi>(*this, admin_api_settings(*spec_, config_, admin_token_));
  admin_api_ = api;
  auto handler = [api](const api::HttpRequest& r) { return api->handle(r); };
  const api::HttpServerOptions http_options = admin_http_options(*spec_, config_, admin_tls_);
  http_ = std::make_unique<api::HttpServer>(http_options, handler);
  Status serving = http_->start();
  if (serving && !config_.admin_api.unix_socket.empty()) {
    http_socket_ =
        std::make_unique<api::HttpServer>(admin_socket_options(http_options, config_), handler);
    serving = http_socket_->start();
  }
  if (!serving) {
    transport_->stop();
    transport_.reset();
    http_.reset();
    http_socket_.reset();
    return serving.error();
  }
  api->set_forward_wake([this] {
    http_->wake_waiting();
    if (http_socket_) http_socket_->wake_waiting();
  });

  started_ = true;
  asio::post(loop_, [this] {
    if (driver_ == nullptr) {
      send_status(std::nullopt);
      tick();
      return;
    }
    if (auto s = driver_->start(state_->height + 1); !s) {
      halt(s.error().message);
      return;
    }
    send_status(std::nullopt);
    tick();
  });
  loop_thread_ = std::thread([this] { loop_.run(); });
  log_->info("node {} listening: p2p {}:{}, admin {}://{}:{}", config_.name,
             config_.p2p_listen.host, p2p_port(), admin_tls_ ? "https" : "http",
             config_.admin_listen.host, admin_port());
  if (admin_tls_) {
    log_->info(
        "admin API TLS certificate {} sha256 {} (clients pin this: node_cert_sha256 in "
        "agent.toml, --node-cert-sha256 for the CLI)",
        config_.admin_api.tls_cert.string(), admin_tls_->cert_sha256);
  }
  if (http_socket_) {
    log_->info("admin API also on unix:{}", config_.admin_api.unix_socket.string());
  }
  return {};
}

void Node::stop() {
  if (stopping_.exchange(true)) return;
  halted_ = true;
  if (http_) http_->stop();  // no new admin requests
  if (http_socket_) http_socket_->stop();
  // No forward to the agent wakes the servers from here on.
  if (admin_api_) admin_api_->stop_forwards();
  if (transport_) transport_->stop();  // no new peer messages
  if (started_) {
    // Runs after the task in progress (e.g. a commit) has finished.
    asio::post(loop_, [this] {
      if (driver_) driver_->stop();
      tick_timer_.cancel();
      gossip_timer_.cancel();
      work_.reset();
      loop_.stop();
    });
    if (loop_thread_.joinable()) loop_thread_.join();
  }
  driver_.reset();
  retired_drivers_.clear();
  log_->info("node {} stopped at height {}", config_.name, state_->height);
  store_.reset();  // closes RocksDB
}

std::uint16_t Node::admin_port() const { return http_ ? http_->port() : 0; }

std::uint16_t Node::p2p_port() const {
  if (auto* t = dynamic_cast<p2p::TcpTransport*>(transport_.get())) return t->listen_port();
  return 0;
}

// ---------------------------------------------------------------- consensus host

Status Node::commit_decision(const consensus::Decision& decision) {
  if (decision.height <= state_->height) return {};  // block sync stored it first
  if (decision.height != state_->height + 1) {
    return make_error("decided height " + std::to_string(decision.height) +
                      " does not follow the tip " + std::to_string(state_->height));
  }
  auto decided = app_.accept_decision(decision);
  if (!decided) return decided.error();
  if (auto s =
          apply_committed(decided->committed_bytes, std::move(decided->after), decision.height);
      !s)
    return s;
  ++metrics_.blocks_committed;
  return {};
}

Status Node::apply_committed(const std::string& committed_bytes, chain::LedgerState after,
                             std::uint64_t height) {
  if (auto s = store_->append(committed_bytes); !s) {
    if (s.error().code == static_cast<int>(storage::AppendRefused::io)) {
      storage_failed(StorageArea::ledger, s.error().message);
    }
    return s;
  }
  adopt_committed(std::move(after), height);
  return {};
}

void Node::adopt_committed(chain::LedgerState after, std::uint64_t height) {
  const std::uint64_t new_txs = after.tx_count - state_->tx_count;
  state_ = std::make_shared<const chain::LedgerState>(std::move(after));
  app_.on_committed();
  mempool_.remove_committed([this](const chain::PublicKey& k) { return state_->next_nonce(k); });
  metrics_.height = height;
  metrics_.txs_committed += new_txs;
  follow_membership();
  refresh_snapshot();
  if (log_->should_log(spdlog::level::debug)) {
    log_->debug("committed height {} ({} txs) {}", height, new_txs, state_->last_block_id.hex());
  }
  maybe_write_snapshot();
  if (views_.publish_commit(state_, sync_.best_peer_height())) {
    if (http_) http_->wake_waiting();
    if (http_socket_) http_socket_->wake_waiting();
  }
}

void Node::broadcast(const consensus::pb::ConsensusMessage& message) {
  if (!transport_) return;
  pb::NodeMessage m;
  *m.mutable_consensus() = message;
  transport_->broadcast(encode_node_message(m));
}

void Node::halt(const std::string& why) {
  log_->critical("consensus halted: {}", why);
  if (driver_) driver_->stop();
  permanent_halt_ = why;
  publish_halt();
}

void Node::note(const std::string& what) { log_->warn("{}", what); }

void Node::tick() {
  const std::uint64_t now = now_ms();
  if (now - last_status_ms_ >= kStatusIntervalMs) {
    last_status_ms_ = now;
    send_status(std::nullopt);
  }
  if (storage_faults_.halted()) recover_storage();
  state_sync_tick();
  maybe_request_blocks();
  refresh_snapshot();
  tick_timer_.expires_after(std::chrono::milliseconds(kTickMs));
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping_.load()) tick();
  });
}

void Node::refresh_snapshot() {
  NodeSnapshot s;
  s.height = state_->height;
  s.tip_hash = state_->last_block_id;
  if (driver_) {
    const auto st = driver_->status();
    s.round = st.round;
    s.step = consensus::to_string(st.step);
    metrics_.consensus_round = st.round;
  }
  s.mempool_txs = mempool_.size();
  s.mempool_bytes = mempool_.bytes();
  for (const auto& [peer, height] : sync_.peer_heights()) s.peer_heights[name_of(peer)] = height;
  s.history_from = store_ ? store_->history_from() : 1;
  s.snapshots = state_sync_->stored;
  s.state_sync = state_sync_->phase;
  metrics_.mempool_txs = s.mempool_txs;
  metrics_.mempool_bytes = s.mempool_bytes;
  std::lock_guard lock(snapshot_mutex_);
  s.halted = snapshot_.halted;
  s.halt_reason = snapshot_.halt_reason;
  s.halt_cause = snapshot_.halt_cause;
  snapshot_ = std::move(s);
}

std::string Node::name_of(const chain::PublicKey& key) const {
  std::lock_guard lock(names_mutex_);
  auto n = names_.find(key);
  return n == names_.end() ? key.hex() : n->second;
}

std::uint64_t Node::now_ms() const {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace baton::node

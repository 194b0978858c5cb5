#include "node/node.h"

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "chain/block.h"
#include "chain/encoding.h"
#include "chain/transaction.h"
#include "chain/validation.h"
#include "chain/vote.h"
#include "consensus/messages.h"
#include "node/admin_api.h"
#include "api/admin_tls.h"
#include "api/admin_token.h"
#include "p2p/transport_tcp.h"
#include "storage/secret_file.h"

namespace baton::node {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

// Room left in a block for the header and evidence when reaping transactions.
constexpr std::size_t kBlockOverhead = 64 * 1024;
constexpr std::uint64_t kStatusIntervalMs = 1000;
constexpr std::uint32_t kTickMs = 100;
// The partner agent sees no state more than this many blocks behind the peers.
constexpr std::uint64_t kAgentSyncSlack = 2;

Result<std::string> read_whole_file(const fs::path& path, std::string_view what,
                                    std::string_view hint) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return make_error(std::string(what) + " " + path.string() + " does not exist; " +
                      std::string(hint));
  }
  if (fs::is_directory(path, ec))
    return make_error(std::string(what) + " " + path.string() + " is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error("cannot read " + std::string(what) + " " + path.string() +
                      "; check its permissions");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

// ---------------------------------------------------------------- opening

Result<std::unique_ptr<Node>> Node::open(const api::NodeConfig& config,
                                         std::shared_ptr<spdlog::logger> log) {
  std::error_code exists_ec;
  if (!fs::exists(config.key_file, exists_ec)) {
    return make_error("key file " + config.key_file.string() +
                      " does not exist; set key_file in the config to this node's NAME.key "
                      "(made by `baton keygen`)");
  }
  // Read into wiped memory; the text is wiped once parsed (the keys live on
  // in locked SecretBytes, chain/secret.h).
  auto key_text = storage::read_secret_file(config.key_file);
  if (!key_text)
    return make_error("cannot read the key file: " + key_text.error().message +
                      "; check its permissions");
  auto keys = chain::parse_secret_keys(key_text->view());
  if (!keys)
    return make_error("key file " + config.key_file.string() +
                      " is not a Baton key: " + keys.error().message);

  auto genesis_text =
      read_whole_file(config.genesis_file, "genesis file",
                      "set genesis_file in the config to the consortium's genesis.json");
  if (!genesis_text) return genesis_text.error();
  auto spec = chain::load_chain_spec(*genesis_text);
  if (!spec)
    return make_error("genesis file " + config.genesis_file.string() +
                      " is invalid: " + spec.error().message);

  const chain::GenesisMember* me = spec->genesis.find_member(keys->signing.public_key());
  if (me == nullptr) {
    return make_error("the key in " + config.key_file.string() + " (" +
                      keys->signing.public_key().hex() + ") belongs to no member of genesis " +
                      config.genesis_file.string() +
                      "; use the key that was registered in the genesis");
  }
  if (me->name != config.name) {
    return make_error("the config names this node '" + config.name +
                      "' but its key belongs to genesis member '" + me->name +
                      "'; make `name` in the config match");
  }

  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec) {
    return make_error("cannot create the data directory " + config.data_dir.string() + ": " +
                      ec.message());
  }
  storage::LedgerWriterOptions store_options;
  store_options.dir = config.data_dir / "ledger";
  store_options.genesis_hash = spec->genesis_hash;
  store_options.genesis_document = *genesis_text;
  auto store = storage::LedgerStore::open_writer(store_options);
  if (!store) {
    return make_error("cannot open the ledger in " + store_options.dir.string() + ": " +
                      store.error().message);
  }
  auto spec_ptr = std::make_unique<chain::ChainSpec>(std::move(spec).value());
  std::unique_ptr<Node> node(new Node(config, std::move(log), std::move(spec_ptr),
                                      std::move(keys).value(), std::move(store).value()));
  if (auto s = node->replay_ledger(); !s) return s.error();
  node->publish_committed_state();
  {
    std::lock_guard lock(node->committed_mutex_);
    node->agent_view_ = AgentView{node->state_->height, node->state_};
  }
  auto token = api::load_or_create_admin_token(config.admin_token_file);
  if (!token) return token.error();
  node->admin_token_ = std::move(*token);
  if (config.admin_api.tls) {
    auto tls = api::load_or_create_tls_identity(config.admin_api.tls_cert, config.admin_api.tls_key,
                                                config.admin_api.tls_self_signed, config.name);
    if (!tls) return tls.error();
    node->admin_tls_ = std::make_shared<const api::TlsIdentity>(std::move(*tls));
  }
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
           std::unique_ptr<storage::LedgerStore> store)
    : config_(std::move(config)),
      log_(std::move(log)),
      spec_(std::move(spec)),
      keys_(std::move(keys)),
      store_(std::move(store)),
      state_(std::make_shared<const chain::LedgerState>(chain::initial_state(spec_->genesis_hash))),
      mempool_(*spec_, config_.mempool),
      signer_store_(config_.data_dir / "signer_state"),
      work_(asio::make_work_guard(loop_)),
      tick_timer_(loop_),
      gossip_timer_(loop_) {
  for (const auto& m : spec_->genesis.members) names_[m.ed25519] = m.name;
}

Node::~Node() { stop(); }

SubmitOutcome Node::sign_and_submit(chain::pb::TxType type, std::string payload) {
  std::lock_guard agent_lock(agent_txs_mutex_);  // one agent submission at a time
  chain::Bytes key_bytes;
  chain::append_u32be(key_bytes, static_cast<std::uint32_t>(type));
  chain::append_bytes(key_bytes, payload);
  const chain::Hash key = chain::sha256(key_bytes);
  if (auto it = agent_txs_.find(key); it != agent_txs_.end()) {
    const chain::Hash& earlier = it->second;
    auto committed = store_->find_tx(earlier);
    if (pending_transaction(earlier) || (committed && committed->has_value())) {
      SubmitOutcome out;
      out.accepted = true;
      out.hash = earlier;
      return out;
    }
  }
  SubmitOutcome out = sign_new(type, std::move(payload));
  if (out.accepted) {
    if (agent_txs_.insert_or_assign(key, out.hash).second) agent_tx_order_.push_back(key);
    while (agent_tx_order_.size() > kAgentTxsRemembered) {
      agent_txs_.erase(agent_tx_order_.front());
      agent_tx_order_.pop_front();
    }
  }
  return out;
}

SubmitOutcome Node::sign_new(chain::pb::TxType type, std::string payload) {
  const auto nonce = next_nonce(keys_.signing.public_key());
  if (!nonce) {
    SubmitOutcome out;
    out.busy = true;
    out.reason = "the node is busy or stopping; retry";
    return out;
  }
  return submit_transaction(chain::encode_transaction(
      chain::make_transaction(spec_->network(), keys_.signing, *nonce, type, std::move(payload))));
}

Node::AgentView Node::agent_view() const {
  std::lock_guard lock(committed_mutex_);
  return agent_view_;
}

std::string Node::agent_api() const {
  std::lock_guard lock(committed_mutex_);
  return agent_api_;
}

void Node::set_agent_api(std::string url) {
  std::lock_guard lock(committed_mutex_);
  agent_api_ = std::move(url);
}

Status Node::replay_ledger() {
  // The store holds only blocks this node validated before appending, but
  // the state is rebuilt with the full checks: a damaged store shows here,
  // not as a fork later.
  const storage::Tip tip = store_->tip();
  std::uint64_t next = 1;
  while (next <= tip.height) {
    auto batch = store_->blocks_from(next, 256);
    if (!batch) return make_error("cannot read the ledger: " + batch.error().message);
    if (batch->empty()) break;
    for (const std::string& bytes : *batch) {
      auto committed = chain::decode_committed_block(bytes);
      if (!committed) {
        return make_error("the stored block at height " + std::to_string(next) +
                          " cannot be decoded (" + committed.error().message +
                          "); run `baton ledger verify` and restore from a backup");
      }
      auto after = chain::validate_block(*spec_, *state_, *committed);
      if (!after) {
        return make_error("the stored block at height " + std::to_string(next) + " is invalid (" +
                          after.reason().message() +
                          "); run `baton ledger verify` and restore from a backup");
      }
      state_ = std::make_shared<const chain::LedgerState>(std::move(after).value());
      ++next;
    }
  }
  metrics_.height = state_->height;
  metrics_.txs_committed = state_->tx_count;
  refresh_snapshot();
  log_->info("ledger at height {} (tip {}), chain {}", state_->height, state_->last_block_id.hex(),
             spec_->chain_id());
  return {};
}

// ---------------------------------------------------------------- start/stop

Result<std::unique_ptr<ConsensusDriver>> Node::build_driver() {
  const chain::ConsensusParams& p = spec_->params();
  const api::ConsensusOverrides& o = config_.consensus;
  consensus::EngineOptions engine;
  engine.network = spec_->network();
  auto ms = [](std::optional<std::uint32_t> over, std::uint64_t genesis) {
    return over ? *over : static_cast<std::uint32_t>(genesis);
  };
  engine.timeouts.propose_base_ms = ms(o.timeout_propose_ms, p.timeout_propose_ms);
  engine.timeouts.propose_delta_ms = ms(o.timeout_delta_ms, p.timeout_propose_delta_ms);
  engine.timeouts.prevote_base_ms = ms(o.timeout_prevote_ms, p.timeout_prevote_ms);
  engine.timeouts.prevote_delta_ms = ms(o.timeout_delta_ms, p.timeout_prevote_delta_ms);
  engine.timeouts.precommit_base_ms = ms(o.timeout_precommit_ms, p.timeout_precommit_ms);
  engine.timeouts.precommit_delta_ms = ms(o.timeout_delta_ms, p.timeout_precommit_delta_ms);
  engine.timeouts.commit_ms = ms(o.timeout_commit_ms, p.timeout_commit_ms);
  engine.max_block_bytes = p.max_block_bytes;

  std::vector<consensus::Validator> validators;
  for (const auto& v : spec_->validators.members()) {
    if (v.power > 0) validators.push_back({v.key, v.power});
  }
  std::unique_ptr<consensus::Signer> signer;
  if (spec_->validators.is_validator(keys_.signing.public_key())) {
    // Signer::open reads the record from disk: after a storage halt the new
    // signer starts from what was durably saved, as after a restart. The
    // driver writes each new record (and reports a failed write).
    auto opened = consensus::Signer::open(keys_.signing, spec_->network(), signer_store_);
    if (!opened) return make_error("cannot open the signer state: " + opened.error().message);
    signer = std::move(opened).value();
  }
  ConsensusDriverOptions driver_options;
  driver_options.engine = engine;
  driver_options.checkpoint_file = config_.data_dir / "consensus_checkpoint";
  driver_options.empty_block_interval_ms = o.empty_block_interval_ms.value_or(1000);
  return std::make_unique<ConsensusDriver>(loop_, driver_options,
                                           consensus::ValidatorSet(std::move(validators)), *this,
                                           *this, std::move(signer), &signer_store_);
}

Status Node::start() {
  if (started_) return {};
  const chain::ConsensusParams& p = spec_->params();

  auto driver = build_driver();
  if (!driver) return driver.error();
  driver_ = std::move(driver).value();

  p2p::TcpTransportOptions topts;
  topts.chain_id = spec_->chain_id();
  topts.genesis_hash = spec_->genesis_hash;
  for (const auto& m : spec_->genesis.members) {
    p2p::MemberAddress addr{m.ed25519, "", 0};
    if (auto hp = api::parse_host_port(m.p2p_address)) {
      addr.host = hp->host;
      addr.port = hp->port;
    } else if (m.ed25519 != keys_.signing.public_key()) {
      log_->warn(
          "genesis member {} has p2p_address '{}' that cannot be dialled ({}); waiting for it to "
          "dial us",
          m.name, m.p2p_address, hp.error().message);
    }
    topts.members.push_back(addr);
  }
  topts.listen_host = config_.p2p_listen.host;
  topts.listen_port = config_.p2p_listen.port;
  topts.limits.max_message_size =
      static_cast<std::uint32_t>(std::max<std::uint64_t>(4u << 20, p.max_block_bytes + (1u << 20)));
  auto tcp = std::make_unique<p2p::TcpTransport>(keys_.signing, topts);
  p2p::TcpTransport* tcp_raw = tcp.get();
  transport_ = std::move(tcp);
  if (auto s = transport_->start(*this); !s) {
    transport_.reset();
    return make_error("cannot start the P2P transport: " + s.error().message +
                      " (is another batond running? change p2p_listen in node.toml)");
  }
  (void)tcp_raw;

  api::HttpServerOptions http_options;
  http_options.listen = config_.admin_listen;
  http_options.max_body_bytes = static_cast<std::size_t>(p.max_tx_bytes) * 2 + 1024;
  http_options.max_connections = config_.admin_api.max_connections;
  http_options.max_connections_per_client = config_.admin_api.max_connections_per_client;
  http_options.idle_timeout_ms = config_.admin_api.idle_timeout_ms;
  http_options.header_timeout_ms = config_.admin_api.header_timeout_ms;
  http_options.body_timeout_ms = config_.admin_api.body_timeout_ms;
  http_options.tls = admin_tls_;
  auto api = std::make_shared<AdminApi>(*this);
  http_ = std::make_unique<api::HttpServer>(
      http_options, [api](const api::HttpRequest& r) { return api->handle(r); });
  Status serving = http_->start();
  if (serving && !config_.admin_api.unix_socket.empty()) {
    api::HttpServerOptions socket_options = http_options;
    socket_options.tls.reset();
    socket_options.unix_socket = config_.admin_api.unix_socket;
    socket_options.unix_socket_mode = config_.admin_api.unix_socket_group.empty() ? 0600 : 0660;
    socket_options.unix_socket_group = config_.admin_api.unix_socket_group;
    http_socket_ = std::make_unique<api::HttpServer>(
        socket_options, [api](const api::HttpRequest& r) { return api->handle(r); });
    serving = http_socket_->start();
  }
  if (!serving) {
    transport_->stop();
    transport_.reset();
    http_.reset();
    http_socket_.reset();
    return serving.error();
  }

  started_ = true;
  asio::post(loop_, [this] {
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

// ---------------------------------------------------------------- admin side

template <class Fn>
bool Node::run_on_loop(Fn&& fn, int timeout_ms) {
  if (stopping_.load()) return false;
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  asio::post(loop_, [fn = std::forward<Fn>(fn), done]() mutable {
    fn();
    done->set_value();
  });
  return future.wait_for(std::chrono::milliseconds(timeout_ms)) == std::future_status::ready;
}

NodeSnapshot Node::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

std::vector<PeerStatus> Node::peers() const {
  std::vector<PeerStatus> out;
  if (!transport_) return out;
  for (const p2p::PeerInfo& p : transport_->peers()) {
    out.push_back({name_of(p.key), p.address, p.state == p2p::PeerState::connected, p.last_error});
  }
  return out;
}

SubmitOutcome Node::submit_transaction(std::string tx_bytes) {
  // The signature is checked here, on the caller's (HTTP) thread, so that the
  // event loop only does the cheap, stateful part.
  auto checked = chain::check_transaction(tx_bytes, spec_->network(), spec_->validators,
                                          spec_->params().max_tx_bytes);
  if (!checked) {
    ++metrics_.txs_rejected;
    SubmitOutcome bad;
    bad.hash = chain::tx_hash(tx_bytes);
    bad.reason = std::string(chain::to_string(checked.reason()));
    return bad;
  }
  auto out = std::make_shared<SubmitOutcome>();
  const bool ran = run_on_loop([this, out, bytes = std::move(tx_bytes),
                                tx = std::move(checked).value()]() mutable {
    std::string copy = bytes;
    const AddResult r = mempool_.add_checked(
        std::move(copy), tx, [this](const chain::PublicKey& k) { return state_->next_nonce(k); });
    verified_txs_.add(r.hash);  // checked above, even if the pool refused it
    out->hash = r.hash;
    out->nonce = r.nonce;
    if (!r.accepted()) {
      ++metrics_.txs_rejected;
      out->reason = r.reason();
      out->pool_full = r.rejected == TxRejection::pool_full;
      return;
    }
    out->accepted = true;
    ++metrics_.txs_accepted;
    gossip_transactions({std::move(bytes)});
    if (driver_) driver_->poke();
  });
  if (!ran) {
    SubmitOutcome busy;
    busy.busy = true;
    busy.reason = "the node is busy or stopping; retry";
    return busy;
  }
  return *out;
}

std::optional<std::uint64_t> Node::next_nonce(const chain::PublicKey& sender) {
  auto out = std::make_shared<std::uint64_t>(0);
  if (!run_on_loop([this, out, sender] {
        *out = std::max(state_->next_nonce(sender), mempool_.highest_pending_nonce(sender) + 1);
      })) {
    return std::nullopt;
  }
  return *out;
}

std::optional<std::string> Node::pending_transaction(const chain::Hash& hash) {
  auto out = std::make_shared<std::optional<std::string>>();
  if (!run_on_loop([this, out, hash] { *out = mempool_.get(hash); })) return std::nullopt;
  return *out;
}

// ---------------------------------------------------------------- consensus host

Status Node::commit_decision(const consensus::Decision& decision) {
  if (decision.height <= state_->height) return {};  // block sync stored it first
  if (decision.height != state_->height + 1) {
    return make_error("decided height " + std::to_string(decision.height) +
                      " does not follow the tip " + std::to_string(state_->height));
  }
  chain::pb::CommittedBlock committed;
  if (!committed.mutable_block()->ParseFromString(decision.block)) {
    return make_error("the decided block does not parse");
  }
  *committed.mutable_commit() = decision.commit;
  chain::LedgerState after;
  if (auto it = checked_.find(decision.block_id); it != checked_.end()) {
    // Checked (or built) when proposed; only the commit is new.
    if (auto bad = chain::verify_commit(spec_->network(), spec_->validators, decision.commit,
                                        decision.height, decision.block_id)) {
      return make_error("the commit for height " + std::to_string(decision.height) +
                        " is invalid: " + std::string(chain::to_string(*bad)));
    }
    // Taken out of checked_ (cleared on success anyway): if storing fails,
    // a retry of this height validates the block afresh.
    after = std::move(checked_.extract(it).mapped());
  } else {
    auto v = chain::validate_block(*spec_, *state_, committed);
    if (!v) return make_error("the decided block is invalid: " + v.reason().message());
    after = std::move(v).value();
  }
  if (auto s = apply_committed(chain::encode_committed_block(committed), std::move(after),
                               decision.height);
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
  checked_.clear();
  mempool_.remove_committed([this](const chain::PublicKey& k) { return state_->next_nonce(k); });
  metrics_.height = height;
  metrics_.txs_committed += new_txs;
  refresh_snapshot();
  if (log_->should_log(spdlog::level::debug)) {
    log_->debug("committed height {} ({} txs) {}", height, new_txs, state_->last_block_id.hex());
  }
  after_commit(height);
}

void Node::publish_committed_state() {
  // state_ is replaced at each commit, never changed in place: share it.
  std::lock_guard lock(committed_mutex_);
  committed_state_ = state_;
}

std::shared_ptr<const chain::LedgerState> Node::committed_state() const {
  std::lock_guard lock(committed_mutex_);
  return committed_state_;
}

void Node::after_commit(std::uint64_t height) {
  publish_committed_state();
  // While block sync is still far behind the peers the states are history:
  // acting on them would only send transactions the ledger refuses.
  if (sync_.best_peer_height() > height + kAgentSyncSlack) return;
  std::lock_guard lock(committed_mutex_);
  agent_view_ = AgentView{height, state_};
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

// ---------------------------------------------------------------- application

Result<std::string> Node::make_block(std::uint64_t height, std::uint32_t round,
                                     const std::vector<std::string>& evidence) {
  if (height != state_->height + 1) {
    return make_error("asked to propose height " + std::to_string(height) + " at tip " +
                      std::to_string(state_->height));
  }
  const chain::ConsensusParams& p = spec_->params();
  const std::size_t budget = p.max_block_bytes > kBlockOverhead ? p.max_block_bytes - kBlockOverhead
                                                                : p.max_block_bytes / 2;
  const std::size_t max_txs =
      std::min<std::uint64_t>(p.max_block_txs, config_.consensus.max_proposal_txs.value_or(2000));
  std::vector<std::string> txs = mempool_.reap(
      max_txs, budget, [this](const chain::PublicKey& k) { return state_->next_nonce(k); });
  const auto now = static_cast<std::int64_t>(now_ms());
  const chain::PublicKey& me = keys_.signing.public_key();
  const chain::VerifiedTxs verified = verified_txs();
  auto proposal = chain::propose_block(*spec_, *state_, now, me, txs, evidence, verified);
  if (!proposal) {
    log_->warn(
        "cannot propose height {} round {} with {} txs and {} evidence: {}; retrying without "
        "evidence",
        height, round, txs.size(), evidence.size(), proposal.reason().message());
    proposal = chain::propose_block(*spec_, *state_, now, me, txs, {}, verified);
  }
  if (!proposal) {
    // A waiting transaction no longer fits the state; drop what was reaped
    // (submitters see it never committed and resubmit).
    log_->warn("dropping {} mempool transactions that no longer apply: {}", txs.size(),
               proposal.reason().message());
    for (const std::string& t : txs) mempool_.remove(chain::tx_hash(t));
    proposal = chain::propose_block(*spec_, *state_, now, me, {}, {});
    if (!proposal) return make_error("cannot build an empty block: " + proposal.reason().message());
  }
  checked_[proposal->id] = proposal->after;
  return proposal->block.SerializeAsString();
}

Status Node::check_block(std::uint64_t height, const std::string& block) {
  if (height != state_->height + 1) {
    return make_error("a block for height " + std::to_string(height) + " does not follow the tip " +
                      std::to_string(state_->height));
  }
  chain::pb::Block parsed;
  if (!parsed.ParseFromString(block)) return make_error("the proposed block does not parse");
  auto decoded = chain::check_block_stateless(*spec_, parsed, verified_txs());
  if (!decoded) return make_error(decoded.reason().message());
  auto after = chain::apply_block(*spec_, *state_, *decoded);
  if (!after) return make_error(after.reason().message());
  checked_[decoded->id] = std::move(after).value();
  return {};
}

chain::VerifiedTxs Node::verified_txs() const {
  // The mempool holds only verified bytes (Mempool::add verifies;
  // add_checked's precondition); verified_txs_ also remembers those it refused
  // or already dropped.
  return [this](const chain::Hash& h) { return verified_txs_.contains(h) || mempool_.contains(h); };
}

void Node::tick() {
  const std::uint64_t now = now_ms();
  if (now - last_status_ms_ >= kStatusIntervalMs) {
    last_status_ms_ = now;
    send_status(std::nullopt);
  }
  if (storage_faults_.halted()) recover_storage();
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
  metrics_.mempool_txs = s.mempool_txs;
  metrics_.mempool_bytes = s.mempool_bytes;
  std::lock_guard lock(snapshot_mutex_);
  s.halted = snapshot_.halted;
  s.halt_reason = snapshot_.halt_reason;
  s.halt_cause = snapshot_.halt_cause;
  snapshot_ = std::move(s);
}

std::string Node::name_of(const chain::PublicKey& key) const {
  auto n = names_.find(key);
  return n == names_.end() ? key.hex() : n->second;
}

std::uint64_t Node::now_ms() const {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace baton::node

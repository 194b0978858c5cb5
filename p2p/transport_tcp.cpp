#include "p2p/transport_tcp.h"

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "p2p/peer_connection.h"
#include "p2p/peer_text.h"
#include "p2p/problem_limiter.h"

namespace baton::p2p {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

// A dial in progress: name resolution, then connect, bounded by a timer.
struct DialAttempt {
  explicit DialAttempt(asio::io_context& io) : resolver(io), socket(io), timer(io) {}
  tcp::resolver resolver;
  tcp::socket socket;
  asio::steady_timer timer;
  bool finished = false;
};

struct Member {
  Member(asio::io_context& io, MemberAddress a) : address(std::move(a)), redial(io) {}
  MemberAddress address;
  std::shared_ptr<PeerConnection> session;  // established
  std::shared_ptr<DialAttempt> dial;        // resolving/connecting
  std::shared_ptr<PeerConnection> dialled;  // our outbound connection, in handshake
  asio::steady_timer redial;
  bool redial_armed = false;
  std::uint32_t failed_dials = 0;
  std::string last_error;

  bool dialable() const { return !address.host.empty() && address.port != 0; }
};

}  // namespace

class TcpTransport::Impl final : public ConnectionOwner {
 public:
  Impl(const chain::SigningKey& identity, TcpTransportOptions options)
      : identity_(identity),
        options_(std::move(options)),
        rng_(std::random_device{}()),
        problem_limiter_(options_.limits.problems_per_second, std::chrono::steady_clock::now()) {
    for (const MemberAddress& m : options_.members) {
      member_keys_.insert(m.key);
      if (m.key == identity_.public_key()) continue;
      members_.try_emplace(m.key, std::make_unique<Member>(io_, m));
    }
    refresh_snapshot();
  }

  ~Impl() override { stop(); }

  Status start(TransportListener& listener) {
    if (started_) std::abort();  // start() twice is a caller bug
    started_ = true;
    listener_ = &listener;
    error_code ec;
    tcp::resolver resolver(io_);
    const auto endpoints = resolver.resolve(
        options_.listen_host, std::to_string(options_.listen_port), tcp::resolver::passive, ec);
    if (ec || endpoints.empty()) {
      return make_error("Cannot resolve the P2P listen address '" + options_.listen_host +
                        "': " + ec.message() + "; use an IP address such as 0.0.0.0.");
    }
    const tcp::endpoint endpoint = endpoints.begin()->endpoint();
    if (acceptor_.open(endpoint.protocol(), ec) ||
        acceptor_.set_option(tcp::acceptor::reuse_address(true), ec) ||
        acceptor_.bind(endpoint, ec) ||
        acceptor_.listen(asio::socket_base::max_listen_connections, ec)) {
      error_code ignored;
      acceptor_.close(ignored);
      return make_error("Cannot listen for peers on " + options_.listen_host + ":" +
                        std::to_string(options_.listen_port) + ": " + ec.message() +
                        "; is another batond using that port?");
    }
    listen_port_ = acceptor_.local_endpoint(ec).port();
    accept_next();
    for (auto& [key, member] : members_) dial(*member);
    thread_ = std::thread([this] { io_.run(); });
    return {};
  }

  void stop() {
    if (!thread_.joinable()) return;
    if (std::this_thread::get_id() == thread_.get_id()) std::abort();  // from a callback
    asio::post(io_, [this] { shutdown(); });
    thread_.join();
    // Handlers still queued are destroyed with io_ (they only hold connections).
  }

  bool send(const PeerId& peer, chain::Bytes message) {
    if (message.size() > options_.limits.max_message_size) return false;
    auto shared = std::make_shared<const chain::Bytes>(std::move(message));
    asio::post(io_, [this, peer, shared] {
      auto it = members_.find(peer);
      if (stopping_ || it == members_.end() || !it->second->session) return;
      it->second->session->send(shared);
    });
    return true;
  }

  bool broadcast(chain::Bytes message) {
    if (message.size() > options_.limits.max_message_size) return false;
    auto shared = std::make_shared<const chain::Bytes>(std::move(message));
    asio::post(io_, [this, shared] {
      if (stopping_) return;
      // Copy the sessions first: a send may close one and change members_.
      std::vector<std::shared_ptr<PeerConnection>> sessions;
      for (auto& [key, member] : members_) {
        if (member->session) sessions.push_back(member->session);
      }
      for (auto& s : sessions) s->send(shared);
    });
    return true;
  }

  void disconnect(const PeerId& peer) {
    asio::post(io_, [this, peer] {
      auto it = members_.find(peer);
      if (stopping_ || it == members_.end() || !it->second->session) return;
      it->second->session->close(DisconnectReason::requested, "The node asked to disconnect.");
    });
  }

  std::vector<PeerInfo> peers() const {
    std::lock_guard lock(snapshot_mutex_);
    return snapshot_;
  }

  std::uint16_t listen_port() const { return listen_port_; }

  void set_members(std::vector<MemberAddress> members) {
    asio::post(io_, [this, members = std::move(members)]() mutable {
      if (!stopping_) replace_members(std::move(members));
    });
  }

  // --- ConnectionOwner (io thread) ---

  void on_handshake_done(const std::shared_ptr<PeerConnection>& conn) override {
    pending_.erase(conn);
    auto it = members_.find(conn->peer());
    if (it == members_.end()) {
      // It left the membership while its handshake ran (set_members).
      conn->close(DisconnectReason::handshake_refused, "The peer is no longer a member.");
      return;
    }
    Member& m = *it->second;
    if (m.dialled == conn) m.dialled.reset();
    if (m.session && !m.session->closed()) {
      // Both ends see the same two sessions and pick the same one.
      const PeerId& self = identity_.public_key();
      const PeerId old_dialler = m.session->outbound() ? self : conn->peer();
      const PeerId new_dialler = conn->outbound() ? self : conn->peer();
      const bool keep_new = old_dialler == new_dialler || new_dialler < old_dialler;
      std::shared_ptr<PeerConnection> loser = keep_new ? m.session : conn;
      if (keep_new) m.session = conn;
      loser->close(DisconnectReason::duplicate_connection,
                   "Another connection to the same peer won the tie-break.");
      refresh_snapshot();
      return;
    }
    m.session = conn;
    m.failed_dials = 0;
    m.last_error.clear();
    refresh_snapshot();
    if (!stopping_) listener_->on_peer_connected(conn->peer());
  }

  MessageVerdict on_message(PeerConnection& conn, chain::ByteView message) override {
    if (stopping_) return MessageVerdict::accept;
    return listener_->on_message(conn.peer(), message);
  }

  void on_closed(const std::shared_ptr<PeerConnection>& conn, DisconnectReason reason,
                 const std::string& raw_detail) override {
    pending_.erase(conn);
    // Details can quote what a peer sent; whatever layer built them, only
    // printable ASCII goes on to logs and /status (p2p/peer_text.h).
    const std::string detail = printable_sentence(raw_detail);
    if (stopping_) return;
    // A connection that closes without sending a byte is a port probe (or a
    // peer that gave up at once), not a problem worth a log line.
    const bool probe = reason == DisconnectReason::closed_by_peer && !conn->received_any();
    if (reason != DisconnectReason::duplicate_connection && !probe) {
      std::optional<PeerId> peer;
      if (conn->established()) peer = conn->peer();
      for (auto& [key, member] : members_) {
        if (member->session == conn || member->dialled == conn) peer = key;
      }
      report(conn->remote(), peer, reason, detail);
    }
    for (auto& [key, member] : members_) {
      Member& m = *member;
      if (m.session == conn) {
        m.session.reset();
        m.last_error = std::string(to_string(reason)) + ": " + detail;
        refresh_snapshot();
        listener_->on_peer_disconnected(key, reason);
        schedule_redial(m);
        return;
      }
      if (m.dialled == conn) {
        m.dialled.reset();
        if (!m.session) ++m.failed_dials;
        m.last_error = std::string(to_string(reason)) + ": " + detail;
        refresh_snapshot();
        schedule_redial(m);
        return;
      }
    }
  }

 private:
  void accept_next() {
    acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
      if (stopping_) return;
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        // Out of file descriptors and the like: wait a little, keep serving.
        report("", std::nullopt, DisconnectReason::io_error,
               "Accepting a connection failed: " + ec.message() + ".");
        auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
        timer->async_wait([this, timer](const error_code&) {
          if (!stopping_) accept_next();
        });
        return;
      }
      on_accepted(std::move(socket));
      accept_next();
    });
  }

  void on_accepted(tcp::socket socket) {
    std::size_t inbound = 0;
    for (const auto& c : pending_) inbound += c->outbound() ? 0 : 1;
    if (inbound >= options_.limits.max_pending_inbound) {
      error_code ec;
      const auto remote = socket.remote_endpoint(ec);
      report(ec ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port()),
             std::nullopt, DisconnectReason::too_many_pending,
             "Refused a connection: " + std::to_string(inbound) +
                 " unauthenticated connections are already open.");
      socket.close(ec);
      return;
    }
    start_connection(std::move(socket), HandshakeRole::responder, std::nullopt);
  }

  std::shared_ptr<PeerConnection> start_connection(tcp::socket socket, HandshakeRole role,
                                                   std::optional<PeerId> expected) {
    HandshakeOptions hs;
    hs.chain_id = options_.chain_id;
    hs.genesis_hash = options_.genesis_hash;
    hs.members = member_keys_;
    hs.expected_peer = expected;
    auto handshake = std::make_unique<Handshake>(identity_, chain::X25519SecretKey::generate(),
                                                 role, std::move(hs));
    auto conn = std::make_shared<PeerConnection>(std::move(socket), *this, std::move(handshake),
                                                 options_.limits, role == HandshakeRole::initiator);
    pending_.insert(conn);
    conn->start();
    return conn;
  }

  void dial(Member& m) {
    if (stopping_ || !m.dialable() || m.session || m.dial || m.dialled) return;
    auto attempt = std::make_shared<DialAttempt>(io_);
    m.dial = attempt;
    refresh_snapshot();
    attempt->timer.expires_after(options_.limits.dial_timeout);
    attempt->timer.async_wait([attempt](const error_code& ec) {
      if (ec || attempt->finished) return;
      error_code ignored;
      attempt->resolver.cancel();
      attempt->socket.close(ignored);
    });
    const PeerId key = m.address.key;
    attempt->resolver.async_resolve(
        m.address.host, std::to_string(m.address.port),
        [this, attempt, key](const error_code& ec, const tcp::resolver::results_type& results) {
          if (stopping_) return;
          if (ec) {
            dial_finished(key, attempt, ec, "resolving");
            return;
          }
          asio::async_connect(attempt->socket, results,
                              [this, attempt, key](const error_code& ec, const tcp::endpoint&) {
                                if (!stopping_) dial_finished(key, attempt, ec, "connecting");
                              });
        });
  }

  void dial_finished(const PeerId& key, const std::shared_ptr<DialAttempt>& attempt,
                     const error_code& ec, const char* stage) {
    attempt->finished = true;
    attempt->timer.cancel();
    auto it = members_.find(key);
    if (it == members_.end() || it->second->dial != attempt) {
      // The member left (set_members) while this dial ran.
      error_code ignored;
      attempt->socket.close(ignored);
      return;
    }
    Member& m = *it->second;
    if (m.dial == attempt) m.dial.reset();
    if (ec) {
      ++m.failed_dials;
      m.last_error =
          std::string(stage) + " " + m.address.host + ":" + std::to_string(m.address.port) +
          " failed: " + (ec == asio::error::operation_aborted ? "timed out" : ec.message());
      refresh_snapshot();
      schedule_redial(m);
      return;
    }
    if (m.session) {  // the peer dialled us meanwhile
      error_code ignored;
      attempt->socket.close(ignored);
      refresh_snapshot();
      return;
    }
    m.dialled = start_connection(std::move(attempt->socket), HandshakeRole::initiator, key);
    refresh_snapshot();
  }

  void schedule_redial(Member& m) {
    if (stopping_ || !m.dialable() || m.redial_armed || m.session) return;
    // delay = min(max, initial * 2^(failures-1)), times a random factor in
    // [0.5, 1] so that members restarted together do not dial in lockstep.
    const std::uint32_t exponent = std::min<std::uint32_t>(m.failed_dials, 20);
    double delay_ms = static_cast<double>(options_.limits.backoff_initial.count()) *
                      static_cast<double>(1u << (exponent == 0 ? 0 : exponent - 1));
    delay_ms = std::min(delay_ms, static_cast<double>(options_.limits.backoff_max.count()));
    delay_ms *= std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
    m.redial_armed = true;
    m.redial.expires_after(std::chrono::milliseconds(static_cast<std::int64_t>(delay_ms)));
    const PeerId key = m.address.key;
    m.redial.async_wait([this, key](const error_code& ec) {
      if (ec || stopping_) return;
      auto it = members_.find(key);
      if (it == members_.end()) return;  // left meanwhile
      it->second->redial_armed = false;
      dial(*it->second);
    });
  }

  // io thread. Before start() runs the io thread, nothing calls this.
  void replace_members(std::vector<MemberAddress> next) {
    const PeerId& self = identity_.public_key();
    std::map<PeerId, MemberAddress> wanted;
    std::set<PeerId> keys;
    for (auto& a : next) {
      keys.insert(a.key);
      if (a.key != self) wanted.insert_or_assign(a.key, std::move(a));
    }
    member_keys_ = std::move(keys);  // every handshake from now on
    std::vector<std::unique_ptr<Member>> gone;
    for (auto it = members_.begin(); it != members_.end();) {
      if (wanted.contains(it->first)) {
        ++it;
      } else {
        gone.push_back(std::move(it->second));
        it = members_.erase(it);
      }
    }
    // Out of members_ first, so that on_closed finds nothing to redial.
    error_code ignored;
    for (auto& m : gone) {
      m->redial.cancel();
      if (m->dial) {
        m->dial->resolver.cancel();
        m->dial->socket.close(ignored);
      }
      if (m->dialled) m->dialled->close(DisconnectReason::requested, "The peer left the members.");
      if (m->session) {
        const PeerId key = m->address.key;
        m->session->close(DisconnectReason::requested, "The peer left the members.");
        listener_->on_peer_disconnected(key, DisconnectReason::requested);
      }
    }
    // Handshakes in progress with a peer that left end when they complete
    // (on_handshake_done refuses a non-member).
    for (auto& [key, address] : wanted) {
      auto it = members_.find(key);
      if (it == members_.end()) {
        auto& m = *members_.try_emplace(key, std::make_unique<Member>(io_, address)).first->second;
        dial(m);
        continue;
      }
      Member& m = *it->second;
      if (m.address.host == address.host && m.address.port == address.port) continue;
      m.address = address;
      m.failed_dials = 0;
      if (!m.session && !m.dial && !m.dialled) {
        m.redial.cancel();
        m.redial_armed = false;
        dial(m);
      }
    }
    refresh_snapshot();
  }

  void shutdown() {
    stopping_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    std::vector<std::shared_ptr<PeerConnection>> all(pending_.begin(), pending_.end());
    for (auto& [key, m] : members_) {
      m->redial.cancel();
      if (m->dial) {
        m->dial->resolver.cancel();
        m->dial->socket.close(ignored);
        m->dial->timer.cancel();
      }
      if (m->session) all.push_back(m->session);
      m->session.reset();
      m->dialled.reset();
      m->dial.reset();
    }
    for (auto& c : all) c->close(DisconnectReason::stopped, "The transport stopped.");
    pending_.clear();
    refresh_snapshot();
    io_.stop();
  }

  void report(std::string remote, std::optional<PeerId> peer, DisconnectReason reason,
              std::string detail) {
    const auto held_back = problem_limiter_.admit(std::chrono::steady_clock::now());
    if (!held_back) return;
    TransportProblem problem{std::move(remote), peer, reason, std::move(detail), *held_back};
    listener_->on_problem(problem);
  }

  void refresh_snapshot() {
    std::vector<PeerInfo> peers;
    peers.reserve(members_.size());
    for (const auto& [key, m] : members_) {
      PeerInfo info;
      info.key = key;
      if (m->dialable()) info.address = m->address.host + ":" + std::to_string(m->address.port);
      if (m->session) {
        info.state = PeerState::connected;
        info.outbound = m->session->outbound();
      } else if (m->dial || m->dialled) {
        info.state = PeerState::connecting;
      }
      info.failed_dials = m->failed_dials;
      info.last_error = m->last_error;
      peers.push_back(std::move(info));
    }
    std::lock_guard lock(snapshot_mutex_);
    snapshot_ = std::move(peers);
  }

  // io_ is declared first so that it is destroyed last: the handlers it still
  // holds own connections whose sockets belong to it.
  asio::io_context io_;
  // Keeps run() going while nothing is pending; shutdown() ends it with stop().
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  tcp::acceptor acceptor_{io_};
  const chain::SigningKey identity_;
  const TcpTransportOptions options_;
  std::set<PeerId> member_keys_;
  std::map<PeerId, std::unique_ptr<Member>> members_;
  std::set<std::shared_ptr<PeerConnection>> pending_;  // in handshake
  TransportListener* listener_ = nullptr;
  std::thread thread_;
  bool started_ = false;
  bool stopping_ = false;
  std::atomic<std::uint16_t> listen_port_{0};
  std::mt19937_64 rng_;
  ProblemLimiter problem_limiter_;
  mutable std::mutex snapshot_mutex_;
  std::vector<PeerInfo> snapshot_;
};

TcpTransport::TcpTransport(const chain::SigningKey& identity, TcpTransportOptions options)
    : impl_(std::make_unique<Impl>(identity, std::move(options))) {}
TcpTransport::~TcpTransport() { impl_->stop(); }
Status TcpTransport::start(TransportListener& listener) { return impl_->start(listener); }
bool TcpTransport::send(const PeerId& peer, chain::Bytes message) {
  return impl_->send(peer, std::move(message));
}
bool TcpTransport::broadcast(chain::Bytes message) { return impl_->broadcast(std::move(message)); }
void TcpTransport::disconnect(const PeerId& peer) { impl_->disconnect(peer); }
std::vector<PeerInfo> TcpTransport::peers() const { return impl_->peers(); }
void TcpTransport::set_members(std::vector<MemberAddress> members) {
  impl_->set_members(std::move(members));
}
void TcpTransport::stop() { impl_->stop(); }
std::uint16_t TcpTransport::listen_port() const { return impl_->listen_port(); }

const char* to_string(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::closed_by_peer:
      return "closed by peer";
    case DisconnectReason::io_error:
      return "I/O error";
    case DisconnectReason::handshake_refused:
      return "handshake refused";
    case DisconnectReason::handshake_timeout:
      return "handshake timeout";
    case DisconnectReason::oversized_frame:
      return "oversized frame";
    case DisconnectReason::not_authentic:
      return "frame not authentic";
    case DisconnectReason::bad_envelope:
      return "bad envelope";
    case DisconnectReason::invalid_message:
      return "invalid message";
    case DisconnectReason::idle_timeout:
      return "idle timeout";
    case DisconnectReason::send_queue_full:
      return "send queue full";
    case DisconnectReason::duplicate_connection:
      return "duplicate connection";
    case DisconnectReason::too_many_pending:
      return "too many pending connections";
    case DisconnectReason::requested:
      return "requested";
    case DisconnectReason::stopped:
      return "stopped";
  }
  return "unknown";
}

const char* to_string(PeerState state) {
  switch (state) {
    case PeerState::disconnected:
      return "disconnected";
    case PeerState::connecting:
      return "connecting";
    case PeerState::connected:
      return "connected";
  }
  return "unknown";
}

}  // namespace baton::p2p

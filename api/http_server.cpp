#include "api/http_server.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <map>
#include <optional>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "api/http_admission.h"

namespace baton::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using UnixStream = beast::basic_stream<local>;

constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kFirstReadBytes = 4096;

std::uint64_t steady_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// One connection's byte stream over whichever transport it came: the
// Session reads and writes it (and Beast's HTTP algorithms drive it) without
// knowing which.
class AnyStream {
 public:
  using executor_type = asio::any_io_executor;
  explicit AnyStream(tcp::socket socket) : s_(std::in_place_type<PlainStream>, std::move(socket)) {}
  AnyStream(tcp::socket socket, asio::ssl::context& tls)
      : s_(std::in_place_type<TlsStream>, std::move(socket), tls) {}
  explicit AnyStream(local::socket socket)
      : s_(std::in_place_type<UnixStream>, std::move(socket)) {}

  executor_type get_executor() {
    return std::visit([](auto& s) -> executor_type { return s.get_executor(); }, s_);
  }
  template <typename Buffers, typename Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    std::visit([&](auto& s) { s.async_read_some(buffers, std::forward<Handler>(handler)); }, s_);
  }
  template <typename Buffers, typename Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    std::visit([&](auto& s) { s.async_write_some(buffers, std::forward<Handler>(handler)); }, s_);
  }
  void expires_after(std::chrono::milliseconds d) {
    std::visit([&](auto& s) { beast::get_lowest_layer(s).expires_after(d); }, s_);
  }
  // Shuts the socket down (`both`: also for reading) and, with `close`,
  // closes it, which ends the operation in flight with operation_aborted.
  void shutdown(bool both, bool close) {
    std::visit(
        [&](auto& s) {
          auto& socket = beast::get_lowest_layer(s).socket();
          beast::error_code ec;
          socket.shutdown(
              both ? asio::socket_base::shutdown_both : asio::socket_base::shutdown_send, ec);
          if (close) socket.close(ec);
        },
        s_);
  }
  TlsStream* tls() { return std::get_if<TlsStream>(&s_); }
  HttpTransport transport() const {
    if (std::holds_alternative<TlsStream>(s_)) return HttpTransport::tls;
    if (std::holds_alternative<UnixStream>(s_)) return HttpTransport::unix_socket;
    return HttpTransport::tcp;
  }

 private:
  std::variant<PlainStream, TlsStream, UnixStream> s_;
};

class Session;

// Every open connection, for admission (server thread only).
struct ConnectionTable {
  struct Entry {
    std::string client;
    ConnectionPhase phase = ConnectionPhase::idle;
    std::uint64_t last_active_ms = 0;
    std::weak_ptr<Session> session;
  };
  std::map<std::uint64_t, Entry> entries;
  std::uint64_t next_id = 1;

  std::vector<OpenConnection> snapshot() const {
    std::vector<OpenConnection> out;
    out.reserve(entries.size());
    for (const auto& [id, e] : entries) out.push_back({id, e.client, e.phase, e.last_active_ms});
    return out;
  }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(AnyStream stream, const HttpHandler& handler, const HttpServerOptions& options,
          ConnectionTable& table, std::uint64_t id)
      : stream_(std::move(stream)), handler_(handler), options_(options), table_(table), id_(id) {}
  ~Session() { table_.entries.erase(id_); }

  // TLS: the handshake first, within header_timeout_ms.
  void run() {
    TlsStream* tls = stream_.tls();
    if (tls == nullptr) return wait_for_request();
    set_phase(ConnectionPhase::reading);
    stream_.expires_after(std::chrono::milliseconds(options_.header_timeout_ms));
    tls->async_handshake(asio::ssl::stream_base::server,
                         [self = shared_from_this()](beast::error_code ec) {
                           if (ec) return self->stream_.shutdown(true, true);
                           self->wait_for_request();
                         });
  }

  // Gives way to a newer connection (admission): closes the socket, which
  // ends the operation in flight with operation_aborted.
  void evict() {
    waiting_.reset();
    wait_timer_.cancel();
    stream_.shutdown(true, true);
  }

  // Asks a parked request's `ready` again; answers when it has an answer.
  void recheck() {
    if (!waiting_) return;
    std::optional<HttpResponse> ready;
    try {
      ready = waiting_->ready();
    } catch (const std::exception&) {
      ready = internal_error();
    }
    if (!ready) return;
    waiting_.reset();
    wait_timer_.cancel();
    respond(std::move(*ready));
  }

 private:
  void set_phase(ConnectionPhase phase) {
    auto it = table_.entries.find(id_);
    if (it == table_.entries.end()) return;  // evicted meanwhile
    it->second.phase = phase;
    it->second.last_active_ms = steady_ms();
  }

  // Idle: wait for the first byte of the next request (bytes already read,
  // e.g. a pipelined request, count as that byte).
  void wait_for_request() {
    set_phase(ConnectionPhase::idle);
    if (buffer_.size() > 0) return read_header();
    stream_.expires_after(std::chrono::milliseconds(options_.idle_timeout_ms));
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  // From the request's first byte, the whole header within header_timeout_ms.
  void read_header() {
    set_phase(ConnectionPhase::reading);
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(kHeaderLimit);
    stream_.expires_after(std::chrono::milliseconds(options_.header_timeout_ms));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec == http::error::body_limit) return too_large();
    if (ec == http::error::header_limit) {
      return reply(431, "{\"error\":\"the request header is larger than 16 KiB\"}", false);
    }
    if (ec) return close();
    if (parser_->is_done()) return answer();
    stream_.expires_after(std::chrono::milliseconds(options_.body_timeout_ms));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
  }

  void on_body(beast::error_code ec) {
    if (ec == http::error::body_limit) return too_large();
    if (ec) return close();
    answer();
  }

  void too_large() {
    reply(413, "{\"error\":\"the request body is larger than the limit\"}", false);
  }

  void answer() {
    set_phase(ConnectionPhase::busy);
    auto& req = parser_->get();
    HttpRequest in;
    in.transport = stream_.transport();
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    in.content_type = std::string(req[http::field::content_type]);
    in.host = std::string(req[http::field::host]);
    in.origin = std::string(req[http::field::origin]);
    in.version = req.version();
    in.authorization = std::string(req[http::field::authorization]);
    in.agent_api = std::string(req["X-Baton-Agent-Api"]);
    in.cookie = std::string(req[http::field::cookie]);
    in.body = std::move(req.body());
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    HttpAnswer out;
    try {
      out = handler_(in);
    } catch (const std::exception&) {
      out = internal_error();
    }
    if (auto* wait = std::get_if<HttpWait>(&out)) return park(std::move(*wait));
    respond(std::get<HttpResponse>(std::move(out)));
  }

 private:
  static HttpResponse internal_error() {
    return {500, "application/json", std::string("{\"error\":\"internal error\"}")};
  }

  // A long-poll: no read, no write and no stream deadline while parked; the
  // wait timer bounds it (at most max_wait_ms). A client that goes away
  // meanwhile is noticed when the answer is written; until then its
  // connection counts, and gives way, like any parked one.
  void park(HttpWait wait) {
    set_phase(ConnectionPhase::waiting);
    const auto longest = std::chrono::milliseconds(options_.max_wait_ms);
    wait_timer_.expires_after(std::min(wait.wait, longest));
    waiting_.emplace(std::move(wait));
    wait_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->waiting_) return;  // answered, evicted or stopped
      HttpResponse timeout = std::move(self->waiting_->timeout_answer);
      self->waiting_.reset();
      self->respond(std::move(timeout));
    });
  }

  void respond(HttpResponse out) {
    set_phase(ConnectionPhase::busy);
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<http::status>(out.status));
    response_.set(http::field::server, "batond");
    response_.set(http::field::content_type, out.content_type);
    for (const auto& [name, value] : out.headers) response_.insert(name, value);
    response_.keep_alive(keep_alive_);
    response_.body() = std::move(out.body);
    response_.prepare_payload();
    write(keep_alive_);
  }

  void reply(int status, std::string body, bool keep_alive) {
    set_phase(ConnectionPhase::busy);
    response_ = {};
    response_.version(11);
    response_.result(static_cast<http::status>(status));
    response_.set(http::field::content_type, "application/json");
    response_.keep_alive(keep_alive);
    response_.body() = std::move(body);
    response_.prepare_payload();
    write(keep_alive);
  }

  void write(bool keep_alive) {
    stream_.expires_after(std::chrono::milliseconds(options_.write_timeout_ms));
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        if (ec || !keep_alive) return self->close();
                        self->wait_for_request();
                      });
  }

  // TLS: close_notify first (within write_timeout_ms).
  void close() {
    TlsStream* tls = stream_.tls();
    if (tls == nullptr) return stream_.shutdown(false, false);
    stream_.expires_after(std::chrono::milliseconds(options_.write_timeout_ms));
    tls->async_shutdown(
        [self = shared_from_this()](beast::error_code) { self->stream_.shutdown(false, false); });
  }

  AnyStream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  std::optional<HttpWait> waiting_;  // set while a long-poll is parked
  asio::steady_timer wait_timer_{stream_.get_executor()};
  const HttpHandler& handler_;
  const HttpServerOptions& options_;
  ConnectionTable& table_;
  const std::uint64_t id_;
};

// The TLS context for the admin API's identity: TLS 1.2 or newer.
Status make_tls_context(asio::ssl::context& ctx, const TlsIdentity& id) {
  beast::error_code ec;
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                  ec);
  if (!ec) ctx.use_certificate_chain(asio::buffer(id.cert_pem), ec);
  if (!ec) {
    ctx.use_private_key(asio::buffer(id.key_pem.view().data(), id.key_pem.view().size()),
                        asio::ssl::context::pem, ec);
  }
  if (ec) return make_error("OpenSSL refused the admin API's TLS identity: " + ec.message());
  return {};
}

// A Unix socket's peer, for the per-client limit: "uid:N".
std::string unix_peer(local::socket& socket) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return "unix";
  }
  return "uid:" + std::to_string(cred.uid);
}

// Makes way for a socket file at `path`: nothing there, or a socket no
// server answers on (left by a process that died), which is removed.
Status clear_socket_path(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {};
  if (!S_ISSOCK(st.st_mode)) {
    return make_error("the admin API's unix_socket " + path.string() +
                      " exists and is not a socket; remove it or choose another path");
  }
  asio::io_context io;
  local::socket probe(io);
  beast::error_code ec;
  probe.connect(local::endpoint(path.string()), ec);
  if (!ec) {
    return make_error("another process serves the admin API's unix_socket " + path.string() +
                      " (is another batond running?)");
  }
  ::unlink(path.c_str());
  return {};
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  ConnectionTable table;  // before io: pending sessions die with io and erase themselves
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  local::acceptor unix_acceptor{io};
  std::optional<asio::ssl::context> tls;
  std::thread thread;
  std::uint16_t bound_port = 0;
  bool made_socket_file = false;
  bool started = false;

  void accept() {
    if (!options.unix_socket.empty()) {
      unix_acceptor.async_accept([this](beast::error_code ec, local::socket socket) {
        if (ec == asio::error::operation_aborted || !unix_acceptor.is_open()) return;
        if (!ec) {
          std::string client = unix_peer(socket);
          admit(AnyStream(std::move(socket)), std::move(client));
        }
        accept();
      });
      return;
    }
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        const auto remote = socket.remote_endpoint(ec);
        if (!ec) {  // else already gone
          std::string client = remote.address().to_string();
          admit(tls ? AnyStream(std::move(socket), *tls) : AnyStream(std::move(socket)),
                std::move(client));
        }
      }
      accept();
    });
  }

  // Server thread. Sessions are collected first: a recheck can end the last
  // reference to another session, whose destructor edits the table.
  void wake_waiting() {
    std::vector<std::shared_ptr<Session>> parked;
    for (const auto& [id, e] : table.entries) {
      if (e.phase != ConnectionPhase::waiting) continue;
      if (auto session = e.session.lock()) parked.push_back(std::move(session));
    }
    for (const auto& session : parked) session->recheck();
  }

  void admit(AnyStream stream, std::string client) {
    const Admission a = admit_connection(
        table.snapshot(), client, {options.max_connections, options.max_connections_per_client});
    if (!a.accept) {
      stream.shutdown(true, true);
      return;
    }
    if (a.evict) {
      auto it = table.entries.find(*a.evict);
      if (it != table.entries.end()) {
        auto victim = it->second.session.lock();
        table.entries.erase(it);  // its slot is free now, whenever its handlers run
        if (victim) victim->evict();
      }
    }
    const std::uint64_t id = table.next_id++;
    auto session = std::make_shared<Session>(std::move(stream), handler, options, table, id);
    table.entries[id] = ConnectionTable::Entry{client, ConnectionPhase::idle, steady_ms(), session};
    session->run();
  }

  Status listen_tcp() {
    const std::string where = options.listen.to_string();
    if (options.tls) {
      tls.emplace(asio::ssl::context::tls_server);
      if (auto s = make_tls_context(*tls, *options.tls); !s) return s;
    }
    beast::error_code ec;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(options.listen.host, std::to_string(options.listen.port), ec);
    if (ec || results.empty()) {
      return make_error("cannot resolve the admin API address " + where + ": " + ec.message());
    }
    const tcp::endpoint endpoint = results.begin()->endpoint();
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (ec) {
      return make_error("cannot listen for the admin API on " + where + ": " + ec.message() +
                        " (is another batond running? change admin_listen in node.toml)");
    }
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return make_error("cannot listen for the admin API on " + where + ": " + ec.message());
    bound_port = acceptor.local_endpoint().port();
    return {};
  }

  // bind, chmod (and chown), then listen: no one can connect before the file
  // has its mode.
  Status listen_unix() {
    const std::filesystem::path& path = options.unix_socket;
    const std::string where = "the admin API's unix_socket " + path.string();
    if (path.string().size() >= sizeof(sockaddr_un{}.sun_path)) {
      return make_error(where +
                        " is longer than a socket path may be (107 bytes); choose a "
                        "shorter one");
    }
    if (auto s = clear_socket_path(path); !s) return s;
    beast::error_code ec;
    unix_acceptor.open(local(), ec);
    if (!ec) unix_acceptor.bind(local::endpoint(path.string()), ec);
    if (ec) return make_error("cannot create " + where + ": " + ec.message());
    made_socket_file = true;
    if (!options.unix_socket_group.empty()) {
      const group* g = ::getgrnam(options.unix_socket_group.c_str());
      if (g == nullptr) {
        return make_error(where + ": there is no group '" + options.unix_socket_group +
                          "' (unix_socket_group in node.toml)");
      }
      if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
        return make_error("cannot give " + where + " the group '" + options.unix_socket_group +
                          "': " + std::strerror(errno) + " (batond's user must be in that group)");
      }
    }
    if (::chmod(path.c_str(), options.unix_socket_mode) != 0) {
      return make_error("cannot set the mode of " + where + ": " + std::strerror(errno));
    }
    unix_acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return make_error("cannot listen on " + where + ": " + ec.message());
    return {};
  }

  void remove_socket_file() {
    if (!made_socket_file) return;
    made_socket_file = false;
    ::unlink(options.unix_socket.c_str());
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start() {
  auto& im = *impl_;
  Status listening = im.options.unix_socket.empty() ? im.listen_tcp() : im.listen_unix();
  if (!listening) {
    beast::error_code ec;
    im.acceptor.close(ec);
    im.unix_acceptor.close(ec);
    im.remove_socket_file();
    return listening;
  }
  im.accept();
  im.started = true;
  im.thread = std::thread([&im] { im.io.run(); });
  return {};
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }

void HttpServer::wake_waiting() {
  auto& im = *impl_;
  asio::post(im.io, [&im] { im.wake_waiting(); });
}

void HttpServer::stop() {
  auto& im = *impl_;
  if (!im.started) return;
  im.started = false;
  asio::post(im.io, [&im] {
    beast::error_code ec;
    im.acceptor.close(ec);
    im.unix_acceptor.close(ec);
  });
  im.io.stop();
  if (im.thread.joinable()) im.thread.join();
  im.remove_socket_file();
}

}  // namespace baton::api

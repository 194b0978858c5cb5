#include "api/http_server.h"

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/http_admission.h"

namespace baton::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kFirstReadBytes = 4096;

std::uint64_t steady_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

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
  Session(tcp::socket socket, const HttpHandler& handler, const HttpServerOptions& options,
          ConnectionTable& table, std::uint64_t id)
      : stream_(std::move(socket)), handler_(handler), options_(options), table_(table), id_(id) {}
  ~Session() { table_.entries.erase(id_); }

  void run() { wait_for_request(); }

  // Gives way to a newer connection (admission): closes the socket, which
  // ends the operation in flight with operation_aborted.
  void evict() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
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
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    in.content_type = std::string(req[http::field::content_type]);
    in.host = std::string(req[http::field::host]);
    in.origin = std::string(req[http::field::origin]);
    in.version = req.version();
    in.authorization = std::string(req[http::field::authorization]);
    in.agent_api = std::string(req["X-Baton-Agent-Api"]);
    in.body = std::move(req.body());
    HttpResponse out;
    try {
      out = handler_(in);
    } catch (const std::exception&) {
      out = {500, "application/json", std::string("{\"error\":\"internal error\"}")};
    }
    response_ = {};
    response_.version(req.version());
    response_.result(static_cast<http::status>(out.status));
    response_.set(http::field::server, "batond");
    response_.set(http::field::content_type, out.content_type);
    response_.keep_alive(req.keep_alive());
    response_.body() = std::move(out.body);
    response_.prepare_payload();
    write(req.keep_alive());
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

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  const HttpHandler& handler_;
  const HttpServerOptions& options_;
  ConnectionTable& table_;
  const std::uint64_t id_;
};

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  ConnectionTable table;  // before io: pending sessions die with io and erase themselves
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::uint16_t bound_port = 0;
  bool started = false;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) admit(std::move(socket));
      accept();
    });
  }

  void admit(tcp::socket socket) {
    beast::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) return;  // already gone
    const std::string client = remote.address().to_string();
    const Admission a = admit_connection(
        table.snapshot(), client, {options.max_connections, options.max_connections_per_client});
    if (!a.accept) {
      socket.close(ec);
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
    auto session = std::make_shared<Session>(std::move(socket), handler, options, table, id);
    table.entries[id] = ConnectionTable::Entry{client, ConnectionPhase::idle, steady_ms(), session};
    session->run();
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
  const std::string where = im.options.listen.to_string();
  beast::error_code ec;
  tcp::resolver resolver(im.io);
  auto results =
      resolver.resolve(im.options.listen.host, std::to_string(im.options.listen.port), ec);
  if (ec || results.empty()) {
    return make_error("cannot resolve the admin API address " + where + ": " + ec.message());
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  im.acceptor.open(endpoint.protocol(), ec);
  if (!ec) im.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) im.acceptor.bind(endpoint, ec);
  if (ec) {
    return make_error("cannot listen for the admin API on " + where + ": " + ec.message() +
                      " (is another batond running? change admin_listen in node.toml)");
  }
  im.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("cannot listen for the admin API on " + where + ": " + ec.message());
  im.bound_port = im.acceptor.local_endpoint().port();
  im.accept();
  im.started = true;
  im.thread = std::thread([&im] { im.io.run(); });
  return {};
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }

void HttpServer::stop() {
  auto& im = *impl_;
  if (!im.started) return;
  im.started = false;
  asio::post(im.io, [&im] {
    beast::error_code ec;
    im.acceptor.close(ec);
  });
  im.io.stop();
  if (im.thread.joinable()) im.thread.join();
}

}  // namespace baton::api

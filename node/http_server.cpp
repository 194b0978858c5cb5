#include "node/http_server.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace baton::node {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpHandler& handler, const HttpServerOptions& options,
          std::atomic<std::size_t>& live)
      : stream_(std::move(socket)), handler_(handler), options_(options), live_(live) {
    ++live_;
  }
  ~Session() { --live_; }

  void run() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::milliseconds(options_.idle_timeout_ms));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return close();
    if (ec == http::error::body_limit) {
      return reply(413, "{\"error\":\"the request body is larger than the limit\"}", false);
    }
    if (ec) return close();
    auto& req = parser_->get();
    HttpRequest in;
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    in.content_type = std::string(req[http::field::content_type]);
    in.body = std::move(req.body());
    HttpResponse out;
    try {
      out = handler_(in);
    } catch (const std::exception& e) {
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
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        if (ec || !keep_alive) return self->close();
                        self->read();
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
  std::atomic<std::size_t>& live_;
};

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  std::atomic<std::size_t> live{0};  // before io: pending sessions die with io
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::uint16_t bound_port = 0;
  bool started = false;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        if (live.load() >= options.max_connections) {
          beast::error_code ignored;
          socket.close(ignored);
        } else {
          std::make_shared<Session>(std::move(socket), handler, options, live)->run();
        }
      }
      accept();
    });
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

}  // namespace baton::node

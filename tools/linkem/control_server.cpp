#include "tools/linkem/control_server.h"

namespace baton::linkem {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {
constexpr std::size_t kMaxControlConnections = 8;
}  // namespace

bool listen_on(tcp::acceptor& acceptor, const Endpoint& at, std::string& error) {
  error_code ec;
  const auto address = asio::ip::make_address(at.host, ec);
  if (ec) {
    error = "listen address " + at.to_string() + " is not an IP address";
    return false;
  }
  const tcp::endpoint endpoint(address, at.port);
  if (acceptor.open(endpoint.protocol(), ec) ||
      acceptor.set_option(tcp::acceptor::reuse_address(true), ec) || acceptor.bind(endpoint, ec) ||
      acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
    error = "cannot listen on " + at.to_string() + ": " + ec.message();
    return false;
  }
  return true;
}

ControlServer::ControlServer(asio::io_context& io, Handler handler)
    : handler_(std::move(handler)), acceptor_(io) {}

bool ControlServer::bind(const Endpoint& at, std::string& error) {
  return listen_on(acceptor_, at, error);
}

void ControlServer::start() {
  if (acceptor_.is_open()) accept();
}

std::uint16_t ControlServer::port() const {
  error_code ec;
  return acceptor_.is_open() ? acceptor_.local_endpoint(ec).port() : 0;
}

void ControlServer::close() {
  error_code ignored;
  acceptor_.close(ignored);
  for (const auto& s : sessions_) s->close(ignored);
  sessions_.clear();
}

void ControlServer::accept() {
  acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      if (sessions_.size() >= kMaxControlConnections) {
        error_code ignored;
        socket.close(ignored);
      } else {
        auto s = std::make_shared<tcp::socket>(std::move(socket));
        sessions_.insert(s);
        read_command(s, std::make_shared<asio::streambuf>(kMaxControlLine));
      }
    }
    accept();
  });
}

void ControlServer::drop(const std::shared_ptr<tcp::socket>& s) {
  error_code ignored;
  s->close(ignored);
  sessions_.erase(s);
}

void ControlServer::read_command(std::shared_ptr<tcp::socket> s,
                                 std::shared_ptr<asio::streambuf> buf) {
  asio::async_read_until(*s, *buf, '\n', [this, s, buf](const error_code& ec, std::size_t n) {
    if (ec) return drop(s);  // EOF, a line past the bound, or close()
    std::string line(asio::buffers_begin(buf->data()), asio::buffers_begin(buf->data()) + n);
    buf->consume(n);
    auto reply = std::make_shared<std::string>(handler_(line));
    asio::async_write(*s, asio::buffer(*reply),
                      [this, s, buf, reply](const error_code& ec, std::size_t) {
                        if (ec) return drop(s);
                        read_command(s, buf);
                      });
  });
}

}  // namespace baton::linkem

#include "tools/linkem/relay.h"

#include <deque>
#include <map>
#include <set>

#include "tools/linkem/control_server.h"

namespace baton::linkem {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

class Connection;

struct Link {
  Link(asio::io_context& io, LinkSpec s, std::uint64_t seed)
      : spec(std::move(s)), acceptor(io), rng(seed) {}
  const std::string& name() const { return spec.name; }
  LinkProfile& profile() { return spec.profile; }
  LinkSpec spec;
  tcp::acceptor acceptor;
  std::vector<tcp::endpoint> target;
  std::mt19937_64 rng;
  bool cut = false;
  std::set<std::shared_ptr<Connection>> connections;
  std::uint64_t accepted = 0, refused = 0, stalls = 0;
};

struct Chunk {
  std::vector<char> bytes;
  Clock::time_point at;
};

// One direction of a relayed connection.
struct Pipe {
  Pipe(tcp::socket& f, tcp::socket& t, asio::io_context& io) : from(f), to(t), timer(io) {}
  tcp::socket& from;
  tcp::socket& to;
  asio::steady_timer timer;
  DirectionSchedule schedule;
  std::deque<Chunk> queue;
  std::size_t queued_bytes = 0;
  std::vector<char> buffer = std::vector<char>(kChunkBytes);
  bool reading = false, writing = false, timer_armed = false, eof = false, shut = false;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, Link& link, tcp::socket client, std::size_t max_queued)
      : link_(link),
        client_(std::move(client)),
        upstream_(io),
        up_(client_, upstream_, io),
        down_(upstream_, client_, io),
        max_queued_(max_queued) {}

  void start() {
    auto self = shared_from_this();
    asio::async_connect(upstream_, link_.target,
                        [self](const error_code& ec, const tcp::endpoint&) {
                          if (self->closed_) return;
                          if (ec) return self->close();
                          error_code ignored;
                          self->upstream_.set_option(tcp::no_delay(true), ignored);
                          self->client_.set_option(tcp::no_delay(true), ignored);
                          self->read(self->up_);
                          self->read(self->down_);
                        });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
    up_.timer.cancel();
    down_.timer.cancel();
    link_.connections.erase(shared_from_this());
  }

 private:
  void read(Pipe& p) {
    if (closed_ || p.reading || p.eof || p.queued_bytes >= max_queued_) return;
    p.reading = true;
    auto self = shared_from_this();
    p.from.async_read_some(asio::buffer(p.buffer), [self, &p](const error_code& ec, std::size_t n) {
      p.reading = false;
      if (self->closed_) return;
      if (ec) {
        if (ec != asio::error::eof) return self->close();
        p.eof = true;
        return self->finish(p);
      }
      const std::uint64_t before = p.schedule.stalls();
      const Clock::time_point at =
          p.schedule.deliver_at(Clock::now(), n, self->link_.spec.profile, self->link_.rng);
      self->link_.stalls += p.schedule.stalls() - before;
      p.queue.push_back({std::vector<char>(p.buffer.begin(), p.buffer.begin() + n), at});
      p.queued_bytes += n;
      self->pump(p);
      self->read(p);
    });
  }

  void pump(Pipe& p) {
    if (closed_ || p.writing || p.queue.empty()) return;
    auto self = shared_from_this();
    if (p.queue.front().at > Clock::now()) {
      if (p.timer_armed) return;
      p.timer_armed = true;
      p.timer.expires_at(p.queue.front().at);
      p.timer.async_wait([self, &p](const error_code&) {
        p.timer_armed = false;
        if (!self->closed_) self->pump(p);
      });
      return;
    }
    p.writing = true;
    asio::async_write(p.to, asio::buffer(p.queue.front().bytes),
                      [self, &p](const error_code& ec, std::size_t) {
                        p.writing = false;
                        if (self->closed_) return;
                        if (ec) return self->close();
                        p.queued_bytes -= p.queue.front().bytes.size();
                        p.queue.pop_front();
                        self->read(p);
                        self->pump(p);
                        self->finish(p);
                      });
  }

  // Half-close once a side's EOF has been delivered; close when both have.
  void finish(Pipe& p) {
    if (closed_ || !p.eof || p.shut || p.writing || !p.queue.empty()) return;
    p.shut = true;
    error_code ignored;
    p.to.shutdown(tcp::socket::shutdown_send, ignored);
    if (up_.shut && down_.shut) close();
  }

  Link& link_;
  tcp::socket client_;
  tcp::socket upstream_;
  Pipe up_;    // client -> target
  Pipe down_;  // target -> client
  const std::size_t max_queued_;
  bool closed_ = false;
};

}  // namespace

class Relay::Impl {
 public:
  explicit Impl(RelayOptions options) : options_(std::move(options)) {
    for (std::size_t i = 0; i < options_.links.size(); ++i) {
      links_.push_back(std::make_unique<Link>(io_, options_.links[i], options_.seed + i));
    }
  }
  ~Impl() { stop(); }

  bool start(std::string& error) {
    tcp::resolver resolver(io_);
    for (auto& link : links_) {
      error_code ec;
      for (const auto& r :
           resolver.resolve(link->spec.target.host, std::to_string(link->spec.target.port), ec)) {
        link->target.push_back(r.endpoint());
      }
      if (ec || link->target.empty()) {
        error = "link " + link->spec.name + ": cannot resolve its target " +
                link->spec.target.to_string() + (ec ? ": " + ec.message() : "");
        return false;
      }
      if (!listen_on(link->acceptor, link->spec.listen, error)) {
        error = "link " + link->spec.name + ": " + error;
        return false;
      }
    }
    if (options_.control && !control_.bind(*options_.control, error)) {
      error = "control: " + error;
      return false;
    }
    for (auto& link : links_) accept(*link);
    control_.start();
    loop_.start();
    return true;
  }

  std::string control(const std::string& line) {
    return loop_.call([&] { return run(line); });
  }

  std::uint16_t link_port(std::size_t i) const {
    error_code ec;
    return links_.at(i)->acceptor.local_endpoint(ec).port();
  }
  std::uint16_t control_port() const { return control_.port(); }

  void stop() {
    loop_.stop([this] {
      error_code ignored;
      control_.close();
      for (auto& link : links_) {
        link->acceptor.close(ignored);
        close_all(*link);
      }
    });
  }

 private:
  void accept(Link& link) {
    link.acceptor.async_accept([this, &link](const error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !link.acceptor.is_open()) return;
      if (!ec) {
        if (link.cut || link.connections.size() >= options_.max_connections_per_link) {
          ++link.refused;  // a partition (or the bound): closed at once
          error_code ignored;
          socket.close(ignored);
        } else {
          ++link.accepted;
          auto conn =
              std::make_shared<Connection>(io_, link, std::move(socket), options_.max_queued_bytes);
          link.connections.insert(conn);
          conn->start();
        }
      }
      accept(link);
    });
  }

  static void close_all(Link& link) {
    const auto all = link.connections;  // close() erases from the set
    for (const auto& c : all) c->close();
  }

  std::string run(const std::string& line) {
    return run_command(
        line, links_,
        [](Link& l) {
          l.cut = true;
          close_all(l);
        },
        [](Link& l) { l.cut = false; }, status_line);
  }

  static std::string status_line(const Link& l) {
    const LinkProfile& p = l.spec.profile;
    return l.spec.name + " listen=" + l.spec.listen.to_string() +
           " target=" + l.spec.target.to_string() + " delay_ms=" + std::to_string(p.delay_ms) +
           " jitter_ms=" + std::to_string(p.jitter_ms) + " loss_ppm=" + std::to_string(p.loss_ppm) +
           " rate_bytes_s=" + std::to_string(p.rate_bytes_s) + " cut=" + (l.cut ? "1" : "0") +
           " connections=" + std::to_string(l.connections.size()) +
           " accepted=" + std::to_string(l.accepted) + " refused=" + std::to_string(l.refused) +
           " stalls=" + std::to_string(l.stalls) + "\n";
  }

  IoLoop loop_;
  asio::io_context& io_ = loop_.io();
  RelayOptions options_;
  std::vector<std::unique_ptr<Link>> links_;
  ControlServer control_{io_, [this](const std::string& line) { return run(line); }};
};

Relay::Relay(RelayOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Relay::~Relay() { impl_->stop(); }
bool Relay::start(std::string& error) { return impl_->start(error); }
std::string Relay::control(const std::string& line) { return impl_->control(line); }
std::uint16_t Relay::link_port(std::size_t i) const { return impl_->link_port(i); }
std::uint16_t Relay::control_port() const { return impl_->control_port(); }
void Relay::stop() { impl_->stop(); }

}  // namespace baton::linkem

// baton-linkem's control server, shared by its two modes (the TCP relay and
// the packet switch): a loopback TCP listener whose connections send command
// lines (link_config.h) and read the replies. The handler runs on the
// io_context's thread, as every other piece of link state does.
//
// Bounds: at most 8 control connections at once (more are closed at
// accept), lines at most kMaxControlLine bytes (a longer one closes its
// connection).
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <boost/asio.hpp>
#include <functional>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tools/linkem/link_config.h"

namespace baton::linkem {

// One io_context run by one thread (both emulators keep all link state on
// it), with a way for other threads to run a function there and wait.
class IoLoop {
 public:
  boost::asio::io_context& io() { return io_; }
  void start() {
    thread_ = std::thread([this] { io_.run(); });
  }
  // Runs f() on the io thread and returns its result. Not from that thread.
  template <typename F>
  auto call(F f) -> decltype(f()) {
    std::promise<decltype(f())> result;
    auto done = result.get_future();
    boost::asio::post(io_, [&] { result.set_value(f()); });
    return done.get();
  }
  // Runs `close` on the io thread, stops it and joins. Idempotent.
  void stop(const std::function<void()>& close) {
    if (!thread_.joinable()) return;
    boost::asio::post(io_, [this, &close] {
      close();
      io_.stop();
    });
    thread_.join();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  std::thread thread_;
};

// Opens, binds and listens `acceptor` on `at` (an IP address, not a name).
// On failure the sentence names the address.
bool listen_on(boost::asio::ip::tcp::acceptor& acceptor, const Endpoint& at, std::string& error);

class ControlServer {
 public:
  using Handler = std::function<std::string(const std::string& line)>;
  ControlServer(boost::asio::io_context& io, Handler handler);

  // Binds the listener; start() then accepts on the io thread.
  bool bind(const Endpoint& at, std::string& error);
  void start();
  std::uint16_t port() const;  // 0 when not bound
  // Closes the listener and every session (on the io thread).
  void close();

 private:
  void accept();
  void read_command(std::shared_ptr<boost::asio::ip::tcp::socket> s,
                    std::shared_ptr<boost::asio::streambuf> buf);
  void drop(const std::shared_ptr<boost::asio::ip::tcp::socket>& s);

  Handler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::set<std::shared_ptr<boost::asio::ip::tcp::socket>> sessions_;
};

// Runs one command line (parse_command) over `links`, a vector of pointers
// to links that have name() and profile() (a LinkProfile&): picks them by
// name or *, then `cut(link)`, `heal(link)`, a checked `set`, or the
// concatenated `status(link)` lines. The reply ends "ok" or "error: ...".
template <typename Links, typename Cut, typename Heal, typename Status>
std::string run_command(const std::string& line, Links& links, Cut cut, Heal heal, Status status) {
  std::string error;
  auto cmd = parse_command(line, error);
  if (!cmd) return "error: " + error + "\n";
  std::vector<decltype(&*links.front())> chosen;
  if (cmd->all) {
    for (auto& l : links) chosen.push_back(&*l);
  }
  for (const std::string& name : cmd->links) {
    decltype(&*links.front()) found = nullptr;
    for (auto& l : links) {
      if (l->name() == name) found = &*l;
    }
    if (found == nullptr) return "error: no link named " + name + "\n";
    chosen.push_back(found);
  }
  std::string out;
  switch (cmd->kind) {
    case CommandKind::status:
      for (auto& l : links) out += status(*l);
      break;
    case CommandKind::cut:
      for (auto* l : chosen) cut(*l);
      break;
    case CommandKind::heal:
      for (auto* l : chosen) heal(*l);
      break;
    case CommandKind::set:
      for (auto* l : chosen) {
        if (!valid_profile(cmd->change.applied_to(l->profile()))) {
          return "error: that profile is out of bounds\n";
        }
      }
      for (auto* l : chosen) l->profile() = cmd->change.applied_to(l->profile());
      break;
  }
  return out + "ok\n";
}

}  // namespace baton::linkem

#include "tools/linkem/packet_switch.h"

#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "tools/linkem/control_server.h"

namespace baton::linkem {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

std::uint32_t key_of(const std::array<std::uint8_t, 4>& a) {
  return (std::uint32_t{a[0]} << 24) | (std::uint32_t{a[1]} << 16) | (std::uint32_t{a[2]} << 8) |
         a[3];
}

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

// A descriptor closed on scope exit unless released.
struct OwnedFd {
  int fd = -1;
  ~OwnedFd() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

// Opens the TUN device of `port`, inside its namespace when it names one
// (this thread enters it and comes back). -1 with a sentence on failure.
int open_tun(const PortSpec& port, std::string& error) {
  OwnedFd home, there;
  if (!port.netns.empty()) {
    home.fd = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home.fd < 0) {
      error = errno_text("cannot open /proc/self/ns/net", errno);
      return -1;
    }
    there.fd = ::open(port.netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (there.fd < 0 || ::setns(there.fd, CLONE_NEWNET) != 0) {
      error = errno_text("cannot enter the network namespace " + port.netns, errno);
      return -1;
    }
  }
  OwnedFd tun;
  tun.fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (tun.fd < 0) {
    error = errno_text("cannot open /dev/net/tun", errno);
  } else {
    ifreq ifr{};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::memcpy(ifr.ifr_name, port.ifname.data(),
                std::min<std::size_t>(port.ifname.size(), IFNAMSIZ - 1));
    if (::ioctl(tun.fd, TUNSETIFF, &ifr) != 0) {
      error = errno_text("cannot attach to the TUN device " + port.ifname, errno);
      ::close(tun.release());
    }
  }
  if (!port.netns.empty() && ::setns(home.fd, CLONE_NEWNET) != 0) {
    // Every later port and the control server would open in the wrong place.
    error = errno_text("cannot return to linkem's own network namespace", errno);
    return -1;
  }
  return tun.release();
}

struct Port {
  Port(asio::io_context& io, PortSpec s, std::size_t i) : spec(std::move(s)), index(i), tun(io) {}
  PortSpec spec;
  std::size_t index;
  asio::posix::stream_descriptor tun;
  std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(kMaxPacket);
  std::uint64_t received = 0, unroutable = 0, write_errors = 0;
  bool failed = false;
};

struct QueuedPacket {
  std::vector<std::uint8_t> bytes;
  Clock::time_point at;
};

struct Link {
  Link(asio::io_context& io, std::string n, std::size_t dst, std::uint64_t seed)
      : link_name(std::move(n)), to(dst), rng(seed), timer(io) {}
  const std::string& name() const { return link_name; }
  LinkProfile& profile() { return link_profile; }
  std::string link_name;
  std::size_t to;
  LinkProfile link_profile;
  bool cut = false;
  PacketSchedule schedule;
  std::mt19937_64 rng;
  std::deque<QueuedPacket> queue;
  std::size_t queued_bytes = 0;
  asio::steady_timer timer;
  bool timer_armed = false;
  std::uint64_t forwarded = 0, cut_drops = 0, queue_drops = 0;
};

}  // namespace

std::optional<std::array<std::uint8_t, 4>> ipv4_destination(const std::uint8_t* packet,
                                                            std::size_t size) {
  if (size < 20 || (packet[0] >> 4) != 4) return std::nullopt;
  const std::size_t header = static_cast<std::size_t>(packet[0] & 0x0f) * 4;
  const std::size_t total = (std::size_t{packet[2]} << 8) | packet[3];
  if (header < 20 || total < header || total > size) return std::nullopt;
  return std::array<std::uint8_t, 4>{packet[16], packet[17], packet[18], packet[19]};
}

class PacketSwitch::Impl {
 public:
  explicit Impl(SwitchOptions options) : options_(std::move(options)) {}
  ~Impl() { stop(); }

  bool start(std::string& error) {
    const std::size_t n = options_.ports.size();
    for (std::size_t i = 0; i < n; ++i) {
      ports_.push_back(std::make_unique<Port>(io_, options_.ports[i], i));
      by_address_[key_of(options_.ports[i].address)] = i;
    }
    link_of_.assign(n * n, nullptr);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        if (i == j) continue;
        links_.push_back(std::make_unique<Link>(io_,
                                                ports_[i]->spec.name + ">" + ports_[j]->spec.name,
                                                j, options_.seed + links_.size()));
        link_of_[i * n + j] = links_.back().get();
      }
    }
    for (const auto& p : options_.profiles) {
      Link* found = nullptr;
      for (auto& l : links_) {
        if (l->name() == p.name) found = l.get();
      }
      if (found == nullptr) {
        error = "link " + p.name + " does not join two of the ports";
        return false;
      }
      if (!valid_profile(p.profile)) {
        error = "link " + p.name + ": the profile is out of bounds";
        return false;
      }
      found->profile() = p.profile;
    }
    for (auto& port : ports_) {
      const int fd = open_tun(port->spec, error);
      if (fd < 0) {
        error = "port " + port->spec.name + ": " + error;
        return false;
      }
      port->tun.assign(fd);
    }
    if (options_.control && !control_.bind(*options_.control, error)) {
      error = "control: " + error;
      return false;
    }
    for (auto& port : ports_) read(*port);
    control_.start();
    loop_.start();
    return true;
  }

  std::string control(const std::string& line) {
    return loop_.call([&] { return run(line); });
  }

  std::uint16_t control_port() const { return control_.port(); }

  void stop() {
    loop_.stop([this] {
      error_code ignored;
      control_.close();
      for (auto& l : links_) l->timer.cancel();
      for (auto& p : ports_) p->tun.close(ignored);
    });
  }

 private:
  void read(Port& port) {
    port.tun.async_read_some(asio::buffer(port.buffer),
                             [this, &port](const error_code& ec, std::size_t n) {
                               if (ec == asio::error::operation_aborted) return;
                               if (ec) {
                                 // The device went away (its namespace was
                                 // deleted): stop reading it, say so once.
                                 port.failed = true;
                                 std::fprintf(stderr, "baton-linkem: port %s: %s\n",
                                              port.spec.name.c_str(), ec.message().c_str());
                                 return;
                               }
                               ++port.received;
                               route(port, n);
                               read(port);
                             });
  }

  void route(Port& from, std::size_t n) {
    const auto dst = ipv4_destination(from.buffer.data(), n);
    const auto to = dst ? by_address_.find(key_of(*dst)) : by_address_.end();
    if (to == by_address_.end() || to->second == from.index) {
      ++from.unroutable;
      return;
    }
    Link& link = *link_of_[from.index * ports_.size() + to->second];
    if (link.cut) {
      ++link.cut_drops;
      return;
    }
    const auto at = link.schedule.deliver_at(Clock::now(), n, link.profile(), link.rng);
    if (!at) return;  // lost
    if (link.queued_bytes + n > options_.max_queued_bytes) {
      ++link.queue_drops;
      return;
    }
    link.queue.push_back(
        {std::vector<std::uint8_t>(from.buffer.begin(), from.buffer.begin() + n), *at});
    link.queued_bytes += n;
    pump(link);
  }

  void pump(Link& link) {
    Port& to = *ports_[link.to];
    const auto now = Clock::now();
    while (!link.queue.empty() && link.queue.front().at <= now) {
      const auto& packet = link.queue.front().bytes;
      if (to.failed || ::write(to.tun.native_handle(), packet.data(), packet.size()) < 0) {
        ++to.write_errors;  // its namespace is gone, or the device's queue is full
      } else {
        ++link.forwarded;
      }
      link.queued_bytes -= packet.size();
      link.queue.pop_front();
    }
    if (link.queue.empty() || link.timer_armed) return;
    link.timer_armed = true;
    link.timer.expires_at(link.queue.front().at);
    link.timer.async_wait([this, &link](const error_code& ec) {
      link.timer_armed = false;
      if (ec != asio::error::operation_aborted) pump(link);
    });
  }

  std::string run(const std::string& line) {
    return run_command(
        line, links_,
        [](Link& l) {
          l.cut = true;  // what was on the wire is lost too
          l.queue.clear();
          l.queued_bytes = 0;
        },
        [](Link& l) { l.cut = false; },
        [](Link& l) {
          const LinkProfile& p = l.profile();
          return l.name() + " delay_ms=" + std::to_string(p.delay_ms) +
                 " jitter_ms=" + std::to_string(p.jitter_ms) +
                 " loss_ppm=" + std::to_string(p.loss_ppm) +
                 " rate_bytes_s=" + std::to_string(p.rate_bytes_s) + " cut=" + (l.cut ? "1" : "0") +
                 " forwarded=" + std::to_string(l.forwarded) +
                 " lost=" + std::to_string(l.schedule.losses()) +
                 " cut_drops=" + std::to_string(l.cut_drops) +
                 " queue_drops=" + std::to_string(l.queue_drops) + "\n";
        });
  }

  IoLoop loop_;
  asio::io_context& io_ = loop_.io();
  SwitchOptions options_;
  std::vector<std::unique_ptr<Port>> ports_;
  std::map<std::uint32_t, std::size_t> by_address_;
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<Link*> link_of_;  // [from * ports + to]
  ControlServer control_{io_, [this](const std::string& line) { return run(line); }};
};

PacketSwitch::PacketSwitch(SwitchOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
PacketSwitch::~PacketSwitch() { impl_->stop(); }
bool PacketSwitch::start(std::string& error) { return impl_->start(error); }
std::string PacketSwitch::control(const std::string& line) { return impl_->control(line); }
std::uint16_t PacketSwitch::control_port() const { return impl_->control_port(); }
void PacketSwitch::stop() { impl_->stop(); }

}  // namespace baton::linkem

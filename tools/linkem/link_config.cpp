#include "tools/linkem/link_config.h"

#include <charconv>
#include <set>

namespace baton::linkem {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    std::size_t j = i;
    while (j < line.size() && !is_space(line[j])) ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename T>
std::optional<T> parse_uint(std::string_view s, T max) {
  T v{};
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxLinkName) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '>';
    if (!ok) return false;
  }
  return true;
}

// key=value settings of a link line or a `set` command.
bool parse_setting(std::string_view word, ProfileChange& change, std::string& error) {
  const auto eq = word.find('=');
  if (eq == std::string_view::npos) {
    error = "'" + std::string(word) + "' is not key=value";
    return false;
  }
  const std::string_view key = word.substr(0, eq), value = word.substr(eq + 1);
  const auto bad = [&](const char* what) {
    error = std::string(key) + "=" + std::string(value) + ": " + what;
    return false;
  };
  if (key == "delay_ms" || key == "jitter_ms") {
    auto v = parse_uint<std::uint32_t>(value, kMaxDelayMs);
    if (!v) return bad("expected milliseconds from 0 to 60000");
    (key == "delay_ms" ? change.delay_ms : change.jitter_ms) = v;
  } else if (key == "loss_ppm") {
    auto v = parse_uint<std::uint32_t>(value, kMaxLossPpm);
    if (!v) return bad("expected parts per million from 0 to 1000000");
    change.loss_ppm = v;
  } else if (key == "loss_pct") {
    auto v = parse_percent_ppm(value);
    if (!v) return bad("expected a percentage from 0 to 100 with at most 4 decimals");
    change.loss_ppm = v;
  } else if (key == "rate_bytes_s") {
    auto v = parse_uint<std::uint64_t>(value, std::uint64_t{1} << 40);
    if (!v) return bad("expected bytes per second (0: no cap)");
    change.rate_bytes_s = v;
  } else {
    error = "unknown setting '" + std::string(key) +
            "' (delay_ms, jitter_ms, loss_pct, loss_ppm, rate_bytes_s)";
    return false;
  }
  return true;
}

std::string_view strip_comment(std::string_view line) {
  const auto hash = line.find('#');
  return hash == std::string_view::npos ? line : line.substr(0, hash);
}

bool valid_ifname(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view text) {
  std::array<std::uint8_t, 4> out{};
  for (std::size_t i = 0; i < 4; ++i) {
    const auto dot = text.find('.');
    if ((i < 3) == (dot == std::string_view::npos)) return std::nullopt;
    const std::string_view part = text.substr(0, dot);
    if (part.size() > 1 && part[0] == '0') return std::nullopt;
    auto v = parse_uint<std::uint8_t>(part, 255);
    if (!v) return std::nullopt;
    out[i] = *v;
    text = i < 3 ? text.substr(dot + 1) : std::string_view{};
  }
  return out;
}

std::optional<PortSpec> parse_port_line(std::string_view line, std::string& error) {
  error.clear();
  const auto w = words(strip_comment(line));
  if (w.empty()) return std::nullopt;
  if (w.size() != 4) {
    error = "a port is NAME NETNS IFNAME IPV4";
    return std::nullopt;
  }
  PortSpec p;
  p.name = std::string(w[0]);
  if (!valid_name(p.name) || p.name.find('>') != std::string::npos) {
    error =
        "port name '" + p.name.substr(0, kMaxLinkName) + "' must be 1 to 64 of A-Z a-z 0-9 . _ -";
    return std::nullopt;
  }
  if (w[1] != "-") {
    if (w[1].front() != '/' || w[1].size() > 4096) {
      error = "port " + p.name + ": NETNS must be an absolute path (or -)";
      return std::nullopt;
    }
    p.netns = std::string(w[1]);
  }
  if (!valid_ifname(w[2])) {
    error = "port " + p.name + ": IFNAME must be 1 to 15 of A-Z a-z 0-9 . _ -";
    return std::nullopt;
  }
  p.ifname = std::string(w[2]);
  auto address = parse_ipv4(w[3]);
  if (!address) {
    error = "port " + p.name + ": '" + std::string(w[3]).substr(0, 32) + "' is not an IPv4 address";
    return std::nullopt;
  }
  p.address = *address;
  return p;
}

std::optional<ProfileSpec> parse_profile_line(std::string_view line, std::string& error) {
  error.clear();
  const auto w = words(strip_comment(line));
  if (w.empty()) return std::nullopt;
  ProfileSpec spec;
  spec.name = std::string(w[0]);
  const auto gt = spec.name.find('>');
  if (!valid_name(spec.name) || gt == 0 || gt == std::string::npos || gt + 1 == spec.name.size() ||
      spec.name.find('>', gt + 1) != std::string::npos) {
    error = "link name '" + spec.name.substr(0, kMaxLinkName) + "' must be A>B (two port names)";
    return std::nullopt;
  }
  ProfileChange change;
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (!parse_setting(w[i], change, error)) {
      error = "link " + spec.name + ": " + error;
      return std::nullopt;
    }
  }
  spec.profile = change.applied_to({});
  return spec;
}

// A file of one item a line (blank and comment lines skipped): names unique,
// at most `max`, and at least one unless `may_be_empty`.
template <typename T, typename ParseLine>
std::optional<std::vector<T>> parse_file(std::string_view text, std::size_t max, const char* what,
                                         bool may_be_empty, std::string& error,
                                         ParseLine parse_line) {
  std::vector<T> out;
  std::set<std::string, std::less<>> names;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    auto item = parse_line(line, error);
    if (!error.empty()) {
      error = "line " + std::to_string(line_no) + ": " + error;
      return std::nullopt;
    }
    if (!item) continue;
    if (!names.insert(item->name).second) {
      error =
          "line " + std::to_string(line_no) + ": " + what + " " + item->name + " is listed twice";
      return std::nullopt;
    }
    if (out.size() == max) {
      error = "more than " + std::to_string(max) + " " + what + "s";
      return std::nullopt;
    }
    out.push_back(std::move(*item));
  }
  if (out.empty() && !may_be_empty) {
    error = std::string("no ") + what + "s";
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::string Endpoint::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // IPv6 needs brackets
  }
  auto port = parse_uint<std::uint16_t>(text.substr(colon + 1), 65535);
  if (!port || *port == 0 || host.size() > 255) return std::nullopt;
  return Endpoint{std::string(host), *port};
}

std::optional<std::uint32_t> parse_percent_ppm(std::string_view text) {
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (frac.size() > 4 || (dot != std::string_view::npos && frac.empty())) return std::nullopt;
  auto w = parse_uint<std::uint32_t>(whole, 100);
  if (!w) return std::nullopt;
  std::uint32_t f = 0;
  if (!frac.empty()) {
    auto v = parse_uint<std::uint32_t>(frac, 9999);
    if (!v) return std::nullopt;
    f = *v;
    for (std::size_t i = frac.size(); i < 4; ++i) f *= 10;
  }
  const std::uint32_t ppm = *w * 10'000 + f;
  if (ppm > kMaxLossPpm) return std::nullopt;
  return ppm;
}

LinkProfile ProfileChange::applied_to(LinkProfile p) const {
  if (delay_ms) p.delay_ms = *delay_ms;
  if (jitter_ms) p.jitter_ms = *jitter_ms;
  if (loss_ppm) p.loss_ppm = *loss_ppm;
  if (rate_bytes_s) p.rate_bytes_s = *rate_bytes_s;
  return p;
}

std::optional<LinkSpec> parse_link_line(std::string_view line, std::string& error) {
  error.clear();
  const auto w = words(strip_comment(line));
  if (w.empty()) return std::nullopt;
  if (w.size() < 3) {
    error = "a link needs NAME LISTEN_HOST:PORT TARGET_HOST:PORT";
    return std::nullopt;
  }
  LinkSpec spec;
  spec.name = std::string(w[0]);
  if (!valid_name(spec.name)) {
    error = "link name '" + spec.name.substr(0, kMaxLinkName) +
            "' must be 1 to 64 of A-Z a-z 0-9 . _ - >";
    return std::nullopt;
  }
  auto listen = parse_endpoint(w[1]);
  auto target = parse_endpoint(w[2]);
  if (!listen || !target) {
    error = "link " + spec.name + ": addresses must be HOST:PORT with a port from 1 to 65535";
    return std::nullopt;
  }
  spec.listen = *listen;
  spec.target = *target;
  ProfileChange change;
  for (std::size_t i = 3; i < w.size(); ++i) {
    if (!parse_setting(w[i], change, error)) {
      error = "link " + spec.name + ": " + error;
      return std::nullopt;
    }
  }
  spec.profile = change.applied_to({});
  return spec;
}

std::optional<std::vector<LinkSpec>> parse_links(std::string_view text, std::string& error) {
  return parse_file<LinkSpec>(text, kMaxLinks, "link", false, error, parse_link_line);
}

std::string PortSpec::address_text() const {
  return std::to_string(address[0]) + "." + std::to_string(address[1]) + "." +
         std::to_string(address[2]) + "." + std::to_string(address[3]);
}

std::optional<std::vector<PortSpec>> parse_ports(std::string_view text, std::string& error) {
  auto ports = parse_file<PortSpec>(text, kMaxPorts, "port", false, error, parse_port_line);
  if (!ports) return std::nullopt;
  std::set<std::array<std::uint8_t, 4>> addresses;
  for (const auto& p : *ports) {
    if (!addresses.insert(p.address).second) {
      error = "port " + p.name + ": address " + p.address_text() + " is taken by another port";
      return std::nullopt;
    }
  }
  return ports;
}

std::optional<std::vector<ProfileSpec>> parse_profiles(std::string_view text, std::string& error) {
  return parse_file<ProfileSpec>(text, kMaxLinks, "link", true, error, parse_profile_line);
}

std::optional<ControlCommand> parse_command(std::string_view line, std::string& error) {
  error.clear();
  const auto w = words(line);
  if (w.empty()) {
    error = "empty command (status, cut, heal, set)";
    return std::nullopt;
  }
  ControlCommand cmd;
  if (w[0] == "status") {
    if (w.size() != 1) {
      error = "status takes no arguments";
      return std::nullopt;
    }
    return cmd;
  }
  if (w[0] == "cut") {
    cmd.kind = CommandKind::cut;
  } else if (w[0] == "heal") {
    cmd.kind = CommandKind::heal;
  } else if (w[0] == "set") {
    cmd.kind = CommandKind::set;
  } else {
    error = "unknown command '" + std::string(w[0]).substr(0, 32) + "' (status, cut, heal, set)";
    return std::nullopt;
  }
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (cmd.kind == CommandKind::set && w[i].find('=') != std::string_view::npos) {
      if (!parse_setting(w[i], cmd.change, error)) return std::nullopt;
    } else if (w[i] == "*") {
      cmd.all = true;
    } else if (valid_name(w[i])) {
      cmd.links.emplace_back(w[i]);
    } else {
      error = "'" + std::string(w[i]).substr(0, kMaxLinkName) + "' is not a link name";
      return std::nullopt;
    }
  }
  if (!cmd.all && cmd.links.empty()) {
    error = std::string(w[0]) + " needs link names or *";
    return std::nullopt;
  }
  if (cmd.kind == CommandKind::set && !cmd.change.delay_ms && !cmd.change.jitter_ms &&
      !cmd.change.loss_ppm && !cmd.change.rate_bytes_s) {
    error = "set needs at least one of delay_ms=, jitter_ms=, loss_pct=, loss_ppm=, rate_bytes_s=";
    return std::nullopt;
  }
  return cmd;
}

}  // namespace baton::linkem

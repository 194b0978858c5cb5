#include "api/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <set>
#include <tuple>
#include <sstream>

#include <toml++/toml.h>

#include "api/admin_access.h"
#include "api/admin_tls.h"
#include "api/datasets_config.h"
#include "api/config_toml.h"
#include "api/http_client.h"

namespace baton::api {

std::optional<int> training_device_index(std::string_view device) {
  if (device == "cpu") return -1;
  if (!device.starts_with("cuda:") || device.size() < 6 || device.size() > 7) return std::nullopt;
  const std::string_view digits = device.substr(5);
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;  // one spelling per device
  int n = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || n < 0 || n > 63)
    return std::nullopt;
  return n;
}

namespace fs = std::filesystem;
using namespace config_detail;

namespace {

// [p2p] (issue 18): only [p2p.dial], member name -> "host:port". Bounded: a
// genesis has far fewer members than kMaxDialOverrides.
Status parse_p2p_section(const toml::table& root, const fs::path& path,
                         std::map<std::string, HostPort, std::less<>>& dial) {
  constexpr std::size_t kMaxDialOverrides = 1024;
  constexpr std::size_t kMaxMemberName = 128;
  const toml::node* n = root.get("p2p");
  if (n == nullptr) return {};
  const auto* t = n->as_table();
  if (t == nullptr) return config_error(path, "'p2p' must be a table ([p2p.dial])");
  if (auto s = check_unknown_keys(*t, {"dial"}, "p2p", path); !s) return s;
  const toml::node* d = t->get("dial");
  if (d == nullptr) return {};
  const auto* entries = d->as_table();
  if (entries == nullptr) {
    return config_error(path, "'p2p.dial' must be a table of member = \"host:port\" ([p2p.dial])");
  }
  if (entries->size() > kMaxDialOverrides) {
    return config_error(path, "'p2p.dial' has " + std::to_string(entries->size()) +
                                  " entries; at most " + std::to_string(kMaxDialOverrides));
  }
  for (const auto& [k, v] : *entries) {
    const std::string name(k.str());
    if (name.empty() || name.size() > kMaxMemberName) {
      return config_error(path, "'p2p.dial' names a member of " + std::to_string(name.size()) +
                                    " characters; use the genesis member's name");
    }
    const auto* text = v.as_string();
    if (text == nullptr) {
      return config_error(path, "'p2p.dial." + name + "' must be a string \"host:port\"");
    }
    auto hp = parse_host_port(text->get());
    if (!hp) return config_error(path, "'p2p.dial." + name + "': " + hp.error().message);
    dial.emplace(name, *hp);
  }
  return {};
}

// [admin_api]'s TLS and Unix socket keys.
Status parse_admin_transport(const toml::table& t, const fs::path& base_dir,
                             const fs::path& config_path, AdminApiConfig& a) {
  if (const toml::node* n = t.get("tls")) {
    const auto* v = n->as_boolean();
    if (v == nullptr) return config_error(config_path, "'admin_api.tls' must be true or false");
    a.tls = v->get();
  }
  std::optional<std::string> names[2];
  const std::string_view keys[2] = {"tls_cert", "tls_key"};
  for (int i = 0; i < 2; ++i) {
    auto v = get_string(t, keys[i], config_path, "admin_api");
    if (!v) return v.error();
    if (v->has_value() && (*v)->empty()) {
      return config_error(config_path, "'admin_api." + std::string(keys[i]) + "' is empty");
    }
    names[i] = *v;
  }
  if (!a.tls && (names[0] || names[1])) {
    return config_error(config_path,
                        "'admin_api.tls_cert' and 'tls_key' need tls = true in [admin_api]");
  }
  if (a.tls) {
    if (names[0].has_value() != names[1].has_value()) {
      return config_error(config_path,
                          "'admin_api' names one of tls_cert and tls_key: name both (a "
                          "certificate and its key), or neither to have batond make them");
    }
    a.tls_self_signed = !names[0].has_value();
    a.tls_cert = resolve(base_dir, names[0].value_or(std::string(kAdminTlsCertFileName)));
    a.tls_key = resolve(base_dir, names[1].value_or(std::string(kAdminTlsKeyFileName)));
  }
  auto socket = get_string(t, "unix_socket", config_path, "admin_api");
  if (!socket) return socket.error();
  if (socket->has_value() && !(*socket)->empty()) a.unix_socket = resolve(base_dir, **socket);
  auto group = get_string(t, "unix_socket_group", config_path, "admin_api");
  if (!group) return group.error();
  if (group->has_value() && !(*group)->empty()) {
    if (a.unix_socket.empty()) {
      return config_error(config_path,
                          "'admin_api.unix_socket_group' needs a unix_socket in [admin_api]");
    }
    a.unix_socket_group = **group;
  }
  return {};
}

}  // namespace

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<HostPort> parse_host_port(std::string_view text, bool allow_zero_port) {
  const std::string shown(text);
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return make_error("address '" + shown + "' is not of the form [ipv6]:port");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return make_error("address '" + shown + "' has no ':port'; write host:port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return make_error("address '" + shown + "' looks like IPv6; write it as [addr]:port");
    }
  }
  if (host.empty()) return make_error("address '" + shown + "' has an empty host");
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || ptr != port.data() + port.size() || port.empty() || value > 65535 ||
      (value == 0 && !allow_zero_port)) {
    return make_error("address '" + shown + "' has a bad port; use a number from 1 to 65535");
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(value)};
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return "trace";
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
    case LogLevel::off:
      return "off";
  }
  return "info";
}

Result<NodeConfig> parse_node_config(std::string_view toml_text, const fs::path& config_path) {
  auto parsed = parse_toml(toml_text, config_path);
  if (!parsed) return parsed.error();
  const toml::table& root = *parsed;
  const fs::path base_dir = fs::absolute(config_path).parent_path();
  NodeConfig cfg;
  cfg.config_path = fs::absolute(config_path).lexically_normal();

  if (auto s = check_unknown_keys(
          root,
          {"name", "key_file", "genesis_file", "data_dir", "p2p_listen", "admin_listen",
           "admin_token_file", "log_level", "log_file", "consensus", "mempool", "admin_api",
           "store", "training", "model_cache", "ledger", "p2p", "statesync"},
          {}, config_path);
      !s) {
    return s.error();
  }

  struct Required {
    std::string_view key;
    std::string* out;
  };
  std::string key_file, genesis_file, data_dir, p2p_listen;
  for (Required r : {Required{"name", &cfg.name}, Required{"key_file", &key_file},
                     Required{"genesis_file", &genesis_file}, Required{"data_dir", &data_dir},
                     Required{"p2p_listen", &p2p_listen}}) {
    auto v = get_string(root, r.key, config_path);
    if (!v) return v.error();
    if (!v->has_value() || (*v)->empty()) {
      return config_error(config_path,
                          "the required key '" + std::string(r.key) + "' is missing or empty");
    }
    *r.out = **v;
  }
  cfg.key_file = resolve(base_dir, key_file);
  cfg.genesis_file = resolve(base_dir, genesis_file);
  cfg.data_dir = resolve(base_dir, data_dir);
  {
    auto hp = parse_host_port(p2p_listen);
    if (!hp) return config_error(config_path, "'p2p_listen': " + hp.error().message);
    cfg.p2p_listen = *hp;
  }
  {
    auto v = get_string(root, "admin_listen", config_path);
    if (!v) return v.error();
    if (v->has_value()) {
      auto hp = parse_host_port(**v);
      if (!hp) return config_error(config_path, "'admin_listen': " + hp.error().message);
      cfg.admin_listen = *hp;
    }
  }
  {
    auto v = get_string(root, "log_level", config_path);
    if (!v) return v.error();
    if (v->has_value()) {
      auto lvl = parse_log_level(**v, config_path);
      if (!lvl) return lvl.error();
      cfg.log_level = *lvl;
    }
  }
  {
    auto v = get_string(root, "log_file", config_path);
    if (!v) return v.error();
    if (v->has_value() && !(*v)->empty()) cfg.log_file = resolve(base_dir, **v);
  }
  {
    auto v = get_string(root, "admin_token_file", config_path);
    if (!v) return v.error();
    cfg.admin_token_file = resolve(
        base_dir, v->has_value() && !(*v)->empty() ? **v : std::string(kDefaultAdminTokenFile));
  }

  if (auto s = parse_p2p_section(root, config_path, cfg.p2p_dial); !s) return s.error();

  constexpr std::int64_t kMaxTimeout = 10 * 60 * 1000;
  if (const toml::node* n = root.get("consensus")) {
    const auto* t = n->as_table();
    if (t == nullptr) return config_error(config_path, "'consensus' must be a table ([consensus])");
    if (auto s =
            check_unknown_keys(*t,
                               {"timeout_propose_ms", "timeout_prevote_ms", "timeout_precommit_ms",
                                "timeout_delta_ms", "timeout_commit_ms", "empty_block_interval_ms",
                                "idle_block_interval_ms", "max_proposal_txs"},
                               "consensus", config_path);
        !s) {
      return s.error();
    }
    struct Opt {
      std::string_view key;
      std::optional<std::uint32_t>* out;
      std::int64_t min;
    };
    for (Opt o : {Opt{"timeout_propose_ms", &cfg.consensus.timeout_propose_ms, 1},
                  Opt{"timeout_prevote_ms", &cfg.consensus.timeout_prevote_ms, 1},
                  Opt{"timeout_precommit_ms", &cfg.consensus.timeout_precommit_ms, 1},
                  Opt{"timeout_delta_ms", &cfg.consensus.timeout_delta_ms, 0},
                  Opt{"timeout_commit_ms", &cfg.consensus.timeout_commit_ms, 0},
                  Opt{"empty_block_interval_ms", &cfg.consensus.empty_block_interval_ms, 0},
                  Opt{"max_proposal_txs", &cfg.consensus.max_proposal_txs, 1}}) {
      auto v = get_int(*t, o.key, config_path, "consensus", o.min, kMaxTimeout);
      if (!v) return v.error();
      if (v->has_value()) *o.out = static_cast<std::uint32_t>(**v);
    }
    // A day at most: monitoring that alerts on a stalled height needs a bound.
    constexpr std::int64_t kMaxIdleInterval = 24 * 60 * 60 * 1000;
    auto idle =
        get_int(*t, "idle_block_interval_ms", config_path, "consensus", 0, kMaxIdleInterval);
    if (!idle) return idle.error();
    if (idle->has_value())
      cfg.consensus.idle_block_interval_ms = static_cast<std::uint32_t>(**idle);
  }
  if (const toml::node* n = root.get("mempool")) {
    const auto* t = n->as_table();
    if (t == nullptr) return config_error(config_path, "'mempool' must be a table ([mempool])");
    if (auto s = check_unknown_keys(*t, {"max_txs", "max_bytes", "max_nonce_gap"}, "mempool",
                                    config_path);
        !s) {
      return s.error();
    }
    auto max_txs = get_int(*t, "max_txs", config_path, "mempool", 1, 10'000'000);
    if (!max_txs) return max_txs.error();
    if (max_txs->has_value()) cfg.mempool.max_txs = static_cast<std::size_t>(**max_txs);
    auto max_bytes = get_int(*t, "max_bytes", config_path, "mempool", 1024, std::int64_t{16} << 30);
    if (!max_bytes) return max_bytes.error();
    if (max_bytes->has_value()) cfg.mempool.max_bytes = static_cast<std::size_t>(**max_bytes);
    auto gap = get_int(*t, "max_nonce_gap", config_path, "mempool", 1, 1'000'000);
    if (!gap) return gap.error();
    if (gap->has_value()) cfg.mempool.max_nonce_gap = static_cast<std::uint64_t>(**gap);
  }
  if (const toml::node* n = root.get("ledger")) {
    const auto* t = n->as_table();
    if (t == nullptr) return config_error(config_path, "'ledger' must be a table ([ledger])");
    if (auto s = check_unknown_keys(*t, {"snapshot_interval_blocks"}, "ledger", config_path); !s)
      return s.error();
    auto every = get_int(*t, "snapshot_interval_blocks", config_path, "ledger", 0, 100'000'000);
    if (!every) return every.error();
    if (every->has_value())
      cfg.ledger.snapshot_interval_blocks = static_cast<std::uint64_t>(**every);
  }
  if (const toml::node* n = root.get("statesync")) {
    const auto* t = n->as_table();
    if (t == nullptr) return config_error(config_path, "'statesync' must be a table ([statesync])");
    if (auto s =
            check_unknown_keys(*t, {"trust_height", "trust_block_id"}, "statesync", config_path);
        !s) {
      return s.error();
    }
    auto height = get_int(*t, "trust_height", config_path, "statesync", 1,
                          std::numeric_limits<std::int64_t>::max());
    if (!height) return height.error();
    auto id = get_string(*t, "trust_block_id", config_path, "statesync");
    if (!id) return id.error();
    if (!height->has_value() || !id->has_value()) {
      return config_error(config_path,
                          "[statesync] needs both trust_height and trust_block_id (a snapshot "
                          "height and its block id from a peer's `baton status`)");
    }
    auto hash = chain::Hash::from_hex(**id);
    if (!hash) {
      return config_error(config_path,
                          "'statesync.trust_block_id' must be 64 hex characters (a block id)");
    }
    cfg.statesync = StateSyncConfig{static_cast<std::uint64_t>(**height), *hash};
  }
  if (const toml::node* n = root.get("admin_api")) {
    const auto* t = n->as_table();
    if (t == nullptr) return config_error(config_path, "'admin_api' must be a table ([admin_api])");
    if (auto s =
            check_unknown_keys(*t,
                               {"max_connections", "max_connections_per_client", "idle_timeout_ms",
                                "header_timeout_ms", "body_timeout_ms", "allowed_hosts", "tls",
                                "tls_cert", "tls_key", "unix_socket", "unix_socket_group"},
                               "admin_api", config_path);
        !s) {
      return s.error();
    }
    AdminApiConfig& a = cfg.admin_api;
    for (auto [key, out] :
         {std::pair<std::string_view, std::size_t*>{"max_connections", &a.max_connections},
          std::pair<std::string_view, std::size_t*>{"max_connections_per_client",
                                                    &a.max_connections_per_client}}) {
      auto v = get_int(*t, key, config_path, "admin_api", 1, 100'000);
      if (!v) return v.error();
      if (v->has_value()) *out = static_cast<std::size_t>(**v);
    }
    for (auto [key, out] :
         {std::pair<std::string_view, std::uint32_t*>{"idle_timeout_ms", &a.idle_timeout_ms},
          std::pair<std::string_view, std::uint32_t*>{"header_timeout_ms", &a.header_timeout_ms},
          std::pair<std::string_view, std::uint32_t*>{"body_timeout_ms", &a.body_timeout_ms}}) {
      auto v = get_int(*t, key, config_path, "admin_api", 100, kMaxTimeout);
      if (!v) return v.error();
      if (v->has_value()) *out = static_cast<std::uint32_t>(**v);
    }
    if (const toml::node* hosts = t->get("allowed_hosts")) {
      const auto* arr = hosts->as_array();
      if (arr == nullptr) {
        return config_error(config_path,
                            "'admin_api.allowed_hosts' must be a list of host names, e.g. "
                            "[\"node-a.lan\"]");
      }
      for (const toml::node& h : *arr) {
        const auto* name = h.as_string();
        const std::string text = name != nullptr ? name->get() : std::string();
        const bool bracketed = text.size() > 2 && text.front() == '[' && text.back() == ']';
        const std::string inner = bracketed ? text.substr(1, text.size() - 2) : text;
        if (inner.empty() || inner.find_first_of(" /@[]") != std::string::npos ||
            (!bracketed && inner.find(':') != std::string::npos)) {
          return config_error(config_path,
                              "'admin_api.allowed_hosts' must hold host names or addresses "
                              "without a port, e.g. \"node-a.lan\" or \"[fd00::5]\"");
        }
        a.allowed_hosts.push_back(text);
      }
    }
    if (auto s = parse_admin_transport(*t, base_dir, config_path, a); !s) return s.error();
  }
  if (!cfg.admin_api.tls && !is_loopback_host(cfg.admin_listen.host)) {
    return config_error(config_path,
                        "admin_listen " + cfg.admin_listen.to_string() +
                            " is not a loopback address, and the admin API would carry the "
                            "admin token and the training state in clear text there; set "
                            "tls = true under [admin_api] (batond then makes a certificate "
                            "whose fingerprint the agent and the CLI pin), or listen on "
                            "127.0.0.1 and give remote users an ssh tunnel");
  }
  if (auto st = parse_agent_sections(root, base_dir, config_path, cfg.data_dir / "agent", cfg.store,
                                     cfg.training, cfg.model_cache);
      !st) {
    return st.error();
  }
  return cfg;
}

Result<NodeConfig> load_node_config(const fs::path& config_path) {
  std::error_code ec;
  if (!fs::exists(config_path, ec)) {
    return make_error("config file " + config_path.string() +
                      " does not exist; pass --config with the path of node.toml");
  }
  if (fs::is_directory(config_path, ec)) {
    return make_error("config " + config_path.string() +
                      " is a directory; pass the path of the node.toml file");
  }
  std::ifstream in(config_path, std::ios::binary);
  if (!in)
    return make_error("cannot read config file " + config_path.string() +
                      "; check its permissions");
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_node_config(buf.str(), config_path);
}

}  // namespace baton::api

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

namespace {

namespace fs = std::filesystem;

std::string where(const fs::path& config_path) { return config_path.string(); }

Error config_error(const fs::path& config_path, const std::string& what) {
  return make_error("config " + where(config_path) + ": " + what);
}

// Reads an optional string key; a present key of another type is an error.
Result<std::optional<std::string>> get_string(const toml::table& t, std::string_view key,
                                              const fs::path& path, std::string_view section = {}) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::optional<std::string>{};
  const auto* s = n->as_string();
  const std::string full =
      section.empty() ? std::string(key) : std::string(section) + "." + std::string(key);
  if (s == nullptr) return config_error(path, "'" + full + "' must be a string");
  return std::optional<std::string>{s->get()};
}

Result<std::optional<std::int64_t>> get_int(const toml::table& t, std::string_view key,
                                            const fs::path& path, std::string_view section,
                                            std::int64_t min, std::int64_t max) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::optional<std::int64_t>{};
  const std::string full =
      section.empty() ? std::string(key) : std::string(section) + "." + std::string(key);
  const auto* i = n->as_integer();
  if (i == nullptr) return config_error(path, "'" + full + "' must be an integer");
  const std::int64_t v = i->get();
  if (v < min || v > max) {
    return config_error(path, "'" + full + "' is " + std::to_string(v) + " but must be between " +
                                  std::to_string(min) + " and " + std::to_string(max));
  }
  return std::optional<std::int64_t>{v};
}

fs::path resolve(const fs::path& base_dir, const std::string& p) {
  fs::path path(p);
  if (path.is_relative()) path = base_dir / path;
  return path.lexically_normal();
}

Result<LogLevel> parse_log_level(std::string_view s, const fs::path& path) {
  if (s == "trace") return LogLevel::trace;
  if (s == "debug") return LogLevel::debug;
  if (s == "info") return LogLevel::info;
  if (s == "warn" || s == "warning") return LogLevel::warn;
  if (s == "error") return LogLevel::error;
  if (s == "off") return LogLevel::off;
  return config_error(path, "'log_level' is '" + std::string(s) +
                                "'; use one of trace, debug, info, warn, error, off");
}

Status check_unknown_keys(const toml::table& t, const std::set<std::string, std::less<>>& known,
                          std::string_view section, const fs::path& path) {
  for (const auto& [k, v] : t) {
    if (!known.contains(k.str())) {
      const std::string full = section.empty() ? std::string(k.str())
                                               : std::string(section) + "." + std::string(k.str());
      return config_error(
          path, "unknown key '" + full + "' (check its spelling against deploy/node.example.toml)");
    }
  }
  return {};
}

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

// [store], [training] and [model_cache]: what a partner agent reads (from
// agent.toml; node.toml still accepts them, see config.h).
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

// agent.toml's node_url and node_cert_sha256: the token never travels in
// clear text off the host.
Status parse_node_link(const toml::table& root, const fs::path& config_path, AgentConfig& cfg) {
  auto url = parse_http_url(cfg.node_url);
  if (!url) return config_error(config_path, "'node_url': " + url.error().message);
  auto pin = get_string(root, "node_cert_sha256", config_path);
  if (!pin) return pin.error();
  const bool https = url->scheme == HttpUrl::Scheme::https;
  if (https) {
    if (!pin->has_value() || (*pin)->empty()) {
      return config_error(config_path,
                          "'node_url' " + cfg.node_url +
                              " is TLS: set node_cert_sha256 to the node's certificate "
                              "fingerprint (batond logs it at start; on the node's host "
                              "`openssl x509 -in admin-tls.crt -noout -fingerprint -sha256`)");
    }
    auto parsed = parse_cert_sha256(**pin);
    if (!parsed) return config_error(config_path, "'node_cert_sha256': " + parsed.error().message);
    cfg.node_cert_sha256 = *parsed;
  } else if (pin->has_value() && !(*pin)->empty()) {
    return config_error(
        config_path, "'node_cert_sha256' is set but node_url " + cfg.node_url + " is not https://");
  }
  if (url->scheme == HttpUrl::Scheme::http && !is_loopback_host(url->host)) {
    return config_error(config_path,
                        "'node_url' " + cfg.node_url +
                            " is plain http off this host, where the admin token would travel in "
                            "clear text; use https://HOST:PORT with node_cert_sha256 (the node "
                            "sets [admin_api] tls = true), or run the agent beside its node");
  }
  return {};
}

Status parse_agent_sections(const toml::table& root, const fs::path& base_dir,
                            const fs::path& config_path, const fs::path& default_work_dir,
                            std::optional<StoreConfig>& store_out,
                            std::optional<TrainingConfig>& training_out,
                            ModelCacheConfig& model_cache_out) {
  if (const toml::node* n = root.get("store")) {
    const auto* t = n->as_table();
    if (t == nullptr) return config_error(config_path, "'store' must be a table ([store])");
    if (auto s = check_unknown_keys(*t, {"uri", "endpoint", "region"}, "store", config_path); !s)
      return s.error();
    StoreConfig store;
    auto uri = get_string(*t, "uri", config_path, "store");
    if (!uri) return uri.error();
    if (!uri->has_value() || (*uri)->empty()) {
      return config_error(config_path,
                          "'store.uri' is missing; set it to file:///DIR or s3://BUCKET/PREFIX");
    }
    store.uri = **uri;
    if (!store.uri.starts_with("file://") && !store.uri.starts_with("s3://")) {
      return config_error(config_path, "'store.uri' is '" + store.uri +
                                           "'; use file:///ABSOLUTE/DIR or s3://BUCKET/PREFIX");
    }
    for (auto [key, out] : {std::pair<std::string_view, std::string*>{"endpoint", &store.endpoint},
                            std::pair<std::string_view, std::string*>{"region", &store.region}}) {
      auto v = get_string(*t, key, config_path, "store");
      if (!v) return v.error();
      if (v->has_value()) *out = **v;
    }
    store_out = std::move(store);
  }
  if (const toml::node* n = root.get("training")) {
    const auto* t = n->as_table();
    if (t == nullptr) return config_error(config_path, "'training' must be a table ([training])");
    if (auto s = check_unknown_keys(
            *t,
            {"enabled", "train_csv", "validation_csv", "feature_schema", "na_values", "work_dir",
             "torch_threads", "device", "malicious_label_flip", "malicious_ignore_privacy_budget",
             "test_drop_out_after_upload"},
            "training", config_path);
        !s) {
      return s.error();
    }
    TrainingConfig tc;
    for (auto [key, out] :
         {std::pair<std::string_view, bool*>{"enabled", &tc.enabled},
          std::pair<std::string_view, bool*>{"malicious_label_flip", &tc.malicious_label_flip},
          std::pair<std::string_view, bool*>{"malicious_ignore_privacy_budget",
                                             &tc.malicious_ignore_privacy_budget},
          std::pair<std::string_view, bool*>{"test_drop_out_after_upload",
                                             &tc.test_drop_out_after_upload}}) {
      if (const toml::node* b = t->get(key)) {
        const auto* v = b->as_boolean();
        if (v == nullptr)
          return config_error(config_path,
                              "'training." + std::string(key) + "' must be true or false");
        *out = v->get();
      }
    }
    for (auto [key, out, required] :
         {std::tuple<std::string_view, fs::path*, bool>{"train_csv", &tc.train_csv, true},
          std::tuple<std::string_view, fs::path*, bool>{"validation_csv", &tc.validation_csv, true},
          std::tuple<std::string_view, fs::path*, bool>{"feature_schema", &tc.feature_schema,
                                                        false},
          std::tuple<std::string_view, fs::path*, bool>{"work_dir", &tc.work_dir, false}}) {
      auto v = get_string(*t, key, config_path, "training");
      if (!v) return v.error();
      if (v->has_value() && !(*v)->empty()) {
        *out = resolve(base_dir, **v);
      } else if (required && tc.enabled) {
        return config_error(config_path, "'training." + std::string(key) +
                                             "' is missing; set it to this hospital's CSV file");
      }
    }
    if (const toml::node* na = t->get("na_values")) {
      const auto* a = na->as_array();
      std::vector<std::string> values;
      const bool ok = a != nullptr && a->size() <= 64 && a->is_homogeneous<std::string>();
      if (ok) {
        for (const auto& v : *a) values.push_back(v.as_string()->get());
      }
      if (!ok || std::any_of(values.begin(), values.end(),
                             [](const std::string& v) { return v.size() > 64; })) {
        return config_error(config_path,
                            "'training.na_values' must be an array of at most 64 strings of at "
                            "most 64 bytes each, e.g. [\"\", \"NA\", \"?\"]");
      }
      tc.na_values = std::move(values);
    }
    auto threads = get_int(*t, "torch_threads", config_path, "training", 1, 256);
    if (!threads) return threads.error();
    if (threads->has_value()) tc.torch_threads = static_cast<int>(**threads);
    auto device = get_string(*t, "device", config_path, "training");
    if (!device) return device.error();
    if (device->has_value()) {
      if (!valid_training_device(**device)) {
        return config_error(config_path, "'training.device' is \"" + **device +
                                             "\"; use \"cpu\" or \"cuda:N\" (N from 0 to 63)");
      }
      tc.device = **device;
    }
    if (tc.work_dir.empty()) tc.work_dir = default_work_dir;
    if (tc.enabled && !store_out) {
      return config_error(config_path,
                          "[training] needs a [store] section with the object store's uri");
    }
    training_out = std::move(tc);
  }
  if (const toml::node* n = root.get("model_cache")) {
    const auto* t = n->as_table();
    if (t == nullptr)
      return config_error(config_path, "'model_cache' must be a table ([model_cache])");
    if (auto s = check_unknown_keys(*t,
                                    {"enabled", "dir", "max_bytes", "keep_lineage", "keep_finished",
                                     "check_interval_s", "full_check_max_bytes"},
                                    "model_cache", config_path);
        !s) {
      return s.error();
    }
    ModelCacheConfig& mc = model_cache_out;
    for (auto [key, out] :
         {std::pair<std::string_view, bool*>{"enabled", &mc.enabled},
          std::pair<std::string_view, bool*>{"keep_lineage", &mc.keep_lineage},
          std::pair<std::string_view, bool*>{"keep_finished", &mc.keep_finished}}) {
      if (const toml::node* b = t->get(key)) {
        const auto* v = b->as_boolean();
        if (v == nullptr)
          return config_error(config_path,
                              "'model_cache." + std::string(key) + "' must be true or false");
        *out = v->get();
      }
    }
    auto dir = get_string(*t, "dir", config_path, "model_cache");
    if (!dir) return dir.error();
    if (dir->has_value() && !(*dir)->empty()) mc.dir = resolve(base_dir, **dir);
    constexpr std::int64_t kMaxBytes = std::int64_t{1} << 50;
    auto max_bytes = get_int(*t, "max_bytes", config_path, "model_cache", 0, kMaxBytes);
    if (!max_bytes) return max_bytes.error();
    if (max_bytes->has_value()) mc.max_bytes = static_cast<std::uint64_t>(**max_bytes);
    auto full = get_int(*t, "full_check_max_bytes", config_path, "model_cache", 0, kMaxBytes);
    if (!full) return full.error();
    if (full->has_value()) mc.full_check_max_bytes = static_cast<std::uint64_t>(**full);
    auto interval = get_int(*t, "check_interval_s", config_path, "model_cache", 1, 7 * 24 * 3600);
    if (!interval) return interval.error();
    if (interval->has_value()) mc.check_interval_s = static_cast<std::uint32_t>(**interval);
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

namespace {

// The TOML of a config file, or an error naming its line and column.
Result<toml::table> parse_toml(std::string_view toml_text, const fs::path& config_path) {
  try {
    return toml::parse(toml_text, config_path.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "config " << where(config_path) << " is not valid TOML at line " << e.source().begin.line
        << ", column " << e.source().begin.column << ": " << e.description();
    return make_error(msg.str());
  }
}

}  // namespace

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

Result<AgentConfig> parse_agent_config(std::string_view toml_text, const fs::path& config_path) {
  auto parsed = parse_toml(toml_text, config_path);
  if (!parsed) return parsed.error();
  const toml::table& root = *parsed;
  const fs::path base_dir = fs::absolute(config_path).parent_path();
  AgentConfig cfg;
  cfg.config_path = fs::absolute(config_path).lexically_normal();
  if (auto s =
          check_unknown_keys(root,
                             {"name", "key_file", "genesis_file", "node_url", "node_cert_sha256",
                              "token_file", "admin_listen", "poll_ms", "log_level", "log_file",
                              "store", "training", "model_cache", "datasets"},
                             {}, config_path);
      !s) {
    return s.error();
  }
  // Named datasets (issue 17): checked at start, read again at each run's start.
  if (auto datasets = parse_datasets(toml_text, config_path); !datasets) return datasets.error();
  struct Required {
    std::string_view key;
    std::string* out;
  };
  std::string key_file, genesis_file;
  for (Required r :
       {Required{"name", &cfg.name}, Required{"key_file", &key_file},
        Required{"genesis_file", &genesis_file}, Required{"node_url", &cfg.node_url}}) {
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
  if (auto s = parse_node_link(root, config_path, cfg); !s) return s.error();
  {
    auto v = get_string(root, "token_file", config_path);
    if (!v) return v.error();
    cfg.token_file = resolve(
        base_dir, v->has_value() && !(*v)->empty() ? **v : std::string(kDefaultAdminTokenFile));
  }
  {
    auto v = get_string(root, "admin_listen", config_path);
    if (!v) return v.error();
    if (v->has_value()) {
      auto hp = parse_host_port(**v, true);
      if (!hp) return config_error(config_path, "'admin_listen': " + hp.error().message);
      cfg.admin_listen = *hp;
    }
    // The agent's API has neither TLS nor a token of its own (its node
    // forwards to it), so it is refused anywhere but loopback.
    if (!is_loopback_host(cfg.admin_listen.host)) {
      return config_error(config_path,
                          "admin_listen " + cfg.admin_listen.to_string() +
                              " is not a loopback address, and the agent's API has no TLS and no "
                              "authentication of its own; set admin_listen = \"127.0.0.1:" +
                              std::to_string(cfg.admin_listen.port) +
                              "\" (its node reaches it there and serves it with TLS and the "
                              "admin token)");
    }
  }
  {
    auto v = get_int(root, "poll_ms", config_path, "", 10, 60'000);
    if (!v) return v.error();
    if (v->has_value()) cfg.poll_ms = static_cast<std::uint32_t>(**v);
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
  std::optional<StoreConfig> store;
  std::optional<TrainingConfig> training;
  if (auto st = parse_agent_sections(root, base_dir, config_path, base_dir / "agent", store,
                                     training, cfg.model_cache);
      !st) {
    return st.error();
  }
  if (!training || !training->enabled) {
    return config_error(config_path,
                        "an agent needs a [training] section (enabled) with this hospital's "
                        "train_csv and validation_csv");
  }
  cfg.store = std::move(*store);
  cfg.training = std::move(*training);
  return cfg;
}

Result<AgentConfig> load_agent_config(const fs::path& config_path) {
  std::error_code ec;
  if (!fs::is_regular_file(config_path, ec)) {
    return make_error("config file " + config_path.string() +
                      " does not exist or is not a file; pass --config with the path of "
                      "agent.toml");
  }
  std::ifstream in(config_path, std::ios::binary);
  if (!in)
    return make_error("cannot read config file " + config_path.string() +
                      "; check its permissions");
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_agent_config(buf.str(), config_path);
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

// agent.toml (api/config.h): the partner agent's link to its node, its
// store, training data and model cache. The sections it shares with
// node.toml are parsed here too (parse_agent_sections).
#include <fstream>
#include <sstream>

#include "api/admin_access.h"
#include "api/admin_tls.h"
#include "api/config.h"
#include "api/config_toml.h"
#include "api/datasets_config.h"
#include "api/http_client.h"

namespace baton::api {

namespace fs = std::filesystem;
using namespace config_detail;

namespace {

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

}  // namespace

namespace config_detail {

// [store], [training] and [model_cache]: what a partner agent reads (from
// agent.toml; node.toml still accepts them, see config.h).
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

}  // namespace config_detail

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

}  // namespace baton::api

// The TOML reading node.toml and agent.toml share (api/config_toml.h).
#include "api/config_toml.h"

#include <sstream>

namespace baton::api::config_detail {

namespace fs = std::filesystem;

std::string where(const fs::path& config_path) { return config_path.string(); }

Error config_error(const fs::path& config_path, const std::string& what) {
  return make_error("config " + where(config_path) + ": " + what);
}

// Reads an optional string key; a present key of another type is an error.
Result<std::optional<std::string>> get_string(const toml::table& t, std::string_view key,
                                              const fs::path& path, std::string_view section) {
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

}  // namespace baton::api::config_detail

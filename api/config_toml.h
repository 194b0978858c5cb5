// The TOML reading both config files share: typed keys whose errors name the
// file and the key (api/config.cpp reads node.toml, api/agent_config.cpp
// agent.toml), and the agent's sections, which node.toml still accepts (see
// api/config.h). Internal to api/: nothing outside includes it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "api/config.h"
#include "chain/result.h"

namespace baton::api::config_detail {

std::string where(const std::filesystem::path& config_path);

Error config_error(const std::filesystem::path& config_path, const std::string& what);

// Reads an optional string key; a present key of another type is an error.
Result<std::optional<std::string>> get_string(const toml::table& t, std::string_view key,
                                              const std::filesystem::path& path,
                                              std::string_view section = {});

// An optional integer key within [min, max].
Result<std::optional<std::int64_t>> get_int(const toml::table& t, std::string_view key,
                                            const std::filesystem::path& path,
                                            std::string_view section, std::int64_t min,
                                            std::int64_t max);

// `p` relative to `base_dir` unless absolute, normalised.
std::filesystem::path resolve(const std::filesystem::path& base_dir, const std::string& p);

Result<LogLevel> parse_log_level(std::string_view s, const std::filesystem::path& path);

// An error naming the first key of `t` not in `known`.
Status check_unknown_keys(const toml::table& t, const std::set<std::string, std::less<>>& known,
                          std::string_view section, const std::filesystem::path& path);

// The TOML of a config file, or an error naming its line and column.
Result<toml::table> parse_toml(std::string_view toml_text,
                               const std::filesystem::path& config_path);

// [store], [training] and [model_cache] (api/agent_config.cpp): what a
// partner agent reads from agent.toml; node.toml still accepts them.
Status parse_agent_sections(const toml::table& root, const std::filesystem::path& base_dir,
                            const std::filesystem::path& config_path,
                            const std::filesystem::path& default_work_dir,
                            std::optional<StoreConfig>& store_out,
                            std::optional<TrainingConfig>& training_out,
                            ModelCacheConfig& model_cache_out);

}  // namespace baton::api::config_detail

// baton-agent: one hospital's partner agent (issue 12). See docs/OPERATIONS.md,
// "The partner agent".
//
//   baton-agent --config agent.toml
//
// It follows its node's committed training state over the admin API, trains
// on its turn, measures and votes on the others' candidates, seals and
// uploads, and has its node sign and submit its transactions. It survives its
// node restarting (it polls again until the node answers) and its own
// restart (agent/agent_journal.h: no second candidate or vote).
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 when the agent
// cannot start (bad config, key, genesis, data files, store), 2 for bad
// command-line arguments.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <variant>

#include "agent/agent_follow.h"
#include "api/admin_access.h"
#include "api/config.h"
#include "api/daemon.h"
#include "api/version.h"
#include "chain/chain_spec.h"
#include "chain/keys.h"
#include "learning/torch_version.h"
#include "storage/object_store.h"
#include "storage/s3_options.h"
#include "storage/secret_file.h"

namespace {

namespace fs = std::filesystem;
using namespace baton;

constexpr const char* kUsage =
    "usage: baton-agent --config agent.toml | --version\n"
    "Runs one hospital's partner agent beside its batond: follows the node's training state,\n"
    "trains on its turn and votes on the others' models. See docs/OPERATIONS.md.\n";

// Everything the agent needs before it starts, checked with a sentence each.
Result<agent::FollowerSetup> prepare(const api::AgentConfig& config) {
  auto genesis_text = api::read_config_named_file(
      config.genesis_file, "genesis file",
      "set genesis_file in agent.toml to the consortium's genesis.json");
  if (!genesis_text) return genesis_text.error();
  auto spec = chain::load_chain_spec(*genesis_text);
  if (!spec) {
    return make_error("genesis file " + config.genesis_file.string() +
                      " is invalid: " + spec.error().message);
  }
  const chain::GenesisMember* me = spec->genesis.find_member(config.name);
  if (me == nullptr)
    return make_error("'" + config.name + "' (name in agent.toml) is no member of the genesis");
  auto key_text = storage::read_secret_file(config.key_file);
  if (!key_text) return make_error("cannot use the key file: " + key_text.error().message);
  auto keys = chain::parse_secret_keys(key_text->view());
  if (!keys) {
    return make_error("key file " + config.key_file.string() +
                      " is not a Baton key: " + keys.error().message);
  }
  if (keys->x25519.public_key() != me->x25519) {
    return make_error("the key in " + config.key_file.string() + " is not " + config.name +
                      "'s: its X25519 key differs from the genesis'");
  }
  for (const auto& [key, path] :
       {std::pair<const char*, fs::path>{"train_csv", config.training.train_csv},
        {"validation_csv", config.training.validation_csv},
        {"feature_schema", config.training.feature_schema}}) {
    if (path.empty()) continue;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec) || !std::ifstream(path).is_open())
      return make_error("[training] " + std::string(key) + " " + path.string() +
                        " is not a readable file");
  }
  storage::S3Options s3;
  s3.endpoint = config.store.endpoint;
  if (!config.store.region.empty()) s3.region = config.store.region;
  if (config.store.uri.starts_with("s3://")) {
    auto resolved = storage::resolve_s3_options(s3, storage::process_environment());
    if (!resolved) return make_error("[store]: " + resolved.error().message);
    s3 = std::move(*resolved);
  }
  auto store = storage::open_object_store(config.store.uri, s3);
  if (!store) {
    return make_error("cannot open the object store " + config.store.uri +
                      " ([store] uri): " + store.error().message);
  }
  agent::FollowerSetup setup;
  setup.config = config;
  setup.options.chain_id = spec->chain_id();
  setup.options.member_name = config.name;
  setup.options.x25519 = keys->x25519;
  setup.options.members = spec->genesis.members;
  setup.options.training = config.training;
  setup.options.config_path = config.config_path;
  setup.options.model_cache = config.model_cache;
  setup.genesis = spec->genesis;
  setup.store = std::move(*store);
  return setup;
}

}  // namespace

int main(int argc, char** argv) {
  if (api::asks_for_version(argc, argv)) {
    std::cout << api::version_text("baton-agent", learning::libtorch_version());
    return api::kExitClean;
  }
  const auto command = api::parse_config_argument(argc, argv, "baton-agent", kUsage);
  if (const int* exit_code = std::get_if<int>(&command)) return *exit_code;
  const std::string& config_path = std::get<std::string>(command);
  api::ShutdownSignals signals;  // before any thread starts

  auto config = api::load_agent_config(config_path);
  if (!config) {
    std::cerr << "baton-agent: " << config.error().message << "\n";
    return api::kExitCannotStart;
  }
  auto log = api::open_process_log("baton-agent", config->log_file, config->name + " agent",
                                   config->log_level);
  if (!log) {
    std::cerr << "baton-agent: " << log.error().message << "\n";
    return api::kExitCannotStart;
  }

  auto setup = prepare(*config);
  if (!setup) return api::cannot_start(**log, "baton-agent", setup.error().message);
  auto follower = agent::Follower::start(std::move(*setup), *log);
  if (!follower) return api::cannot_start(**log, "baton-agent", follower.error().message);

  (*log)->info("received {}; shutting down", signals.wait());
  (*follower)->stop();
  follower->reset();
  (*log)->flush();
  return api::kExitClean;
}

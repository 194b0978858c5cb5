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
#include "agent/agent_setup.h"
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

  auto setup = agent::prepare_agent(*config);
  if (!setup) return api::cannot_start(**log, "baton-agent", setup.error().message);
  for (const std::string& note : setup->notes) (*log)->warn("{}", note);
  auto follower = agent::Follower::start(std::move(*setup), *log);
  if (!follower) return api::cannot_start(**log, "baton-agent", follower.error().message);

  (*log)->info("received {}; shutting down", signals.wait());
  (*follower)->stop();
  follower->reset();
  (*log)->flush();
  return api::kExitClean;
}

// batond: one hospital's Baton node. See docs/OPERATIONS.md.
//
//   batond --config node.toml
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 when the node
// cannot start (bad config, key, genesis, data directory, port in use),
// 2 for bad command-line arguments.
#include <iostream>
#include <memory>
#include <string>
#include <variant>

#include "api/config.h"
#include "api/daemon.h"
#include "api/version.h"
#include "node/node.h"

namespace {

constexpr const char* kUsage =
    "usage: batond --config node.toml | --version\n"
    "Runs one Baton node: P2P consensus with the genesis members, the ledger in the\n"
    "data directory, and the admin HTTP API. See docs/OPERATIONS.md.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace baton;
  if (api::asks_for_version(argc, argv)) {
    std::cout << api::version_text("batond");
    return api::kExitClean;
  }
  const auto command = api::parse_config_argument(argc, argv, "batond", kUsage);
  if (const int* exit_code = std::get_if<int>(&command)) return *exit_code;
  const std::string& config_path = std::get<std::string>(command);

  // Signals are taken by wait() below; blocked before any thread starts so
  // that every thread inherits the mask.
  api::ShutdownSignals signals;

  auto config = api::load_node_config(config_path);
  if (!config) {
    std::cerr << "batond: " << config.error().message << "\n";
    return api::kExitCannotStart;
  }
  auto log = api::open_process_log("batond", config->log_file, config->name, config->log_level);
  if (!log) {
    std::cerr << "batond: " << log.error().message << "\n";
    return api::kExitCannotStart;
  }

  auto node = node::Node::open(*config, *log);
  if (!node) return api::cannot_start(**log, "batond", node.error().message);
  if (auto s = (*node)->start(); !s) return api::cannot_start(**log, "batond", s.error().message);

  (*log)->info("received {}; shutting down", signals.wait());
  (*node)->stop();
  node->reset();
  (*log)->flush();
  return api::kExitClean;
}

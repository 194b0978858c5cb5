// batond: one hospital's Baton node. See docs/OPERATIONS.md.
//
//   batond --config node.toml
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 1 when the node
// cannot start (bad config, key, genesis, data directory, port in use),
// 2 for bad command-line arguments.
#include <csignal>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "api/config.h"
#include "node/node.h"
#include "api/protobuf_log.h"

namespace {

constexpr const char* kUsage =
    "usage: batond --config node.toml\n"
    "Runs one Baton node: P2P consensus with the genesis members, the ledger in the\n"
    "data directory, and the admin HTTP API. See docs/OPERATIONS.md.\n";

spdlog::level::level_enum to_spdlog(baton::api::LogLevel level) {
  using baton::api::LogLevel;
  switch (level) {
    case LogLevel::trace:
      return spdlog::level::trace;
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
    case LogLevel::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> make_logger(const baton::api::NodeConfig& config) {
  std::shared_ptr<spdlog::logger> log;
  if (config.log_file.empty()) {
    log = spdlog::stderr_color_mt("batond");
  } else {
    log = spdlog::basic_logger_mt("batond", config.log_file.string());
  }
  log->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + config.name + "] %v");
  log->set_level(to_spdlog(config.log_level));
  log->flush_on(spdlog::level::info);
  return log;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg.starts_with("--config=")) {
      config_path = arg.substr(9);
    } else {
      std::cerr << "batond: unknown argument '" << arg << "'\n" << kUsage;
      return 2;
    }
  }
  if (config_path.empty()) {
    std::cerr << "batond: --config is required\n" << kUsage;
    return 2;
  }

  // Signals are taken by sigwait below; block them before any thread starts
  // so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto config = baton::api::load_node_config(config_path);
  if (!config) {
    std::cerr << "batond: " << config.error().message << "\n";
    return 1;
  }
  std::shared_ptr<spdlog::logger> log;
  try {
    log = make_logger(*config);
  } catch (const spdlog::spdlog_ex& e) {
    std::cerr << "batond: cannot open the log file " << config->log_file << ": " << e.what()
              << "\n";
    return 1;
  }
  baton::api::send_protobuf_logs_to(log);  // peers' bad bytes must not reach stderr

  auto node = baton::node::Node::open(*config, log);
  if (!node) {
    log->error("{}", node.error().message);
    std::cerr << "batond: " << node.error().message << "\n";
    return 1;
  }
  if (auto s = (*node)->start(); !s) {
    log->error("{}", s.error().message);
    std::cerr << "batond: " << s.error().message << "\n";
    return 1;
  }

  int sig = 0;
  sigwait(&signals, &sig);
  log->info("received {}; shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*node)->stop();
  node->reset();
  log->flush();
  return 0;
}

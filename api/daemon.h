// The start-up batond and baton-agent share (node/main.cpp,
// agent/agent_main.cpp): the `--config FILE` command line, the log (a file
// or stderr, the level from the config), the shutdown signals, and reading a
// file the config names with a sentence when it cannot be read. Each
// program's main keeps what is its own (what it opens and runs).
//
// Exit codes both programs use: 0 after a clean shutdown (SIGTERM/SIGINT)
// or --help, 1 when the program cannot start, 2 for bad command-line
// arguments.
#pragma once

#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include <spdlog/logger.h>

#include "api/config.h"
#include "chain/result.h"

namespace baton::api {

inline constexpr int kExitClean = 0;
inline constexpr int kExitCannotStart = 1;
inline constexpr int kExitBadArguments = 2;

// The command line `PROGRAM --config FILE` (or --config=FILE, or --help).
// Returns the config path, or the exit code to return at once: after
// printing `usage` to stdout for --help (kExitClean), or a sentence and
// `usage` to stderr for anything else (kExitBadArguments).
std::variant<std::string, int> parse_config_argument(int argc, char** argv,
                                                     std::string_view program,
                                                     std::string_view usage);

spdlog::level::level_enum to_spdlog(LogLevel level);

// The process's log: `log_file` (appended) or, when empty, stderr in
// colour; lines "TIME LEVEL [label] message" at `level`, flushed at info and
// above; libprotobuf's own messages go to it (api/protobuf_log.h). An error
// (the file cannot be opened) is the sentence "cannot open the log file
// "PATH": WHY".
Result<std::shared_ptr<spdlog::logger>> open_process_log(const std::string& logger_name,
                                                         const std::filesystem::path& log_file,
                                                         std::string_view label, LogLevel level);

// SIGTERM and SIGINT, taken by wait() instead of their default handlers.
// Construct it in main before any thread starts, so that every thread
// inherits the blocked mask; it also ignores SIGPIPE (a client that hangs
// up must not kill the process).
class ShutdownSignals {
 public:
  ShutdownSignals();
  // Blocks until SIGTERM or SIGINT arrives; returns its name ("SIGTERM").
  const char* wait();

 private:
  sigset_t signals_;
};

// Reports that the program cannot start: `message` to the log as an error
// and "PROGRAM: message" to stderr. Returns kExitCannotStart.
int cannot_start(spdlog::logger& log, std::string_view program, const std::string& message);

// The whole of a file the config names, or a sentence: "WHAT PATH does not
// exist; HINT", "WHAT PATH is a directory", "cannot read WHAT PATH; check
// its permissions" (e.g. what = "genesis file").
Result<std::string> read_config_named_file(const std::filesystem::path& path, std::string_view what,
                                           std::string_view hint);

}  // namespace baton::api

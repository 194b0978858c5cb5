// Shared plumbing for the `baton` admin CLI: exit codes, errors as sentences,
// file helpers. Every command group lives in its own cmd_<group>.cpp and
// registers its subcommands through one function declared in commands.h.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chain/secret.h"

namespace CLI {
class App;
}

namespace baton::tools {

// Exit codes mean something (README, "Exit codes").
enum class Exit : int {
  ok = 0,
  failure = 1,        // the command could not do its work (I/O, bad input file)
  usage = 2,          // bad flags or arguments
  verify_failed = 3,  // the ledger (or a blob) failed verification
  unavailable = 4,    // a node or store could not be reached
  not_committed = 5,  // tx submit --wait: accepted, not committed yet (it may still be)
};

// Thrown by command callbacks; main() prints `baton: <message>` to stderr and
// exits with `code`. The message is one sentence saying what was wrong and,
// where it helps, what to do.
class CommandError : public std::runtime_error {
 public:
  explicit CommandError(const std::string& message, Exit code = Exit::failure)
      : std::runtime_error(message), code_(code) {}
  Exit code() const { return code_; }

 private:
  Exit code_;
};

[[noreturn]] inline void fail(const std::string& message, Exit code = Exit::failure) {
  throw CommandError(message, code);
}

// Reads a whole file; fails with a sentence naming the path when it is missing,
// a directory, or unreadable.
std::string read_file(const std::filesystem::path& path, std::string_view what);

// Reads a file that holds a secret (NAME.key) into wiped memory
// (storage::read_secret_file); fails like read_file. Use it as
// parse_secret_keys(read_secret_file(path, "key file").view()): the text
// lives until the end of that full expression, then is wiped.
chain::SecretText read_secret_file(const std::filesystem::path& path, std::string_view what);

// Writes via storage::AtomicFile: an exclusive temporary file created with
// mode 0600, given `perms` (fchmod, checked) before it is linked or renamed
// into place and synced, so a secret never sits in a file another user owns
// or can read. Refuses to overwrite unless `overwrite` is true.
void write_file_atomic(const std::filesystem::path& path, std::string_view contents,
                       std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                      std::filesystem::perms::owner_write |
                                                      std::filesystem::perms::group_read |
                                                      std::filesystem::perms::others_read,
                       bool overwrite = false);

// Prints JSON to stdout, pretty, with a trailing newline.
void print_json(const nlohmann::json& j);

// Parses argv with `app` and runs the chosen command: the main() of `baton`
// and of `baton-learn`. Help exits 0; bad flags print `baton: <why>` and give
// Exit::usage; a CommandError prints `baton: <message>` and gives its code.
int run_cli(CLI::App& app, int argc, char** argv);

}  // namespace baton::tools

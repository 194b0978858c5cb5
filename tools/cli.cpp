#include "tools/cli.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "storage/byte_stream.h"
#include "storage/secret_file.h"

namespace baton::tools {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path, std::string_view what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(std::string(what) + " " + path.string() + " does not exist");
  if (fs::is_directory(path, ec))
    fail(std::string(what) + " " + path.string() + " is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail("cannot read " + std::string(what) + " " + path.string() + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

chain::SecretText read_secret_file(const fs::path& path, std::string_view what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(std::string(what) + " " + path.string() + " does not exist");
  if (fs::is_directory(path, ec))
    fail(std::string(what) + " " + path.string() + " is a directory, not a file");
  auto text = storage::read_secret_file(path);
  if (!text) fail("cannot read " + std::string(what) + ": " + text.error().message);
  return std::move(text).value();
}

void write_file_atomic(const fs::path& path, std::string_view contents, fs::perms perms,
                       bool overwrite) {
  // storage::AtomicFile: an exclusive 0600 temporary file, fchmod to `perms`
  // before it gets its name (failing if that fails), link or rename into
  // place, fsync; safe for secret keys in a directory others can write.
  auto file = storage::AtomicFile::create(path, overwrite, static_cast<unsigned>(perms) & 07777);
  if (!file) fail(file.error().message);
  if (auto s = (*file)->write(chain::as_bytes(contents)); !s) fail(s.error().message);
  if (auto s = (*file)->commit(); !s) fail(s.error().message);
}

void print_json(const nlohmann::json& j) { std::cout << j.dump(2) << "\n"; }

namespace {

// Where argv stops naming commands: the deepest command it names and the
// first word (not a flag) after it that names none of that command's
// subcommands ("" when argv ends first). Only commands with subcommands are
// descended into, so a leaf's positional arguments are never taken for
// commands.
struct CommandSpot {
  CLI::App* app;
  std::string path;     // "baton run"
  std::string unknown;  // "stauts"
};

CommandSpot command_spot(CLI::App& app, int argc, char** argv) {
  CommandSpot spot{&app, "baton", ""};
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") break;
    if (word.starts_with("-")) continue;
    const auto subs = spot.app->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) break;
    const auto named = spot.app->get_subcommands([&](CLI::App* s) { return s->check_name(word); });
    if (named.empty()) {
      spot.unknown = word;
      break;
    }
    spot.app = named.front();
    spot.path += " " + word;
  }
  return spot;
}

// A usage error that names the commands: for a word that is not one of
// them, or a missing one. "" when `e` is about something else.
std::string command_usage(CLI::App& app, int argc, char** argv, const CLI::ParseError& e) {
  const CommandSpot spot = command_spot(app, argc, argv);
  const auto subs = spot.app->get_subcommands([](CLI::App*) { return true; });
  if (subs.empty()) return "";
  const bool missing = dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
                       std::string(e.what()).find("ubcommand") != std::string::npos;
  if (spot.unknown.empty() && !missing) return "";
  std::string names;
  for (const CLI::App* sub : subs) names += (names.empty() ? "" : ", ") + sub->get_name();
  const std::string head = spot.unknown.empty()
                               ? "`" + spot.path + "` needs a command"
                               : "`" + spot.path + " " + spot.unknown + "` is not a command";
  return head + "; the commands of `" + spot.path + "` are: " + names + " (see `" + spot.path +
         " --help`)";
}

// --json anywhere before "--": the caller reads JSON, errors included.
bool wants_json(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word == "--") return false;
    if (word == "--json") return true;
  }
  return false;
}

}  // namespace

int run_cli(CLI::App& app, int argc, char** argv) {
  const bool json_errors = wants_json(argc, argv);
  // One line on stderr: `baton: <message>`, or under --json
  // {"error": "<message>", "exit": N}; stdout stays empty.
  auto report = [&](const std::string& message, Exit code) {
    if (json_errors)
      std::cerr << nlohmann::json{{"error", message}, {"exit", static_cast<int>(code)}}.dump()
                << "\n";
    else
      std::cerr << "baton: " << message << "\n";
    return static_cast<int>(code);
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const std::string commands = command_usage(app, argc, argv, e);
    return report(
        commands.empty() ? std::string(e.what()) + " (run with --help for usage)" : commands,
        Exit::usage);
  } catch (const CommandError& e) {
    return report(e.what(), e.code());
  } catch (const std::exception& e) {
    return report(std::string("unexpected failure: ") + e.what(), Exit::failure);
  }
  return static_cast<int>(Exit::ok);
}

}  // namespace baton::tools

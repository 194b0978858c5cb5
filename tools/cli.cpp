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

int run_cli(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "baton: " << e.what() << " (run with --help for usage)\n";
    return static_cast<int>(Exit::usage);
  } catch (const CommandError& e) {
    std::cerr << "baton: " << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "baton: unexpected failure: " << e.what() << "\n";
    return static_cast<int>(Exit::failure);
  }
  return static_cast<int>(Exit::ok);
}

}  // namespace baton::tools

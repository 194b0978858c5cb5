#include "tools/cli.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

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

void write_file_atomic(const fs::path& path, std::string_view contents, fs::perms perms,
                       bool overwrite) {
  std::error_code ec;
  if (!overwrite && fs::exists(path, ec))
    fail(path.string() + " already exists; remove it or choose another path");
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) fail("directory " + dir.string() + " does not exist");
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail("cannot create " + tmp.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      fail("cannot write " + path.string() + ": " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail("cannot flush " + path.string() + " to disk");
  }
  fs::permissions(tmp, perms, ec);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    fail("cannot rename into " + path.string() + ": " + why);
  }
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

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include "tools/cli.h"
#include "tools/learn_commands.h"

namespace baton::tools {

namespace fs = std::filesystem;

int exec_learn(char** argv) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    std::cerr << "baton: cannot find baton's own executable to locate " << kLearnExecutable
              << " (/proc/self/exe: " << ec.message() << ")\n";
    return static_cast<int>(Exit::failure);
  }
  const fs::path learn = self.parent_path() / kLearnExecutable;
  ::execv(learn.c_str(), argv);
  const int err = errno;
  if (err == ENOENT) {
    std::cerr << "baton: `" << argv[1] << "` is run by " << kLearnExecutable
              << " (the half of baton that links LibTorch), and " << learn.string()
              << " does not exist; build it (cmake --build BUILD --target " << kLearnExecutable
              << ") or install it next to baton\n";
  } else {
    std::cerr << "baton: cannot run " << learn.string() << " for `" << argv[1]
              << "`: " << std::strerror(err) << "\n";
  }
  return static_cast<int>(Exit::failure);
}

}  // namespace baton::tools

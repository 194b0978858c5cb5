#include "api/version.h"

#include "baton_build_info.h"

namespace baton::api {

std::string_view baton_version() { return BATON_VERSION; }

std::string_view git_commit() { return BATON_GIT_COMMIT; }

std::string version_text(std::string_view program, std::string_view libtorch) {
  std::string out = std::string(program) + " " + std::string(baton_version()) + "\n";
  out += "commit " + std::string(git_commit()) + "\n";
  if (!libtorch.empty()) out += "libtorch " + std::string(libtorch) + "\n";
  return out;
}

bool asks_for_version(int argc, char** argv) {
  return argc == 2 && std::string_view(argv[1]) == "--version";
}

}  // namespace baton::api

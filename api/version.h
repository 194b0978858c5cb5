// `--version` of every Baton program: what was built, from which commit.
//
//   baton 0.1.0
//   commit 9bc4939e0f3c...   (40 hex, or "unknown" for a tree without git)
//   libtorch 1.13.0          (only the programs that link LibTorch)
//
// The commit is read when cmake configures the build (cmake/BuildInfo.cmake),
// so a build configured before later commits names the older one.
#pragma once

#include <string>
#include <string_view>

namespace baton::api {

std::string_view baton_version();  // the project's version, "0.1.0"
std::string_view git_commit();     // 40 lower-case hex, or "unknown"

// The text above, each line ending in '\n'; the libtorch line only when
// `libtorch` is not empty (learning::libtorch_version() in the programs that
// link it; api/ itself never sees LibTorch).
std::string version_text(std::string_view program, std::string_view libtorch = {});

// True when argv holds exactly one argument, "--version" (what every
// program's main checks before parsing anything else).
bool asks_for_version(int argc, char** argv);

}  // namespace baton::api

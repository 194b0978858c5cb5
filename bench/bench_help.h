// Every bench program answers --help (and -h) with its usage and exits 0,
// before it starts anything: a benchmark starts processes, fills disks and
// takes minutes, which nobody asking for help expects. Likewise --version
// (api/version.h): figures are only comparable between builds one can name.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "api/version.h"

namespace baton::bench {

// If argv is exactly `--version`: prints api::version_text (with the LibTorch
// line when `libtorch` is not empty: the programs that link LibTorch pass
// learning::libtorch_version()) and exits 0. Call it first thing in main().
inline void answer_version(int argc, char** argv, std::string_view program,
                           std::string_view libtorch = {}) {
  if (!api::asks_for_version(argc, argv)) return;
  const std::string text = api::version_text(program, libtorch);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::exit(0);
}

// If argv holds --help or -h: prints `usage` (one or more lines, ending in a
// newline) to stdout and exits 0. Call it first thing in main().
inline void answer_help(int argc, char** argv, const char* usage) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(usage, stdout);
      std::exit(0);
    }
  }
}

}  // namespace baton::bench

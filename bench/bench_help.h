// Every bench program answers --help (and -h) with its usage and exits 0,
// before it starts anything: a benchmark starts processes, fills disks and
// takes minutes, which nobody asking for help expects.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace baton::bench {

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

// What every bench/ program prints beside its figures.
#pragma once

#include <fstream>
#include <string>

namespace baton::bench {

// The 1, 5 and 15 minute load averages (/proc/loadavg), e.g. "0.42 0.61 0.70":
// a figure measured while other work ran is noise (docs/BENCHMARKS.md).
inline std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace baton::bench

// A stand-in for libFuzzer's main() in builds without -fsanitize=fuzzer, so
// that CI runs every fuzz target briefly with any compiler:
//
//   NAME [--runs N] [--seed S] [CORPUS_DIR_OR_FILE...]
//
// It feeds every corpus file, then N inputs: random bytes of random length,
// and corpus files with bytes flipped, inserted, cut or spliced. It is no
// substitute for coverage-guided fuzzing (see tests/fuzz/CMakeLists.txt);
// it catches the crashes that plain bad input reaches.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

using Input = std::vector<std::uint8_t>;

Input read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Input(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Input mutate(const std::vector<Input>& corpus, std::mt19937_64& rng) {
  Input out;
  if (corpus.empty() || rng() % 4 == 0) {
    out.resize(rng() % 600);
    for (auto& b : out) b = static_cast<std::uint8_t>(rng());
    return out;
  }
  out = corpus[rng() % corpus.size()];
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 5) {
      case 0:  // flip a bit
        if (!out.empty()) out[rng() % out.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        break;
      case 1:  // set a byte to an interesting value
        if (!out.empty()) {
          static const std::uint8_t kValues[] = {0x00, 0x01, 0x7f, 0x80, 0xff};
          out[rng() % out.size()] = kValues[rng() % 5];
        }
        break;
      case 2:  // insert random bytes
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(out.empty() ? 0 : rng() % out.size()),
                   1 + rng() % 16, static_cast<std::uint8_t>(rng()));
        break;
      case 3:  // cut
        if (!out.empty()) out.resize(rng() % out.size());
        break;
      case 4: {  // splice in part of another entry
        const Input& other = corpus[rng() % corpus.size()];
        if (!other.empty()) {
          const std::size_t from = rng() % other.size();
          out.insert(out.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        }
        break;
      }
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 10000;
  std::uint64_t seed = 1;
  std::vector<Input> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs = std::strtol(argv[++i], nullptr, 10);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) corpus.push_back(read_all(entry.path()));
      }
    } else if (std::filesystem::is_regular_file(arg)) {
      corpus.push_back(read_all(arg));
    } else {
      std::fprintf(stderr, "%s: '%s' is neither a flag nor a corpus file or directory.\n", argv[0],
                   arg.c_str());
      return 2;
    }
  }
  for (const Input& input : corpus) LLVMFuzzerTestOneInput(input.data(), input.size());
  std::mt19937_64 rng(seed);
  for (long i = 0; i < runs; ++i) {
    const Input input = mutate(corpus, rng);
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("%s: %zu corpus inputs and %ld generated inputs (seed %llu) ran without a crash\n",
              argv[0], corpus.size(), runs, static_cast<unsigned long long>(seed));
  return 0;
}

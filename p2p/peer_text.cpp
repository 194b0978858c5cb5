#include "p2p/peer_text.h"

namespace baton::p2p {
namespace {

bool printable(unsigned char c) { return c >= 0x20 && c <= 0x7e; }

}  // namespace

std::string escape_peer_text(std::string_view raw, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string_view shown = raw.substr(0, max_bytes);
  std::string out;
  out.reserve(shown.size() + 16);
  for (const char ch : shown) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (printable(c)) {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (raw.size() > shown.size()) out += "...(" + std::to_string(raw.size()) + " bytes)";
  return out;
}

std::string printable_sentence(std::string_view text, std::size_t max_bytes) {
  std::string out(text.substr(0, max_bytes));
  for (char& ch : out) {
    if (!printable(static_cast<unsigned char>(ch))) ch = '?';
  }
  if (text.size() > max_bytes) out += "...";
  return out;
}

}  // namespace baton::p2p

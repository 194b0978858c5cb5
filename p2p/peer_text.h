// Rendering text a peer chose (a chain id in its hello, a reason derived from
// its block) for logs, /status and JSON. A hostile member or any stranger on
// the P2P port picks these bytes: unescaped, a newline forges log lines, an
// ESC sequence rewrites the operator's terminal and invalid UTF-8 breaks JSON.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace baton::p2p {

// Printable ASCII (0x20..0x7e) stays as it is, except '\' which becomes "\\";
// every other byte becomes "\xNN" (lower-case hex). Inputs longer than
// `max_bytes` are cut there and end in "...(N bytes)". The result is always
// printable ASCII, so also valid UTF-8, and reads back unambiguously.
std::string escape_peer_text(std::string_view raw, std::size_t max_bytes = 96);

// A last guard for a sentence that may embed peer text already escaped or
// not: every byte outside printable ASCII becomes '?', and the sentence is cut
// at `max_bytes`. Unlike escape_peer_text it leaves '\' alone, so text
// escaped once is not escaped twice.
std::string printable_sentence(std::string_view text, std::size_t max_bytes = 512);

}  // namespace baton::p2p

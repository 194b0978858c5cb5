#include "node/http_admission.h"

#include <algorithm>
#include <tuple>

namespace baton::node {
namespace {

// The connection to give way among `open` whose client matches `only`
// (any client when empty): idle before reading, then least recently active.
std::optional<std::uint64_t> pick(const std::vector<OpenConnection>& open,
                                  std::optional<std::string_view> only) {
  const OpenConnection* best = nullptr;
  auto key = [](const OpenConnection& c) {
    return std::make_tuple(c.phase == ConnectionPhase::idle ? 0 : 1, c.last_active_ms, c.id);
  };
  for (const OpenConnection& c : open) {
    if (c.phase == ConnectionPhase::busy) continue;
    if (only && c.client != *only) continue;
    if (best == nullptr || key(c) < key(*best)) best = &c;
  }
  if (best == nullptr) return std::nullopt;
  return best->id;
}

}  // namespace

Admission admit_connection(const std::vector<OpenConnection>& open, std::string_view client,
                           const AdmissionLimits& limits) {
  const auto same_client = static_cast<std::size_t>(std::count_if(
      open.begin(), open.end(), [&](const OpenConnection& c) { return c.client == client; }));
  if (same_client >= limits.max_per_client) {
    const auto victim = pick(open, client);
    return victim ? Admission{true, victim} : Admission{};
  }
  if (open.size() >= limits.max_connections) {
    const auto victim = pick(open, std::nullopt);
    return victim ? Admission{true, victim} : Admission{};
  }
  return Admission{true, std::nullopt};
}

}  // namespace baton::node

#include "api/http_admission.h"

#include <algorithm>
#include <tuple>

namespace baton::api {
namespace {

int give_way_rank(ConnectionPhase phase) {
  switch (phase) {
    case ConnectionPhase::idle:
      return 0;
    case ConnectionPhase::waiting:
      return 1;
    case ConnectionPhase::reading:
      return 2;
    case ConnectionPhase::busy:
      return 3;
  }
  return 3;
}

// The connection to give way among `open` whose client matches `only`
// (any client when empty): idle, then waiting, then reading, then busy;
// within a phase the least recently active, then the older.
std::optional<std::uint64_t> pick(const std::vector<OpenConnection>& open,
                                  std::optional<std::string_view> only) {
  const OpenConnection* best = nullptr;
  auto key = [](const OpenConnection& c) {
    return std::make_tuple(give_way_rank(c.phase), c.last_active_ms, c.id);
  };
  for (const OpenConnection& c : open) {
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

}  // namespace baton::api

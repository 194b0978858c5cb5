// libFuzzer target for the partner agent's report of its own metrics
// (api/agent_report.h), the body of POST /agent/metrics: an agent (perhaps
// compromised) sends it, batond parses it. Any body must give a report or an
// error sentence, never a crash, and a report taken must survive being
// written back as the agent writes it, unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/agent_report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto report = baton::api::parse_agent_report(body);
  if (!report) {
    if (report.error().message.empty()) std::abort();
    return 0;
  }
  auto again = baton::api::parse_agent_report(baton::api::agent_report_json(*report));
  if (!again || !(*again == *report)) std::abort();
  return 0;
}

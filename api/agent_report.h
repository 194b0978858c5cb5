// The partner agent's report of its own work (issue 17): what baton-agent
// sends its batond with POST /agent/metrics and batond renders in GET
// /metrics as the baton_agent_* series (node/agent_metrics.h;
// docs/OPERATIONS.md, "Watching it"). Here, in api/, because both sides
// need the one list of names: the agent writes it (agent/agent_metrics.h),
// the node parses it (node/agent_api.cpp) and links no agent code.
//
// The body is one flat JSON object of at most kMaxAgentReportBytes, each key
// a known name, each value of the key's type; every key may be left out:
//
//   "activity"                  string: one of kAgentActivities
//   "run"                       string: the run it works (or last worked) on,
//                               a run id (1-64 of [A-Za-z0-9._-])
//   "turn"                      integer: that run's turn (federated: round)
//   "step_seconds.STEP"         number: how long STEP took the last time it ran
//   "steps_total.STEP"          integer: times STEP ran since the agent started
//   "step_seconds_total.STEP"   number: seconds those took, summed
//   "last_auc.candidate|head"   number in [0, 1]: its last local evaluation
//   "errors_total.KIND"         integer: failures of KIND since it started
//
// STEP is one of kAgentSteps, KIND one of kAgentErrorKinds. Numbers are
// finite and non-negative, integers at most 2^53 and seconds at most
// kMaxAgentSeconds; anything else, an unknown key, or a body that is not
// such an object is refused whole (parse_agent_report says why).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chain/result.h"

namespace baton::api {

inline constexpr std::size_t kMaxAgentReportBytes = 4096;
// Ten years: a step time beyond it is nonsense, not a measurement.
inline constexpr double kMaxAgentSeconds = 315'360'000.0;

// What the agent is doing now.
enum class AgentActivity : std::uint8_t {
  idle = 0,     // nothing to do for the ledger's current state
  training,     // its own turn or round: fetch, open, train, seal, upload
  voting,       // measuring another partner's candidate and voting on it
  measuring,    // measuring the head on its validation data while another trains
  sharing,      // a federated round: posting its seed shares
  unmasking,    // a federated round: revealing the shares of the round's survivors
  aggregating,  // a federated round: summing the masked updates, sealing the aggregate
};
inline constexpr std::array<std::string_view, 7> kAgentActivities{
    "idle", "training", "voting", "measuring", "sharing", "unmasking", "aggregating"};

// The steps whose time is reported.
enum class AgentStep : std::uint8_t {
  fetch = 0,  // a model (or a round's masked updates) from the object store
  open,       // verify, decrypt and deserialize it
  train,      // local training (a turn or a round)
  evaluate,   // measuring a model on the local validation file
  seal,       // serialize, (mask,) encrypt
  upload,     // put the sealed blob in the object store
  vote,       // a whole vote on a candidate: fetch, open, evaluate, decide, journal
  share,      // a federated round's seed shares
  unmask,     // a federated round's reveal of shares
  aggregate,  // unmasking and summing a round's updates (the aggregator)
};
inline constexpr std::array<std::string_view, 10> kAgentSteps{
    "fetch", "open", "train", "evaluate", "seal", "upload", "vote", "share", "unmask", "aggregate"};

// Kinds of failure it counts.
enum class AgentErrorKind : std::uint8_t {
  store = 0,  // the object store failed a read or write
  data,       // the local data of a run's plan did not load
  training,   // training or building the model failed
  journal,    // its journal could not be written
  submit,     // its node did not take a transaction (busy, refused, unreachable)
  report,     // a report of these metrics was not taken (counted in the next one)
};
inline constexpr std::array<std::string_view, 6> kAgentErrorKinds{"store",   "data",   "training",
                                                                  "journal", "submit", "report"};

struct AgentStepFigures {
  std::optional<double> last_s;  // absent: not in the report
  std::uint64_t count = 0;
  double total_s = 0;

  bool operator==(const AgentStepFigures&) const = default;
};

struct AgentReport {
  std::optional<AgentActivity> activity;
  std::string run;  // "" when none
  std::optional<std::uint64_t> turn;
  std::array<AgentStepFigures, kAgentSteps.size()> steps{};
  std::optional<double> auc_candidate;
  std::optional<double> auc_head;
  std::array<std::uint64_t, kAgentErrorKinds.size()> errors{};

  bool operator==(const AgentReport&) const = default;
};

// The JSON body of `report` (steps that never ran are left out).
std::string agent_report_json(const AgentReport& report);

// The report a body holds; an error naming the first thing wrong.
Result<AgentReport> parse_agent_report(std::string_view body);

}  // namespace baton::api

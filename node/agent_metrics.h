// The partner agent's own metrics in GET /metrics (issue 17): the latest
// report its baton-agent sent with POST /agent/metrics (api/agent_report.h),
// rendered as the baton_agent_* series after the node's own and the
// ledger's. What only the agent knows: whether it is alive and what it is
// doing, how long each step of its work took, its last local AUCs and its
// errors. docs/OPERATIONS.md, "Watching it", lists them; in short:
//   baton_agent_up                            1 while a report is at most kStaleAfter old
//   baton_agent_report_age_seconds            since the last report (absent before the first)
//   baton_agent_reports_total                 reports taken since batond started
//   baton_agent_reports_refused_total         reports refused (bad token excluded)
//   baton_agent_state{activity}               1 for what the agent does now, 0 for the others
//   baton_agent_turn{run}                     the run and turn it works (or last worked) on
//   baton_agent_step_seconds{run,step}        how long each step took the last time it ran
//   baton_agent_steps_total{step}             times each step ran since the agent started
//   baton_agent_step_seconds_total{step}      seconds those took, summed
//   baton_agent_last_auc{run,model}           its last local evaluation: candidate and head
//   baton_agent_errors_total{kind}            its failures by kind since it started
// Every series carries the `node` label, batond's own member name: whatever
// an agent (compromised or not) reports, it sets this node's agent series
// only. Label values are escaped (run ids come from the plan's author).
//
// Thread-safe: reports come in on the admin API's threads (TCP and Unix
// socket servers), scrapes on the same.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "api/agent_report.h"

namespace baton::node {

class AgentMetricsBoard {
 public:
  using Clock = std::chrono::steady_clock;
  // The agent reports at least every few seconds (agent/agent_metrics.h);
  // after this long without one, baton_agent_up is 0.
  static constexpr std::chrono::seconds kStaleAfter{60};

  // Keeps `report`, received at `now`, in place of the last one.
  void accept(api::AgentReport report, Clock::time_point now);
  // Counts a report refused as malformed or unknown.
  void refused();
  // The series above for `node` at `now`.
  std::string prometheus_text(const std::string& node, Clock::time_point now) const;

 private:
  mutable std::mutex mutex_;
  std::optional<api::AgentReport> last_;
  Clock::time_point last_at_{};
  std::uint64_t accepted_ = 0;
  std::uint64_t refused_ = 0;
};

}  // namespace baton::node

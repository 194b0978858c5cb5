#include "node/agent_metrics.h"

#include <cstdio>
#include <sstream>

#include "node/metrics.h"

namespace baton::node {
namespace {

// A number as Prometheus reads it: up to 9 significant digits.
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

void AgentMetricsBoard::accept(api::AgentReport report, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  last_ = std::move(report);
  last_at_ = now;
  ++accepted_;
}

void AgentMetricsBoard::refused() {
  std::lock_guard lock(mutex_);
  ++refused_;
}

std::string AgentMetricsBoard::prometheus_text(const std::string& node,
                                               Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  const std::string node_label = "node=\"" + escape_label_value(node) + "\"";
  auto header = [&](const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  };
  // One sample; `extra` holds further labels, already escaped, each with a leading comma.
  auto sample = [&](const char* name, const std::string& extra, const std::string& value) {
    out << name << '{' << node_label << extra << "} " << value << '\n';
  };

  const double age = last_ ? std::chrono::duration<double>(now - last_at_).count() : 0.0;
  const bool up = last_ && now - last_at_ <= kStaleAfter;
  header("baton_agent_up", "gauge",
         "1 while this node's partner agent reported in the last minute.");
  sample("baton_agent_up", "", up ? "1" : "0");
  header("baton_agent_reports_total", "counter",
         "Reports of its own metrics the partner agent sent since batond started.");
  sample("baton_agent_reports_total", "", std::to_string(accepted_));
  header("baton_agent_reports_refused_total", "counter",
         "Agent reports refused as malformed (unknown names, bad values, too large).");
  sample("baton_agent_reports_refused_total", "", std::to_string(refused_));
  if (!last_) return out.str();
  const api::AgentReport& r = *last_;
  header("baton_agent_report_age_seconds", "gauge",
         "Seconds since the partner agent's last report.");
  sample("baton_agent_report_age_seconds", "", number(age));

  if (r.activity) {
    header("baton_agent_state", "gauge", "1 for what the partner agent is doing now.");
    for (std::size_t i = 0; i < api::kAgentActivities.size(); ++i) {
      sample("baton_agent_state", ",activity=\"" + std::string(api::kAgentActivities[i]) + "\"",
             static_cast<std::size_t>(*r.activity) == i ? "1" : "0");
    }
  }
  const std::string run_label = ",run=\"" + escape_label_value(r.run) + "\"";
  if (!r.run.empty() && r.turn) {
    header("baton_agent_turn", "gauge",
           "The turn (federated: round) of the run the partner agent works or last worked on.");
    sample("baton_agent_turn", run_label, std::to_string(*r.turn));
  }
  bool any_last = false;
  for (const api::AgentStepFigures& s : r.steps) any_last = any_last || s.last_s.has_value();
  if (any_last) {
    header("baton_agent_step_seconds", "gauge",
           "Seconds each step of the partner agent's work took the last time it ran.");
    for (std::size_t i = 0; i < api::kAgentSteps.size(); ++i) {
      if (!r.steps[i].last_s) continue;
      sample("baton_agent_step_seconds",
             run_label + ",step=\"" + std::string(api::kAgentSteps[i]) + "\"",
             number(*r.steps[i].last_s));
    }
  }
  header("baton_agent_steps_total", "counter",
         "Times each step of the partner agent's work ran since the agent started.");
  for (std::size_t i = 0; i < api::kAgentSteps.size(); ++i) {
    sample("baton_agent_steps_total", ",step=\"" + std::string(api::kAgentSteps[i]) + "\"",
           std::to_string(r.steps[i].count));
  }
  header("baton_agent_step_seconds_total", "counter",
         "Seconds each step of the partner agent's work took since the agent started, summed.");
  for (std::size_t i = 0; i < api::kAgentSteps.size(); ++i) {
    sample("baton_agent_step_seconds_total", ",step=\"" + std::string(api::kAgentSteps[i]) + "\"",
           number(r.steps[i].total_s));
  }
  if (r.auc_candidate || r.auc_head) {
    header("baton_agent_last_auc", "gauge",
           "AUCs of the partner agent's last local evaluation: the candidate's and the head's.");
    if (r.auc_candidate)
      sample("baton_agent_last_auc", run_label + ",model=\"candidate\"", number(*r.auc_candidate));
    if (r.auc_head)
      sample("baton_agent_last_auc", run_label + ",model=\"head\"", number(*r.auc_head));
  }
  header("baton_agent_errors_total", "counter",
         "Failures of the partner agent by kind since the agent started.");
  for (std::size_t i = 0; i < api::kAgentErrorKinds.size(); ++i) {
    sample("baton_agent_errors_total", ",kind=\"" + std::string(api::kAgentErrorKinds[i]) + "\"",
           std::to_string(r.errors[i]));
  }
  return out.str();
}

}  // namespace baton::node

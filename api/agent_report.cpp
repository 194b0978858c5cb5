#include "api/agent_report.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "chain/genesis.h"

namespace baton::api {
namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxInteger = std::uint64_t{1} << 53;  // exact in a JSON number

template <std::size_t N>
std::optional<std::size_t> index_of(const std::array<std::string_view, N>& names,
                                    std::string_view name) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == name) return i;
  return std::nullopt;
}

// `key`'s value as a count (an integer in [0, 2^53]).
Result<std::uint64_t> count_value(const std::string& key, const json& v) {
  if (v.is_number_unsigned() && v.get<std::uint64_t>() <= kMaxInteger)
    return v.get<std::uint64_t>();
  return make_error("\"" + key + "\" must be an integer from 0 to 2^53");
}

// `key`'s value as a number in [0, max].
Result<double> number_value(const std::string& key, const json& v, double max) {
  if (v.is_number()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d >= 0 && d <= max) return d;
  }
  return make_error("\"" + key + "\" must be a finite number from 0 to " + json(max).dump());
}

}  // namespace

std::string agent_report_json(const AgentReport& report) {
  json j = json::object();
  if (report.activity)
    j["activity"] = std::string(kAgentActivities[static_cast<std::size_t>(*report.activity)]);
  if (!report.run.empty()) j["run"] = report.run;
  if (report.turn) j["turn"] = *report.turn;
  for (std::size_t i = 0; i < kAgentSteps.size(); ++i) {
    const AgentStepFigures& s = report.steps[i];
    const std::string name(kAgentSteps[i]);
    if (s.last_s) j["step_seconds." + name] = *s.last_s;
    if (s.count > 0 || s.total_s > 0) {
      j["steps_total." + name] = s.count;
      j["step_seconds_total." + name] = s.total_s;
    }
  }
  if (report.auc_candidate) j["last_auc.candidate"] = *report.auc_candidate;
  if (report.auc_head) j["last_auc.head"] = *report.auc_head;
  for (std::size_t i = 0; i < kAgentErrorKinds.size(); ++i)
    if (report.errors[i] > 0)
      j["errors_total." + std::string(kAgentErrorKinds[i])] = report.errors[i];
  return j.dump();
}

Result<AgentReport> parse_agent_report(std::string_view body) {
  if (body.size() > kMaxAgentReportBytes) {
    return make_error("an agent report has at most " + std::to_string(kMaxAgentReportBytes) +
                      " bytes; this one has " + std::to_string(body.size()));
  }
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error("an agent report is one JSON object (api/agent_report.h)");
  AgentReport out;
  for (const auto& [key, v] : j.items()) {
    if (key == "activity") {
      const auto i =
          v.is_string() ? index_of(kAgentActivities, v.get<std::string>()) : std::nullopt;
      if (!i)
        return make_error(
            "\"activity\" must be one of idle, training, voting, measuring, "
            "sharing, unmasking, aggregating");
      out.activity = static_cast<AgentActivity>(*i);
      continue;
    }
    if (key == "run") {
      if (!v.is_string() || !chain::validate_chain_id(v.get<std::string>()))
        return make_error("\"run\" must be a run id (1 to 64 letters, digits, '.', '_', '-')");
      out.run = v.get<std::string>();
      continue;
    }
    if (key == "turn") {
      auto n = count_value(key, v);
      if (!n) return n.error();
      out.turn = *n;
      continue;
    }
    const auto dot = key.find('.');
    const std::string family = key.substr(0, dot);
    const std::string_view label =
        dot == std::string::npos ? std::string_view{} : std::string_view(key).substr(dot + 1);
    if (family == "step_seconds" || family == "steps_total" || family == "step_seconds_total") {
      const auto i = index_of(kAgentSteps, label);
      if (!i)
        return make_error("unknown step in \"" + key.substr(0, 64) + "\" (api/agent_report.h)");
      AgentStepFigures& s = out.steps[*i];
      if (family == "steps_total") {
        auto n = count_value(key, v);
        if (!n) return n.error();
        s.count = *n;
      } else {
        auto d = number_value(key, v, kMaxAgentSeconds);
        if (!d) return d.error();
        if (family == "step_seconds")
          s.last_s = *d;
        else
          s.total_s = *d;
      }
    } else if (family == "last_auc" && (label == "candidate" || label == "head")) {
      auto d = number_value(key, v, 1.0);
      if (!d) return d.error();
      (label == "candidate" ? out.auc_candidate : out.auc_head) = *d;
    } else if (family == "errors_total" && index_of(kAgentErrorKinds, label)) {
      auto n = count_value(key, v);
      if (!n) return n.error();
      out.errors[*index_of(kAgentErrorKinds, label)] = *n;
    } else {
      return make_error("unknown name \"" + key.substr(0, 64) +
                        "\" in the agent report (api/agent_report.h lists them)");
    }
  }
  return out;
}

}  // namespace baton::api

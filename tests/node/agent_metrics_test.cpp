// The partner agent's report (api/agent_report.h) and its series in GET
// /metrics (node/agent_metrics.h): what a report may say, what is refused
// whole, and how the kept report renders. The endpoint itself (token, sizes)
// is in admin_api_test.cpp; a real agent's report after a real run is in
// tests/integration/training_test.cpp.
#include "node/agent_metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace baton::node {
namespace {

using namespace std::chrono_literals;
using api::AgentActivity;
using api::AgentErrorKind;
using api::AgentReport;
using api::AgentStep;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

std::size_t step(AgentStep s) { return static_cast<std::size_t>(s); }

AgentReport training_report() {
  AgentReport r;
  r.activity = AgentActivity::training;
  r.run = "study-1";
  r.turn = 4;
  r.steps[step(AgentStep::train)] = {2.5, 3, 7.25};
  r.steps[step(AgentStep::vote)] = {0.75, 2, 1.5};
  r.auc_candidate = 0.912345;
  r.auc_head = 0.9;
  r.errors[static_cast<std::size_t>(AgentErrorKind::store)] = 2;
  return r;
}

std::string refusal(const std::string& body) {
  auto r = api::parse_agent_report(body);
  return r ? "" : r.error().message;
}

TEST(AgentReport, RoundTripsThroughItsJson) {
  const AgentReport r = training_report();
  auto back = api::parse_agent_report(api::agent_report_json(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, r);
  // Every name may be left out.
  auto empty = api::parse_agent_report("{}");
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, AgentReport{});
}

TEST(AgentReport, RefusesWholeAnythingButKnownNamesWithFiniteNonNegativeValues) {
  // The hostile agent's attempts, each refused with a reason.
  const std::string big = "{\"run\":\"" + std::string(api::kMaxAgentReportBytes, 'a') + "\"}";
  EXPECT_NE(refusal(big).find("at most"), std::string::npos);
  EXPECT_NE(refusal("[1,2]"), "");
  EXPECT_NE(refusal("not json"), "");
  EXPECT_NE(refusal("{\"node\":\"hospital-b\"}").find("unknown name"), std::string::npos)
      << "an agent cannot name another node";
  EXPECT_NE(refusal("{\"step_seconds.mine\":1}").find("unknown step"), std::string::npos);
  EXPECT_NE(refusal("{\"cpu_seconds\":1}").find("unknown name"), std::string::npos);
  EXPECT_NE(refusal("{\"last_auc.best\":0.5}").find("unknown name"), std::string::npos);
  EXPECT_NE(refusal("{\"errors_total.oops\":1}").find("unknown name"), std::string::npos);
  EXPECT_NE(refusal("{\"step_seconds.train\":-1}"), "");
  EXPECT_NE(refusal("{\"step_seconds.train\":NaN}"), "");    // not JSON
  EXPECT_NE(refusal("{\"step_seconds.train\":1e400}"), "");  // not finite
  EXPECT_NE(refusal("{\"step_seconds.train\":1e12}"), "");   // beyond kMaxAgentSeconds
  EXPECT_NE(refusal("{\"step_seconds.train\":\"1\"}"), "");  // a string
  EXPECT_NE(refusal("{\"steps_total.train\":1.5}"), "");     // a count is an integer
  EXPECT_NE(refusal("{\"steps_total.train\":-3}"), "");
  EXPECT_NE(refusal("{\"steps_total.train\":9007199254740993}"), "");  // 2^53 + 1
  EXPECT_NE(refusal("{\"turn\":-1}"), "");
  EXPECT_NE(refusal("{\"last_auc.candidate\":1.01}"), "");
  EXPECT_NE(refusal("{\"activity\":\"mining\"}"), "");
  EXPECT_NE(refusal("{\"run\":\"a\\\"} 1\\nbaton_height{x=\\\"\"}"), "")
      << "a run id is a run id, not label syntax";
  EXPECT_NE(refusal("{\"run\":\"\"}"), "");
  EXPECT_NE(refusal("{\"run\":7}"), "");
  // At the bounds: taken.
  EXPECT_EQ(refusal("{\"steps_total.train\":9007199254740992,\"last_auc.head\":1,"
                    "\"step_seconds.fetch\":0,\"run\":\"" +
                    std::string(64, 'r') + "\"}"),
            "");
}

TEST(AgentMetricsBoard, BeforeAnyReportTheAgentIsDownWithNoAge) {
  AgentMetricsBoard board;
  const std::string text = board.prometheus_text("hospital-a", AgentMetricsBoard::Clock::now());
  EXPECT_TRUE(has_line(text, "baton_agent_up{node=\"hospital-a\"} 0")) << text;
  EXPECT_TRUE(has_line(text, "baton_agent_reports_total{node=\"hospital-a\"} 0"));
  EXPECT_EQ(text.find("baton_agent_report_age_seconds"), std::string::npos);
  EXPECT_EQ(text.find("baton_agent_steps_total"), std::string::npos);
}

TEST(AgentMetricsBoard, RendersTheLastReportUnderThisNodesName) {
  AgentMetricsBoard board;
  const auto t0 = AgentMetricsBoard::Clock::now();
  board.accept(training_report(), t0);
  board.refused();
  const std::string text = board.prometheus_text("hospital-a", t0 + 5s);
  for (const char* line : {
           "baton_agent_up{node=\"hospital-a\"} 1",
           "baton_agent_report_age_seconds{node=\"hospital-a\"} 5",
           "baton_agent_reports_total{node=\"hospital-a\"} 1",
           "baton_agent_reports_refused_total{node=\"hospital-a\"} 1",
           "baton_agent_state{node=\"hospital-a\",activity=\"training\"} 1",
           "baton_agent_state{node=\"hospital-a\",activity=\"idle\"} 0",
           "baton_agent_turn{node=\"hospital-a\",run=\"study-1\"} 4",
           "baton_agent_step_seconds{node=\"hospital-a\",run=\"study-1\",step=\"train\"} 2.5",
           "baton_agent_step_seconds{node=\"hospital-a\",run=\"study-1\",step=\"vote\"} 0.75",
           "baton_agent_steps_total{node=\"hospital-a\",step=\"train\"} 3",
           "baton_agent_steps_total{node=\"hospital-a\",step=\"fetch\"} 0",
           "baton_agent_step_seconds_total{node=\"hospital-a\",step=\"train\"} 7.25",
           "baton_agent_last_auc{node=\"hospital-a\",run=\"study-1\",model=\"candidate\"} 0.912345",
           "baton_agent_last_auc{node=\"hospital-a\",run=\"study-1\",model=\"head\"} 0.9",
           "baton_agent_errors_total{node=\"hospital-a\",kind=\"store\"} 2",
           "baton_agent_errors_total{node=\"hospital-a\",kind=\"report\"} 0",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
  }
  // A step that never ran has no last time.
  EXPECT_EQ(
      text.find("baton_agent_step_seconds{node=\"hospital-a\",run=\"study-1\",step=\"fetch\"}"),
      std::string::npos);
  // Each series has its HELP and TYPE once.
  EXPECT_NE(text.find("# TYPE baton_agent_steps_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE baton_agent_step_seconds gauge\n"), std::string::npos);
}

TEST(AgentMetricsBoard, AnAgentThatStopsReportingGoesDown) {
  AgentMetricsBoard board;
  const auto t0 = AgentMetricsBoard::Clock::now();
  board.accept(training_report(), t0);
  const std::string stale =
      board.prometheus_text("hospital-a", t0 + AgentMetricsBoard::kStaleAfter + 1s);
  EXPECT_TRUE(has_line(stale, "baton_agent_up{node=\"hospital-a\"} 0")) << stale;
  EXPECT_TRUE(has_line(stale, "baton_agent_report_age_seconds{node=\"hospital-a\"} 61")) << stale;
  // A new report brings it back, and replaces the last one whole.
  AgentReport idle;
  idle.activity = AgentActivity::idle;
  board.accept(idle, t0 + 70s);
  const std::string back = board.prometheus_text("hospital-a", t0 + 71s);
  EXPECT_TRUE(has_line(back, "baton_agent_up{node=\"hospital-a\"} 1"));
  EXPECT_TRUE(has_line(back, "baton_agent_state{node=\"hospital-a\",activity=\"idle\"} 1"));
  EXPECT_EQ(back.find("baton_agent_last_auc"), std::string::npos);
  EXPECT_EQ(back.find("baton_agent_turn{"), std::string::npos);
}

TEST(AgentMetricsBoard, EscapesLabelValues) {
  AgentMetricsBoard board;
  AgentReport r = training_report();
  r.run = "a\"b\\c\nd";  // parse_agent_report refuses it; the renderer escapes anyway
  board.accept(r, AgentMetricsBoard::Clock::now());
  const std::string text = board.prometheus_text("hospital-a", AgentMetricsBoard::Clock::now());
  EXPECT_TRUE(has_line(text, "baton_agent_turn{node=\"hospital-a\",run=\"a\\\"b\\\\c\\nd\"} 4"))
      << text;
}

}  // namespace
}  // namespace baton::node

// The agent's metrics of its own work (agent/agent_metrics.h): what the
// recorder keeps, and the reporter that sends it to the node from its own
// thread: after a change, while nothing changes (a heartbeat), and on
// through a node that refuses or does not answer. The node's side is in
// tests/node/agent_metrics_test.cpp; a real agent after a real run in
// tests/integration/training_test.cpp.
#include "agent/agent_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <mutex>
#include <vector>

#include <spdlog/sinks/null_sink.h>

#include "tests/support/test_support.h"

namespace baton::agent {
namespace {

using namespace std::chrono_literals;
using api::AgentActivity;
using api::AgentStep;

std::size_t index(AgentStep s) { return static_cast<std::size_t>(s); }
std::size_t index(api::AgentErrorKind k) { return static_cast<std::size_t>(k); }

std::shared_ptr<spdlog::logger> quiet_log() {
  return std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
}

TEST(AgentMetrics, KeepsTheLastTimeCountAndSumOfEachStep) {
  AgentMetrics m;
  EXPECT_EQ(m.report().activity, AgentActivity::idle);
  const std::uint64_t v0 = m.version();
  m.at("study-1", 3);
  m.step(AgentStep::train, 2.0);
  m.step(AgentStep::train, 0.5);
  m.step(AgentStep::fetch, std::numeric_limits<double>::quiet_NaN());  // taken as 0
  m.step(AgentStep::open, -4);                                         // taken as 0
  m.evaluated(0.8, 0.75);
  m.error(api::AgentErrorKind::store);
  const api::AgentReport r = m.report();
  EXPECT_GT(m.version(), v0);
  EXPECT_EQ(r.run, "study-1");
  EXPECT_EQ(r.turn, 3u);
  EXPECT_EQ(r.steps[index(AgentStep::train)].last_s, 0.5);
  EXPECT_EQ(r.steps[index(AgentStep::train)].count, 2u);
  EXPECT_EQ(r.steps[index(AgentStep::train)].total_s, 2.5);
  EXPECT_EQ(r.steps[index(AgentStep::fetch)].last_s, 0.0);
  EXPECT_EQ(r.steps[index(AgentStep::open)].last_s, 0.0);
  EXPECT_FALSE(r.steps[index(AgentStep::vote)].last_s);
  EXPECT_EQ(r.auc_candidate, 0.8);
  EXPECT_EQ(r.auc_head, 0.75);
  EXPECT_EQ(r.errors[index(api::AgentErrorKind::store)], 1u);
  // Whatever it recorded, the node takes it.
  EXPECT_TRUE(api::parse_agent_report(api::agent_report_json(r)));

  // The same run and turn again is no change; a working scope sets its
  // activity and leaves the agent idle.
  const std::uint64_t v1 = m.version();
  m.at("study-1", 3);
  EXPECT_EQ(m.version(), v1);
  {
    AgentMetrics::Working w(m, AgentActivity::voting);
    EXPECT_EQ(m.report().activity, AgentActivity::voting);
  }
  EXPECT_EQ(m.report().activity, AgentActivity::idle);
  // A report the node did not take is counted, not a change to report.
  const std::uint64_t v2 = m.version();
  m.report_failed();
  EXPECT_EQ(m.version(), v2);
  EXPECT_EQ(m.report().errors[index(api::AgentErrorKind::report)], 1u);
}

// What a fake node was sent; it refuses (or does not answer) while `refuse`.
struct FakeNode {
  std::mutex mutex;
  std::vector<std::string> bodies;
  bool refuse = false;

  Status take(const std::string& body) {
    std::lock_guard lock(mutex);
    bodies.push_back(body);
    if (refuse) return make_error("the node did not answer");
    return {};
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return bodies.size();
  }
  std::string last() {
    std::lock_guard lock(mutex);
    return bodies.empty() ? "" : bodies.back();
  }
};

TEST(AgentMetricsReporter, SendsChangesAndHeartbeatsAndGoesOnThroughARefusingNode) {
  AgentMetrics m;
  FakeNode node;
  AgentMetricsReporter::Options o;
  o.min_interval = 20ms;
  o.heartbeat = 100ms;
  AgentMetricsReporter reporter(
      m, [&](const std::string& body) { return node.take(body); }, quiet_log(), o);
  // The first report at once, and heartbeats with nothing changed.
  ASSERT_TRUE(testing::wait_until([&] { return node.count() >= 3; }, 10s));
  m.step(AgentStep::vote, 1.25);
  ASSERT_TRUE(testing::wait_until(
      [&] {
        auto r = api::parse_agent_report(node.last());
        return r && r->steps[index(AgentStep::vote)].count == 1;
      },
      10s))
      << node.last();
  // A node that refuses: the reporter goes on, and counts the failures in
  // the report that gets through.
  {
    std::lock_guard lock(node.mutex);
    node.refuse = true;
  }
  const std::size_t before = node.count();
  ASSERT_TRUE(testing::wait_until([&] { return node.count() >= before + 2; }, 10s));
  {
    std::lock_guard lock(node.mutex);
    node.refuse = false;
  }
  ASSERT_TRUE(testing::wait_until(
      [&] {
        auto r = api::parse_agent_report(node.last());
        return r && r->errors[index(api::AgentErrorKind::report)] >= 2;
      },
      10s))
      << node.last();
  reporter.stop();
  const std::size_t after_stop = node.count();
  m.step(AgentStep::train, 1);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(node.count(), after_stop) << "nothing is sent after stop()";
}

}  // namespace
}  // namespace baton::agent

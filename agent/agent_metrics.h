// The partner agent's metrics of its own work (issue 17): what it is doing,
// how long each step took, its last local AUCs and its errors, reported to
// its node (POST /agent/metrics, api/agent_report.h), which shows them in
// its GET /metrics as baton_agent_* (node/agent_metrics.h) beside the
// ledger's view of training: one endpoint per hospital to scrape.
//
// AgentMetrics is the recorder the agent's worker writes to where a step
// runs (agent_train.cpp, agent_vote.cpp, agent_round.cpp, agent.cpp);
// AgentMetricsReporter sends its report from a thread of its own, after a
// change at most every min_interval and at least every heartbeat (so that
// the node sees the agent alive while it trains for minutes). Reporting never
// blocks or fails a step: a report the node does not take is logged at debug,
// dropped and counted (errors_total.report, in the next one).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <spdlog/logger.h>

#include "api/agent_report.h"
#include "chain/result.h"

namespace baton::agent {

// Thread-safe; every call is cheap (a lock and a few numbers).
class AgentMetrics {
 public:
  // The run and turn the agent works on (a change is reported).
  void at(const std::string& run, std::uint64_t turn);
  void set_activity(api::AgentActivity activity);
  // One run of `step` that took `seconds` (negative or NaN: taken as 0).
  void step(api::AgentStep step, double seconds);
  // Its last local evaluation (a candidate not measured: head only).
  void evaluated(std::optional<double> auc_candidate, double auc_head);
  void error(api::AgentErrorKind kind);
  // A report the node did not take: counted, but not itself a change to report.
  void report_failed();

  api::AgentReport report() const;
  // Grows with every change worth reporting.
  std::uint64_t version() const { return version_.load(); }

  // Sets `activity` for as long as it lives, then idle.
  class Working {
   public:
    Working(AgentMetrics& metrics, api::AgentActivity activity) : metrics_(metrics) {
      metrics_.set_activity(activity);
    }
    ~Working() { metrics_.set_activity(api::AgentActivity::idle); }
    Working(const Working&) = delete;
    Working& operator=(const Working&) = delete;

   private:
    AgentMetrics& metrics_;
  };

 private:
  mutable std::mutex mutex_;
  api::AgentReport report_ = initial_report();
  std::atomic<std::uint64_t> version_{1};
  static api::AgentReport initial_report() {
    api::AgentReport r;
    r.activity = api::AgentActivity::idle;
    return r;
  }
};

// Sends `metrics`' report with `send` (NodeLink::report_metrics) from its
// own thread until stop().
class AgentMetricsReporter {
 public:
  using Send = std::function<Status(const std::string& body)>;
  struct Options {
    std::chrono::milliseconds min_interval{2'000};  // between two reports of changes
    std::chrono::milliseconds heartbeat{10'000};    // the longest without a report
  };
  AgentMetricsReporter(AgentMetrics& metrics, Send send, std::shared_ptr<spdlog::logger> log,
                       Options options);
  ~AgentMetricsReporter();
  // Idempotent; returns once the thread ended (a report in flight is waited
  // for: `send` must have a timeout, or be cancelled first).
  void stop();

 private:
  void run();

  AgentMetrics& metrics_;
  const Send send_;
  const std::shared_ptr<spdlog::logger> log_;
  const Options options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace baton::agent

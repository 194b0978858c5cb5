#include "agent/agent_metrics.h"

#include <algorithm>
#include <cmath>

namespace baton::agent {
namespace {

double seconds_value(double s) {
  if (!std::isfinite(s) || s < 0) return 0;
  return std::min(s, api::kMaxAgentSeconds);
}

constexpr std::uint64_t kMaxCount = std::uint64_t{1} << 53;

std::size_t index(auto e) { return static_cast<std::size_t>(e); }

}  // namespace

void AgentMetrics::at(const std::string& run, std::uint64_t turn) {
  std::lock_guard lock(mutex_);
  if (report_.run == run && report_.turn == turn) return;
  report_.run = run;
  report_.turn = turn;
  ++version_;
}

void AgentMetrics::set_activity(api::AgentActivity activity) {
  std::lock_guard lock(mutex_);
  if (report_.activity == activity) return;
  report_.activity = activity;
  ++version_;
}

void AgentMetrics::step(api::AgentStep step, double seconds) {
  const double s = seconds_value(seconds);
  std::lock_guard lock(mutex_);
  api::AgentStepFigures& f = report_.steps[index(step)];
  f.last_s = s;
  f.count = std::min(f.count + 1, kMaxCount);
  f.total_s = std::min(f.total_s + s, api::kMaxAgentSeconds);
  ++version_;
}

void AgentMetrics::evaluated(std::optional<double> auc_candidate, double auc_head) {
  auto auc = [](double a) { return std::isfinite(a) ? std::clamp(a, 0.0, 1.0) : 0.0; };
  std::lock_guard lock(mutex_);
  report_.auc_candidate = auc_candidate ? std::optional(auc(*auc_candidate)) : std::nullopt;
  report_.auc_head = auc(auc_head);
  ++version_;
}

void AgentMetrics::error(api::AgentErrorKind kind) {
  std::lock_guard lock(mutex_);
  std::uint64_t& n = report_.errors[index(kind)];
  n = std::min(n + 1, kMaxCount);
  ++version_;
}

void AgentMetrics::report_failed() {
  std::lock_guard lock(mutex_);
  std::uint64_t& n = report_.errors[index(api::AgentErrorKind::report)];
  n = std::min(n + 1, kMaxCount);
}

api::AgentReport AgentMetrics::report() const {
  std::lock_guard lock(mutex_);
  return report_;
}

AgentMetricsReporter::AgentMetricsReporter(AgentMetrics& metrics, Send send,
                                           std::shared_ptr<spdlog::logger> log, Options options)
    : metrics_(metrics), send_(std::move(send)), log_(std::move(log)), options_(options) {
  thread_ = std::thread([this] { run(); });
}

AgentMetricsReporter::~AgentMetricsReporter() { stop(); }

void AgentMetricsReporter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AgentMetricsReporter::run() {
  using Clock = std::chrono::steady_clock;
  // A change is noticed within `tick` (the worker is not made to notify).
  const auto tick = std::min(options_.min_interval, std::chrono::milliseconds(500));
  std::uint64_t sent_version = 0;
  Clock::time_point sent_at{};
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = Clock::now();
    const bool changed = metrics_.version() != sent_version;
    if ((changed && now >= sent_at + options_.min_interval) ||
        now >= sent_at + options_.heartbeat) {
      const std::uint64_t version = metrics_.version();
      const std::string body = api::agent_report_json(metrics_.report());
      lock.unlock();
      const Status sent = send_(body);
      lock.lock();
      sent_at = Clock::now();
      sent_version = version;
      if (!sent) {
        metrics_.report_failed();
        log_->debug("the node did not take the agent's metrics report: {}", sent.error().message);
      }
      continue;
    }
    wake_.wait_for(lock, tick, [this] { return stopping_; });
  }
}

}  // namespace baton::agent

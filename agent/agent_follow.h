// Follower: the running `baton-agent` (issue 12). It owns the partner agent,
// its link to the node and its own API, and one thread that follows the
// node: long-poll GET /agent/state with the last height seen (NodeLink), hand
// every newer state to PartnerAgent::on_committed; and the agent's metrics
// reporter (agent/agent_metrics.h), which sends the node its own metrics. When the node is down or
// restarting (its connection closes under the poll), it keeps polling (at
// most once a second after failures) and says so once; the agent's journal
// covers what happened meanwhile. Polls start at least poll_ms apart.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "agent/agent.h"
#include "agent/agent_api.h"
#include "agent/agent_metrics.h"
#include "agent/node_link.h"
#include "chain/genesis.h"
#include "api/config.h"
#include "api/http_server.h"
#include "storage/object_store.h"

namespace baton::agent {

// What main() prepared and checked (agent/agent_main.cpp).
struct FollowerSetup {
  api::AgentConfig config;
  AgentOptions options;
  chain::Genesis genesis;
  std::unique_ptr<storage::ObjectStore> store;
  std::vector<std::string> notes;  // worth a warning at start (a key not the genesis')
};

class Follower {
 public:
  // Reads the admin token (waiting up to a minute for batond to write it),
  // opens the agent, binds its API and starts following.
  static Result<std::unique_ptr<Follower>> start(FollowerSetup setup,
                                                 std::shared_ptr<spdlog::logger> log);
  ~Follower();
  // Idempotent; waits for the step in progress (the journal makes any point safe).
  void stop();

 private:
  Follower(api::AgentConfig config, std::shared_ptr<spdlog::logger> log)
      : config_(std::move(config)), log_(std::move(log)) {}
  void follow();
  AgentView latest() const;

  api::AgentConfig config_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<NodeLink> link_;
  std::unique_ptr<PartnerAgent> agent_;
  std::unique_ptr<AgentMetricsReporter> reporter_;  // reads agent_'s metrics: stopped first
  std::unique_ptr<AgentApi> api_;
  std::atomic<AgentApi*> api_ready_{nullptr};  // api_, once set (read by the HTTP thread)
  std::unique_ptr<api::HttpServer> http_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  mutable std::mutex latest_mutex_;
  AgentView latest_;
};

}  // namespace baton::agent

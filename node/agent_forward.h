// The /models/* requests the admin API forwards to its partner agent
// (node/admin_api.h), run off the admin HTTP server's one thread: a check or
// repair may take the agent up to kAgentTimeout, and the server must go on
// answering /status, /agent/state and the rest meanwhile.
//
// Each forward runs on a thread of its own (detached: it holds only what it
// shares with this object, so that stopping the node never waits for a slow
// agent); the request is parked (api::HttpWait) until the agent's answer is
// in, and the thread then calls the wake function (the node's
// HttpServer::wake_waiting) so that the server asks the wait again. At most
// kMaxInFlight forwards run at once; another one is refused at once with a
// 503 and a sentence, so that a client looping on /models/check cannot
// make the node spawn threads or connections without bound.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "api/http_server.h"

namespace baton::node {

// The 503's sentence when no agent announced its API or none listens there.
inline constexpr const char* kNoPartnerAgent =
    "this node keeps no models: no partner agent (baton-agent) has announced its API to it; ask "
    "a node whose hospital runs one, or the agent itself";

class AgentForwards {
 public:
  static constexpr std::size_t kMaxInFlight = 2;
  // How long a forward waits for the agent to connect and answer.
  static constexpr std::chrono::seconds kAgentTimeout{30};
  // How long the request stays parked (a little more than kAgentTimeout: the
  // forward's own sentence normally comes first).
  static constexpr std::chrono::seconds kParkedAtMost{35};

  AgentForwards();
  ~AgentForwards();  // stop()
  AgentForwards(const AgentForwards&) = delete;
  AgentForwards& operator=(const AgentForwards&) = delete;

  // `wake` is called from a forward's thread once its answer is in; it must
  // be thread-safe and quick (HttpServer::wake_waiting). Also calls it once
  // now, for answers that came in before it was set.
  void set_wake(std::function<void()> wake);

  // Sends `request` (method, target, body, content type) to the agent's API
  // at `agent_api` with `token` as its bearer token. Returns an HttpWait
  // whose `ready` gives the agent's answer (or a 503 sentence when it did
  // not answer), or a 503 HttpResponse at once when kMaxInFlight forwards
  // are in flight or this object is stopped.
  api::HttpAnswer start(const api::HttpRequest& request, const std::string& agent_api,
                        const std::string& token);

  // The forwards whose threads are still running.
  std::size_t in_flight() const;

  // No forward starts and no wake is called after this returns; forwards
  // in flight finish on their threads and their answers are dropped.
  // Idempotent.
  void stop();

 private:
  struct Shared {
    mutable std::mutex mutex;
    std::function<void()> wake;
    std::size_t in_flight = 0;
    bool stopped = false;
  };
  std::shared_ptr<Shared> shared_;
};

}  // namespace baton::node

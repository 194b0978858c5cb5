#include "node/agent_forward.h"

#include <optional>
#include <thread>
#include <utility>

#include "api/http_client.h"
#include "api/http_json.h"

namespace baton::node {
namespace {

// One forward's answer, written by its thread, read on the server's.
struct Call {
  std::mutex mutex;
  std::optional<api::HttpResponse> answer;
};

struct Forward {
  std::string agent_api;
  std::string token;
  std::string method;
  std::string target;
  std::string body;
  std::string content_type;
};

// Blocking: the agent's answer, or 503 with a sentence.
api::HttpResponse ask_agent(const Forward& f) {
  auto client = api::HttpClient::connect_to(f.agent_api, AgentForwards::kAgentTimeout);
  if (!client) return api::json_error(503, kNoPartnerAgent);
  (*client)->set_header("Authorization", "Bearer " + f.token);
  auto r = (*client)->request(f.method, f.target, f.body,
                              f.content_type.empty() ? "application/json" : f.content_type);
  if (!r) {
    return api::json_error(503, "this node's partner agent did not answer at " + f.agent_api +
                                    ": " + r.error().message + "; is baton-agent running?");
  }
  return {r->status, r->content_type.empty() ? "application/json" : r->content_type,
          std::move(r->body)};
}

}  // namespace

AgentForwards::AgentForwards() : shared_(std::make_shared<Shared>()) {}

AgentForwards::~AgentForwards() { stop(); }

void AgentForwards::set_wake(std::function<void()> wake) {
  std::lock_guard lock(shared_->mutex);
  if (shared_->stopped) return;
  shared_->wake = std::move(wake);
  if (shared_->wake) shared_->wake();
}

api::HttpAnswer AgentForwards::start(const api::HttpRequest& request, const std::string& agent_api,
                                     const std::string& token) {
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->stopped) return api::json_error(503, "the node is shutting down; retry later");
    if (shared_->in_flight >= kMaxInFlight) {
      return api::json_error(
          503, "this node already forwards " + std::to_string(kMaxInFlight) +
                   " requests to its partner agent (checks or repairs take a while); retry when "
                   "one has answered");
    }
    ++shared_->in_flight;
  }
  auto call = std::make_shared<Call>();
  Forward forward{agent_api,      token,        request.method,
                  request.target, request.body, request.content_type};
  std::thread([shared = shared_, call, forward = std::move(forward)] {
    api::HttpResponse answer = ask_agent(forward);
    {
      std::lock_guard lock(call->mutex);
      call->answer = std::move(answer);
    }
    std::lock_guard lock(shared->mutex);
    --shared->in_flight;
    if (!shared->stopped && shared->wake) shared->wake();
  }).detach();
  return api::HttpWait{
      std::chrono::duration_cast<std::chrono::milliseconds>(kParkedAtMost),
      [call]() -> std::optional<api::HttpResponse> {
        std::lock_guard lock(call->mutex);
        return std::exchange(call->answer, std::nullopt);
      },
      api::json_error(503, "this node's partner agent did not answer at " + agent_api + " within " +
                               std::to_string(kParkedAtMost.count()) +
                               " s; is baton-agent running?")};
}

std::size_t AgentForwards::in_flight() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->in_flight;
}

void AgentForwards::stop() {
  std::lock_guard lock(shared_->mutex);
  shared_->stopped = true;
  shared_->wake = nullptr;
}

}  // namespace baton::node

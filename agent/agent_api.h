// The partner agent's own HTTP API (issue 12): the model endpoints that need
// its model cache, served by `baton-agent` and reached through its node,
// which forwards them (node/admin_api.h) to the URL the agent announces.
// Listens on loopback ([agent] admin_listen); every reply is JSON.
//
//   GET  /status                {"agent","node_url","height","processed_height"}:
//                               the newest committed height the agent has
//                               seen, and the last it finished a step on.
//   GET  /models/check?run=ID   the object store's copy of the run's head (a
//                               finished run: its final model) checked against
//                               the ledger: {"run_id","run_status" (active,
//                               finished, awaiting_funding, unfunded: the
//                               ledger's RunStatus),"model":{...}|null,
//                               "store": ok|missing|wrong_size|wrong_hash|
//                               unreachable|none,"hashed","detail","node"}
//   POST /models/repair [token] body {"run": ID}: checks every approved model
//                               of the run in the store and puts back this
//                               agent's verified copies (on a thread of its
//                               own); 202 {"started":true}, 409 while one runs.
//   GET  /models/repair?run=ID [token]  {"running":true} or the last repair's
//                               result (storage/model_copies.h, repair_json)
//                               plus "node".
//
// [token]: "Authorization: Bearer TOKEN" with the node's admin token (the
// agent reads the same file), else 401.
//
// Thread: the handler runs on the HTTP server's thread; it reads the agent's
// latest view through `latest` (thread-safe) and calls the PartnerAgent's
// thread-safe checks.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/agent.h"
#include "chain/ledger_state.h"
#include "api/http_server.h"

namespace baton::agent {

// The newest (height, training state) the agent received from its node.
struct AgentView {
  std::uint64_t height = 0;
  std::shared_ptr<const chain::TrainingState> training;  // null before the first
};

class AgentApi {
 public:
  AgentApi(PartnerAgent& agent, std::string member_name, std::string node_url, std::string token,
           std::function<AgentView()> latest)
      : agent_(agent),
        member_name_(std::move(member_name)),
        node_url_(std::move(node_url)),
        token_(std::move(token)),
        latest_(std::move(latest)) {}

  api::HttpResponse handle(const api::HttpRequest& request);

 private:
  api::HttpResponse models_check(const api::HttpRequest& request);
  api::HttpResponse models_repair(const api::HttpRequest& request);
  api::HttpResponse models_repair_status(const api::HttpRequest& request);

  PartnerAgent& agent_;
  const std::string member_name_;
  const std::string node_url_;
  const std::string token_;
  std::function<AgentView()> latest_;
};

}  // namespace baton::agent

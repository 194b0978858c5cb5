#include "agent/agent_api.h"

#include <nlohmann/json.hpp>

#include "api/admin_token.h"
#include "api/http_json.h"
#include "storage/model_copies.h"

namespace baton::agent {
namespace {

using api::HttpRequest;
using api::HttpResponse;
using api::json_error;
using api::json_reply;
using api::query_value;
using nlohmann::json;

// The run `run_id` names, or (empty) the active run, else the last started.
const chain::Run* pick_run(const chain::TrainingState& ts, const std::string& run_id) {
  if (!run_id.empty()) return ts.find_run(run_id);
  if (const chain::Run* r = ts.active()) return r;
  const chain::Run* last = nullptr;
  for (const auto& [id, run] : ts.runs)
    if (last == nullptr || run.start_height >= last->start_height) last = &run;
  return last;
}

}  // namespace

HttpResponse AgentApi::handle(const HttpRequest& request) {
  const std::string_view path = api::target_path(request.target);
  const bool get = request.method == "GET";
  if (get && path == "/status") {
    const AgentView v = latest_();
    return json_reply(200, json{{"agent", member_name_},
                                {"node_url", node_url_},
                                {"height", v.height},
                                {"processed_height", agent_.processed_height()}});
  }
  if (get && path == "/models/check") return models_check(request);
  if (path == "/models/repair") {
    if (!api::bearer_matches(request.authorization, token_)) {
      return json_error(401,
                        "this endpoint needs the node's admin token (Authorization: Bearer TOKEN)");
    }
    if (request.method == "POST") return models_repair(request);
    if (get) return models_repair_status(request);
  }
  return json_error(404, "no such endpoint: " + std::string(path) +
                             " (try /status, /models/check, /models/repair)");
}

HttpResponse AgentApi::models_check(const HttpRequest& request) {
  const AgentView view = latest_();
  if (!view.training) return json_error(503, "the agent has not heard from its node yet; retry");
  const std::string run_id = query_value(request.target, "run");
  const chain::Run* run = pick_run(*view.training, run_id);
  if (run == nullptr) {
    return json_error(404, run_id.empty() ? "no training run has been started on this ledger"
                                          : "the ledger has no run \"" + run_id + "\"");
  }
  json out{{"run_id", run->plan.run_id},
           {"run_status", std::string(chain::to_string(run->status))},
           {"node", member_name_}};
  const chain::ModelRecord* head = run->head ? run->find_model(*run->head) : nullptr;
  if (head == nullptr) {
    out["model"] = nullptr;
    out["store"] = "none";
    out["hashed"] = false;
    out["detail"] = "no approved model yet: the head is the plan's initial model";
    return json_reply(200, out);
  }
  out["model"] = {{"model_id", head->id.hex()},
                  {"turn", head->turn},
                  {"object_key", head->object_key},
                  {"ciphertext_sha256", head->ciphertext_sha256.hex()}};
  const auto check = agent_.check_head_copy(*run);
  out["store"] = std::string(storage::to_string(check->state));
  out["hashed"] = check->hashed;
  out["detail"] = check->detail;
  return json_reply(200, out);
}

HttpResponse AgentApi::models_repair(const HttpRequest& request) {
  const json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("run") ||
      !body["run"].is_string()) {
    return json_error(400, "send a JSON object {\"run\": \"RUN_ID\"}");
  }
  const AgentView view = latest_();
  if (!view.training) return json_error(503, "the agent has not heard from its node yet; retry");
  const std::string run_id = body["run"].get<std::string>();
  const chain::Run* run = view.training->find_run(run_id);
  if (run == nullptr)
    return json_error(404, "the ledger has no run \"" + run_id.substr(0, 64) + "\"");
  if (!agent_.start_repair(*run)) {
    return json_error(409, "a repair is already running on this node; poll GET /models/repair");
  }
  return json_reply(202, json{{"started", true}, {"run_id", run_id}});
}

HttpResponse AgentApi::models_repair_status(const HttpRequest& request) {
  const std::string run_id = query_value(request.target, "run");
  const auto job = agent_.last_repair();
  if (!job || (!run_id.empty() && job->run_id != run_id))
    return json_error(404, "no repair of that run was started on this node");
  if (job->running) return json_reply(200, json{{"run_id", job->run_id}, {"running", true}});
  json out = storage::repair_json(job->run_id, job->models);
  out["running"] = false;
  out["node"] = member_name_;
  return json_reply(200, out);
}

}  // namespace baton::agent

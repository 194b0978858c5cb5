// `baton models repair` and the final-model check of `baton run status`
// (issue 11): the object store's copies of a run's approved models, checked
// against the ledger and put back from the nodes' own verified copies.
//
// `models repair --run R --node URL [--node URL ...]` asks each node in turn
// (POST /models/repair, then polls GET /models/repair) to check every
// approved model of R in its object store and put back the models it holds a
// verified copy of. A model is restored when any node found it right or put
// it back; the others are reported, and the exit code is then 1.
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chain/crypto.h"
#include "api/admin_token.h"
#include "api/http_client.h"
#include "storage/model_copies.h"
#include "api/training_json.h"
#include "tools/node_connect.h"
#include "storage/object_store.h"
#include "storage/s3_options.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/model_check.h"

namespace baton::tools {
namespace {

using nlohmann::json;

const json* final_model_record(const json& run) {
  const std::string head = run.value("head", "");
  if (head.empty() || !run.contains("models")) return nullptr;
  for (const auto& m : run["models"])
    if (m.value("id", "") == head) return &m;
  return nullptr;
}

json check_with_node(const std::string& url, const std::string& run_id) {
  auto client = connect_node(url, std::chrono::seconds(30));
  if (!client) return {{"store", "not_checked"}, {"detail", client.error().message}};
  auto r = (*client)->get("/models/check?run=" + run_id);
  if (!r)
    return {{"store", "unreachable"}, {"detail", "the node did not answer: " + r.error().message}};
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return {{"store", "not_checked"},
            {"detail", "the node answered HTTP " + std::to_string(r->status)}};
  if (r->status != 200) {
    return {{"store", "not_checked"},
            {"detail", "the node did not check it: " +
                           j.value("error", std::string("HTTP ") + std::to_string(r->status))}};
  }
  return {{"store", j.value("store", "not_checked")}, {"detail", j.value("detail", "")}};
}

json check_with_store(const ModelCheckSource& source, const json& model) {
  storage::S3Options base;
  base.endpoint = source.endpoint;
  auto options = base;
  if (source.store_uri.rfind("s3://", 0) == 0) {
    auto resolved = storage::resolve_s3_options(base, storage::process_environment());
    if (!resolved) return {{"store", "not_checked"}, {"detail", resolved.error().message}};
    options = *resolved;
  }
  auto store = storage::open_object_store(source.store_uri, options);
  if (!store) return {{"store", "not_checked"}, {"detail", store.error().message}};
  auto hash = chain::Hash::from_hex(model.value("ciphertext_sha256", ""));
  if (!hash) return {{"store", "not_checked"}, {"detail", "the ledger's hash is not readable"}};
  storage::CopyCheckOptions o;
  o.work_dir = std::filesystem::temp_directory_path();
  const storage::CopyCheck c =
      storage::check_copy(**store, model.value("object_key", ""), *hash, o);
  return {{"store", std::string(storage::to_string(c.state))}, {"detail", c.detail}};
}

}  // namespace

json check_final_model(const json& run, const ModelCheckSource& source) {
  const json* model = final_model_record(run);
  if (model == nullptr) {
    return {{"model_id", ""},
            {"object_key", ""},
            {"ciphertext_sha256", ""},
            {"store", "none"},
            {"detail", "no approved model: the final model is the plan's initial model"}};
  }
  json out{{"model_id", (*model)["id"]},
           {"object_key", (*model)["object_key"]},
           {"ciphertext_sha256", (*model)["ciphertext_sha256"]}};
  json check;
  if (!source.node_url.empty()) {
    check = check_with_node(source.node_url, run.value("run_id", ""));
  } else if (!source.store_uri.empty()) {
    check = check_with_store(source, *model);
  } else {
    check = {{"store", "not_checked"},
             {"detail", "give --store URI (or ask a node with --node URL) to check it"}};
  }
  out["store"] = check["store"];
  out["detail"] = check["detail"];
  return out;
}

std::string final_model_problem(const json& final_model, const std::string& run_id) {
  const std::string state = final_model.value("store", "not_checked");
  const std::string repair = ": run `baton models repair --run " + run_id + "`";
  if (state == "ok" || state == "none") return {};
  if (state == "missing") return "final model missing from the store" + repair;
  if (state == "wrong_hash" || state == "wrong_size")
    return "final model in the store is not the ledger's (" + state + ")" + repair;
  if (state == "unreachable") return "final model not verified: the store could not be read";
  return "final model not verified (" + final_model.value("detail", std::string("not checked")) +
         ")";
}

namespace {

struct RepairOptions {
  std::string run_id;
  std::vector<std::string> nodes;
  std::string token_file;  // empty: the one a loopback node names (see admin_token_for)
  int timeout_s = 600;
  bool json = false;
};

// The admin token for the node at `url` (api/admin_token.h): --token-file
// when given, else the file the node names in its 401 reply, "beside its
// config", which is read only when the node is on loopback (a remote server
// must not make the CLI send it a local file) and only when it passes
// read_admin_token's checks (mode 0600, the token format).
Result<std::string> admin_token_for(const std::string& url, const std::string& token_file,
                                    const api::HttpReply& unauthorized) {
  if (!token_file.empty()) return api::read_admin_token(token_file);
  const json j = json::parse(unauthorized.body, nullptr, false);
  auto parsed = api::parse_http_url(url);
  if (!parsed || !api::is_loopback_host(parsed->host) || !j.is_object() ||
      !j.contains("token_file") || !j["token_file"].is_string()) {
    return make_error("the node at " + url +
                      " wants its admin token: pass --token-file with its admin.token");
  }
  const std::filesystem::path path = j["token_file"].get<std::string>();
  if (path.filename() != api::kAdminTokenFileName) {
    return make_error("the node at " + url + " names " + path.string() +
                      " as its token file, which is not an admin.token; pass --token-file");
  }
  return api::read_admin_token(path);
}

// One node's repair of the run: its result (repair_json) or {"error": ...}.
json repair_on_node(const std::string& url, const RepairOptions& o) {
  auto client = connect_node(url, std::chrono::seconds(30));
  if (!client) return {{"error", client.error().message}, {"unreachable", false}};
  if (!o.token_file.empty()) {
    auto token = api::read_admin_token(o.token_file);
    if (!token) return {{"error", token.error().message}, {"unreachable", false}};
    (*client)->set_header("Authorization", "Bearer " + *token);
  }
  auto r = (*client)->request("POST", "/models/repair", json{{"run", o.run_id}}.dump(),
                              "application/json");
  if (r && r->status == 401 && o.token_file.empty()) {
    auto token = admin_token_for(url, o.token_file, *r);
    if (!token) return {{"error", token.error().message}, {"unreachable", false}};
    (*client)->set_header("Authorization", "Bearer " + *token);
    r = (*client)->request("POST", "/models/repair", json{{"run", o.run_id}}.dump(),
                           "application/json");
  }
  if (!r)
    return {{"error", "the node did not answer: " + r.error().message}, {"unreachable", true}};
  if (r->status != 202 && r->status != 409) {
    json j = json::parse(r->body, nullptr, false);
    const std::string why = !j.is_discarded() && j.is_object() && j.contains("error")
                                ? j["error"].get<std::string>()
                                : "HTTP " + std::to_string(r->status);
    return {{"error", why}, {"unreachable", false}};
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
  for (;;) {
    auto s = (*client)->get("/models/repair?run=" + o.run_id);
    if (!s)
      return {{"error", "the node stopped answering: " + s.error().message}, {"unreachable", true}};
    json j = json::parse(s->body, nullptr, false);
    if (s->status != 200 || j.is_discarded() || !j.is_object())
      return {{"error", "the node answered HTTP " + std::to_string(s->status)},
              {"unreachable", false}};
    if (!j.value("running", false)) return j;
    if (std::chrono::steady_clock::now() > deadline) {
      return {{"error", "the node's repair did not finish within " + std::to_string(o.timeout_s) +
                            " s; it goes on: run the command again later"},
              {"unreachable", false}};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void repair(const RepairOptions& o) {
  std::vector<std::string> urls = o.nodes;
  if (urls.empty()) urls.push_back("http://127.0.0.1:26680");
  // Per model (by key): the first node's view, then what each node did.
  std::vector<std::string> order;
  std::map<std::string, json> models;
  json nodes = json::array();
  std::size_t answered = 0;
  for (const auto& url : urls) {
    const json r = repair_on_node(url, o);
    if (r.contains("error")) {
      nodes.push_back(
          {{"url", url}, {"error", r["error"]}, {"unreachable", r.value("unreachable", false)}});
      continue;
    }
    ++answered;
    const std::string name = r.value("node", url);
    nodes.push_back({{"url", url}, {"node", name}});
    for (const auto& m : r["models"]) {
      const std::string key = m.value("object_key", "");
      auto [it, fresh] = models.try_emplace(key);
      json& entry = it->second;
      if (fresh) {
        order.push_back(key);
        entry = {{"model_id", m["model_id"]},
                 {"turn", m["turn"]},
                 {"contributor", m["contributor"]},
                 {"object_key", key},
                 {"ciphertext_sha256", m["ciphertext_sha256"]},
                 {"before", m["before"]},
                 {"status", "unrestored"},
                 {"restored_by", nullptr},
                 {"nodes", json::object()}};
      }
      const std::string outcome = m.value("outcome", "");
      entry["nodes"][name] = {{"outcome", outcome}, {"detail", m.value("detail", "")}};
      if (entry["status"] == "unrestored") {
        if (outcome == "restored") {
          entry["status"] = "restored";
          entry["restored_by"] = name;
        } else if (outcome == "ok") {
          entry["status"] = entry["before"] == "ok" ? "ok" : "restored";
        }
      }
    }
  }
  if (answered == 0) {
    bool all_unreachable = true;
    for (const auto& n : nodes) all_unreachable = all_unreachable && n.value("unreachable", false);
    fail("no node carried out the repair: " + nodes[0]["error"].get<std::string>(),
         all_unreachable ? Exit::unavailable : Exit::failure);
  }
  json list = json::array();
  std::size_t unrestored = 0;
  for (const auto& key : order) {
    if (models[key]["status"] == "unrestored") ++unrestored;
    list.push_back(models[key]);
  }
  const json out{
      {"run_id", o.run_id}, {"nodes", nodes}, {"models", list}, {"unrestored", unrestored}};
  if (o.json) {
    print_json(out);
  } else {
    std::cout << "run " << o.run_id << ": " << list.size() << " approved models, checked by "
              << answered << " of " << urls.size() << " nodes\n";
    for (const auto& n : nodes)
      if (n.contains("error"))
        std::cout << "  node " << n["url"].get<std::string>()
                  << " did not repair: " << n["error"].get<std::string>() << "\n";
    for (const auto& m : list) {
      const std::string status = m["status"];
      std::cout << "  turn " << m["turn"].get<std::uint64_t>() << " "
                << m["contributor"].get<std::string>() << "  " << m["object_key"].get<std::string>()
                << "  ";
      if (status == "ok") {
        std::cout << "ok\n";
      } else if (status == "restored") {
        std::cout << "restored"
                  << (m["restored_by"].is_string() ? " by " + m["restored_by"].get<std::string>()
                                                   : std::string())
                  << " (was " << m["before"].get<std::string>() << ")\n";
      } else {
        std::cout << "NOT RESTORED (" << m["before"].get<std::string>() << ")";
        for (const auto& [node, r] : m["nodes"].items())
          std::cout << "\n      " << node << ": " << r["outcome"].get<std::string>()
                    << (r["detail"].get<std::string>().empty()
                            ? std::string()
                            : " (" + r["detail"].get<std::string>() + ")");
        std::cout << "\n";
      }
    }
  }
  if (unrestored > 0) {
    fail(std::to_string(unrestored) + " of " + std::to_string(list.size()) +
             " approved models of run " + o.run_id +
             " could not be restored: no node asked holds a verified copy; ask the other "
             "hospitals to run `baton models repair --run " +
             o.run_id + "` against their nodes",
         Exit::failure);
  }
}

}  // namespace

void register_models_repair_command(CLI::App& models) {
  auto o = std::make_shared<RepairOptions>();
  auto* sub = models.add_subcommand(
      "repair",
      "Check every approved model of a run in the object store and put back the nodes' verified "
      "copies of those missing or damaged");
  sub->add_option("--run", o->run_id, "run id")->required();
  sub->add_option("--node", o->nodes,
                  "a node's admin API URL (repeat for several nodes; default "
                  "http://127.0.0.1:26680)");
  sub->add_option("--token-file", o->token_file,
                  "the node's admin.token (default: the one a node on loopback names, beside "
                  "its node.toml; none is needed over unix:/PATH)");
  add_node_cert_option(sub);
  sub->add_option("--timeout", o->timeout_s, "seconds to wait for each node's repair")
      ->capture_default_str()
      ->check(CLI::Range(1, 24 * 3600));
  sub->add_flag("--json", o->json, "print JSON for scripts");
  sub->callback([o] { repair(*o); });
}

}  // namespace baton::tools

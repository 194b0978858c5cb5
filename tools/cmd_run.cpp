// `baton run start|status` and `baton models lineage`: the training protocol
// from the command line. The read side replays a ledger (read-only, also while
// a node writes it) with chain/ and prints the training state
// (docs/PROTOCOL.md §18); `run start` signs a StartRun and submits it to a
// node's admin API.
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "chain/keys.h"
#include "chain/protocol.h"
#include "chain/transaction.h"
#include "node/http_client.h"
#include "storage/ledger_store.h"
#include "storage/ledger_verify.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace baton::tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string opt_hex(const std::optional<chain::Hash>& h) { return h ? h->hex() : std::string(); }

// The state after the ledger's tip, replayed and verified from genesis.
chain::LedgerState replay(const std::string& data_dir) {
  const fs::path dir(data_dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    fail("--data-dir " + data_dir + " is not a directory; give a ledger or node data directory");
  const bool node_dir =
      !fs::exists(dir / "CURRENT", ec) && fs::exists(dir / "ledger" / "CURRENT", ec);
  auto store = storage::LedgerStore::open_reader(node_dir ? dir / "ledger" : dir);
  if (!store) fail(store.error().message);
  auto spec = storage::stored_chain_spec(**store);
  if (!spec)
    fail("the ledger in " + data_dir + " has no valid genesis copy: " + spec.reason().what,
         Exit::verify_failed);
  auto verdict = storage::verify_ledger(**store, *spec);
  if (!verdict) fail(verdict.error().message);
  if (!verdict->ok()) {
    fail("the ledger in " + data_dir + " does not verify at height " +
             std::to_string(verdict->reason().height) + ": " + verdict->reason().what +
             "; run `baton ledger verify` for details",
         Exit::verify_failed);
  }
  return verdict->value().state;
}

json turn_json(const chain::Turn& t) {
  json votes = json::array();
  for (const auto& [name, v] : t.model_votes) {
    votes.push_back({{"voter", name},
                     {"approve", v.approve},
                     {"auc_candidate_ppm", v.auc_candidate_ppm},
                     {"auc_head_ppm", v.auc_head_ppm},
                     {"validation_size", v.validation_size},
                     {"p_worse_ppm", v.p_worse_ppm},
                     {"reason", v.reason},
                     {"height", v.height}});
  }
  json approvals = json::array();
  for (const auto& [name, a] : t.load_approvals) {
    approvals.push_back(
        {{"voter", name}, {"approve", a.approve}, {"reason", a.reason}, {"height", a.height}});
  }
  json j{{"turn", t.index},
         {"cycle", t.cycle},
         {"partner", t.partner},
         {"phase", chain::to_string(t.phase)},
         {"decision", t.outcome == chain::TurnOutcome::pending
                          ? "pending"
                          : std::string(chain::to_string(t.outcome))},
         {"start_height", t.start_height},
         {"deadline_height", t.deadline_height},
         {"end_height", t.end_height},
         {"load_request_id", opt_hex(t.load_request_id)},
         {"load_token_id", opt_hex(t.load_token_id)},
         {"load_approvals", approvals},
         {"save_request_id", opt_hex(t.save_request_id)},
         {"save_token_id", opt_hex(t.save_token_id)},
         {"votes", votes},
         {"head_before", opt_hex(t.head_before)}};
  if (t.save) j["object_key"] = t.save->object_key;
  return j;
}

json run_json(const chain::Run& run) {
  json turns = json::array();
  for (const auto& t : run.turns) turns.push_back(turn_json(t));
  json contributivity = json::object();
  for (const auto& [name, c] : run.contributivity_ppm) contributivity[name] = c;
  return {{"run_id", run.plan.run_id},
          {"status", run.status == chain::RunStatus::active ? "active" : "finished"},
          {"started_by", run.started_by},
          {"start_height", run.start_height},
          {"end_height", run.end_height},
          {"partners", run.plan.partners},
          {"cycles", run.plan.cycles},
          {"head", opt_hex(run.head)},
          {"contributivity_ppm", contributivity},
          {"turns", turns},
          {"plan", chain::plan_to_json(run.plan)}};
}

struct ReadOptions {
  std::string data_dir;
  bool json = false;
};

void status(const ReadOptions& o) {
  const chain::LedgerState state = replay(o.data_dir);
  const auto& ts = state.training;
  json runs = json::array();
  for (const auto& [id, run] : ts.runs) runs.push_back(run_json(run));
  json open = json::array();
  for (const auto& r : chain::open_requests(ts)) {
    open.push_back({{"kind", r.kind == chain::OpenRequest::Kind::load ? "load" : "save"},
                    {"run_id", r.run_id},
                    {"turn", r.turn},
                    {"requester", r.requester},
                    {"request_id", r.request_id.hex()},
                    {"deadline_height", r.deadline_height}});
  }
  json out{{"height", state.height},
           {"active_run", ts.active_run ? json(*ts.active_run) : json(nullptr)},
           {"open_requests", open},
           {"runs", runs}};
  if (auto view = chain::whose_turn(ts)) {
    out["current_turn"] = {{"run_id", view->run_id},
                           {"turn", view->turn},
                           {"cycle", view->cycle},
                           {"partner", view->partner},
                           {"phase", chain::to_string(view->phase)},
                           {"deadline_height", view->deadline_height},
                           {"head", opt_hex(view->head)}};
  }
  if (o.json) {
    print_json(out);
    return;
  }
  std::cout << "height        " << state.height << "\n";
  if (ts.runs.empty()) {
    std::cout << "no training run has been started on this ledger\n";
    return;
  }
  for (const auto& [id, run] : ts.runs) {
    std::cout << "run           " << id << " ("
              << (run.status == chain::RunStatus::active ? "active" : "finished") << ", "
              << run.turns.size() << "/" << run.plan.total_turns() << " turns)\n"
              << "head          " << (run.head ? run.head->hex() : "(none yet)") << "\n";
    for (const auto& t : run.turns) {
      std::cout << "  turn " << t.index << " cycle " << t.cycle << " " << t.partner << ": "
                << (t.outcome == chain::TurnOutcome::pending
                        ? std::string(chain::to_string(t.phase)) + " until height " +
                              std::to_string(t.deadline_height)
                        : std::string(chain::to_string(t.outcome)));
      for (const auto& [name, v] : t.model_votes) {
        std::cout << "\n      " << name << (v.approve ? " approve" : " reject") << " candidate "
                  << v.auc_candidate_ppm << " ppm vs head " << v.auc_head_ppm << " ppm"
                  << (v.reason.empty() ? "" : " (" + v.reason + ")");
      }
      std::cout << "\n";
    }
    std::cout << "contributivity";
    for (const auto& [name, c] : run.contributivity_ppm) std::cout << " " << name << "=" << c;
    std::cout << " (ppm of AUC)\n";
  }
  for (const auto& r : open) {
    std::cout << "open request  " << r["kind"].get<std::string>() << " by "
              << r["requester"].get<std::string>() << " " << r["request_id"].get<std::string>()
              << " until height " << r["deadline_height"].get<std::uint64_t>() << "\n";
  }
}

void lineage(const ReadOptions& o, const std::string& run_id) {
  const chain::LedgerState state = replay(o.data_dir);
  const auto& ts = state.training;
  const chain::Run* run = nullptr;
  if (!run_id.empty()) {
    run = ts.find_run(run_id);
    if (run == nullptr)
      fail("the ledger has no run \"" + run_id + "\"; `baton run status` lists the runs");
  } else if (ts.active()) {
    run = ts.active();
  } else if (!ts.runs.empty()) {
    for (const auto& [id, r] : ts.runs)
      if (run == nullptr || r.start_height > run->start_height) run = &r;
  } else {
    fail("no training run has been started on this ledger, so there is no lineage");
  }
  json models = json::array();
  for (const auto& m : run->models) {
    json votes = json::array();
    for (const auto& t : run->turns) {
      if (t.save_token_id != m.id) continue;
      for (const auto& [name, v] : t.model_votes) {
        votes.push_back({{"voter", name},
                         {"approve", v.approve},
                         {"auc_candidate_ppm", v.auc_candidate_ppm},
                         {"auc_head_ppm", v.auc_head_ppm},
                         {"validation_size", v.validation_size},
                         {"reason", v.reason}});
      }
    }
    models.push_back({{"id", m.id.hex()},
                      {"parent", opt_hex(m.parent)},
                      {"contributor", m.contributor},
                      {"turn", m.turn},
                      {"height", m.height},
                      {"load_token_id", m.load_token_id.hex()},
                      {"save_token_id", m.id.hex()},
                      {"object_key", m.object_key},
                      {"ciphertext_sha256", m.ciphertext_sha256.hex()},
                      {"model_sha256", m.model_sha256.hex()},
                      {"median_gain_ppm", m.median_gain_ppm},
                      {"votes", votes}});
  }
  if (o.json) {
    print_json({{"run_id", run->plan.run_id}, {"head", opt_hex(run->head)}, {"models", models}});
    return;
  }
  std::cout << "run " << run->plan.run_id << ": " << models.size() << " approved models\n";
  for (const auto& m : models) {
    std::cout << m["id"].get<std::string>() << "  turn " << m["turn"].get<std::uint64_t>() << " by "
              << m["contributor"].get<std::string>() << ", parent "
              << (m["parent"].get<std::string>().empty() ? "(initial)"
                                                         : m["parent"].get<std::string>())
              << "\n"
              << "    object " << m["object_key"].get<std::string>() << " sha256 "
              << m["ciphertext_sha256"].get<std::string>() << "\n    median AUC gain "
              << m["median_gain_ppm"].get<std::int64_t>() << " ppm\n";
  }
}

struct StartOptions {
  std::string plan_file;
  std::string genesis_file;
  std::string key_file;
  std::string node = "http://127.0.0.1:26680";
  bool json = false;
};

void start(const StartOptions& o) {
  auto spec = chain::load_chain_spec(read_file(o.genesis_file, "genesis file"));
  if (!spec) fail("genesis file " + o.genesis_file + " is not valid: " + spec.error().message);
  json plan_json = json::parse(read_file(o.plan_file, "plan file"), nullptr, false);
  if (plan_json.is_discarded()) fail("plan file " + o.plan_file + " is not valid JSON");
  auto plan = chain::plan_from_json(spec->genesis, plan_json);
  if (!plan) fail("plan file " + o.plan_file + ": " + plan.error().message);
  if (!*plan)
    fail("plan file " + o.plan_file +
         " is an empty object; it needs at least run_id, model, dataset, partners and cycles");
  auto keys = chain::parse_secret_keys(read_file(o.key_file, "key file"));
  if (!keys) fail("key file " + o.key_file + " is not a Baton key: " + keys.error().message);
  const auto* member = spec->genesis.find_member(keys->signing.public_key());
  if (member == nullptr || !member->has_role(chain::kRoleAdmin)) {
    fail("the key in " + o.key_file + " is not an admin member of chain " + spec->chain_id() +
         "; only admins may start runs");
  }
  auto client = node::HttpClient::connect_to(o.node, std::chrono::seconds(10));
  if (!client) fail(client.error().message, Exit::usage);
  auto get = [&](const std::string& target) {
    auto r = (*client)->request("GET", target, {}, "application/json");
    if (!r) fail(r.error().message, Exit::unavailable);
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || r->status != 200)
      fail("the node at " + o.node + " did not answer " + target, Exit::unavailable);
    return j;
  };
  const json st = get("/status");
  if (st.value("chain_id", "") != spec->chain_id()) {
    fail("the node at " + o.node + " runs chain \"" + st.value("chain_id", "") +
         "\", not the genesis' \"" + spec->chain_id() + "\"");
  }
  const std::uint64_t nonce =
      get("/nonce/" + keys->signing.public_key().hex())["next_nonce"].get<std::uint64_t>();
  const std::string tx = chain::encode_transaction(
      chain::make_transaction(spec->chain_id(), keys->signing, nonce, chain::pb::TX_START_RUN,
                              chain::plan_to_proto(**plan).SerializeAsString()));
  auto r = (*client)->request("POST", "/tx", chain::to_hex(chain::as_bytes(tx)), "text/plain");
  if (!r) fail(r.error().message, Exit::unavailable);
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.value("accepted", false)) {
    fail("the node refused the StartRun transaction: " +
             (j.is_discarded() ? r->body : j.value("error", std::string("no reason given"))),
         r->status == 503 ? Exit::unavailable : Exit::failure);
  }
  json out{{"accepted", true},
           {"hash", j.value("hash", "")},
           {"run_id", (*plan)->run_id},
           {"nonce", nonce}};
  if (o.json) {
    print_json(out);
  } else {
    std::cout << "submitted StartRun for run " << (*plan)->run_id << ": "
              << out["hash"].get<std::string>() << "\n";
  }
}

}  // namespace

void register_run_commands(CLI::App& app) {
  auto* run = app.add_subcommand("run", "Training runs: start one, show their state");
  run->require_subcommand(1);
  {
    auto o = std::make_shared<StartOptions>();
    auto* sub =
        run->add_subcommand("start", "Sign a StartRun with an admin key and submit it to a node");
    sub->add_option("--plan", o->plan_file, "training plan JSON (docs/PROTOCOL.md §18.1)")
        ->required();
    sub->add_option("--genesis", o->genesis_file, "the chain's genesis file (to check the plan)")
        ->required();
    sub->add_option("--key", o->key_file, "an admin member's NAME.key")->required();
    sub->add_option("--node", o->node, "the node's admin API URL")->capture_default_str();
    sub->add_flag("--json", o->json, "print JSON for scripts");
    sub->callback([o] { start(*o); });
  }
  {
    auto o = std::make_shared<ReadOptions>();
    auto* sub = run->add_subcommand(
        "status", "Runs, turns, head, open requests, votes and deadlines of a ledger");
    sub->add_option("--data-dir", o->data_dir, "ledger directory, or a node's data directory")
        ->required();
    sub->add_flag("--json", o->json, "print JSON for scripts");
    sub->callback([o] { status(*o); });
  }
  auto* models = app.add_subcommand("models", "Models a run produced");
  models->require_subcommand(1);
  {
    auto o = std::make_shared<ReadOptions>();
    auto run_id = std::make_shared<std::string>();
    auto* sub = models->add_subcommand(
        "lineage", "Each approved model: parent, contributor, votes, tokens, object key and hash");
    sub->add_option("--data-dir", o->data_dir, "ledger directory, or a node's data directory")
        ->required();
    sub->add_option("--run", *run_id, "run id (default: the active run, else the last started)");
    sub->add_flag("--json", o->json, "print JSON for scripts");
    sub->callback([o, run_id] { lineage(*o, *run_id); });
  }
}

}  // namespace baton::tools

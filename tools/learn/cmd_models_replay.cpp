// `baton models replay` and `baton models check-vote` (issue 16), run at a
// hospital with its agent.toml: the agent's own code (agent/agent_replay.cpp)
// retrains a turn this hospital trained and compares the model's SHA-256 with
// the ledger's, or measures a candidate again and compares this member's vote
// with its ModelVote on the ledger. Nothing is submitted and the running
// agent's work directory is not touched (a temporary one is used).
//
// Exit codes: 0 bit-identical / the vote agrees, 3 it differs, 1 it could not
// be checked (data, store, key), 2 usage, 4 the node could not be reached.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "agent/agent.h"
#include "agent/agent_setup.h"
#include "agent/node_link.h"
#include "api/admin_token.h"
#include "api/config.h"
#include "tools/cli.h"
#include "tools/learn/commands.h"

namespace baton::tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ReplayOptions {
  std::string config;
  std::string node;  // default: agent.toml's node_url
  std::string node_cert_sha256;
  std::string run_id;  // default: the active run, else the last started
  std::uint64_t turn = 0;
  bool json = false;
};

// Submits nothing: a replay only reads.
class NoSink final : public agent::AgentTxSink {
 public:
  agent::AgentSubmitResult submit(chain::pb::TxType, std::string) override {
    return {false, {}, "a replay submits nothing"};
  }
};

// A temporary work directory, removed at the end.
class TempWorkDir {
 public:
  TempWorkDir() {
    std::string pattern = (fs::temp_directory_path() / "baton-replay-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      fail("cannot make a temporary work directory in " + fs::temp_directory_path().string());
    path_ = pattern;
  }
  ~TempWorkDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The agent of agent.toml opened for a replay, and the node's committed state.
struct Opened {
  TempWorkDir work;
  NoSink sink;
  std::unique_ptr<agent::PartnerAgent> agent;
  agent::NodeView view;
};

void open_agent(const ReplayOptions& o, Opened& out) {
  auto config = api::load_agent_config(o.config);
  if (!config) fail(config.error().message, Exit::usage);
  auto setup = agent::prepare_agent(*config);
  if (!setup) fail(setup.error().message);
  const std::string node = o.node.empty() ? config->node_url : o.node;
  const std::string pin =
      o.node_cert_sha256.empty() ? config->node_cert_sha256 : o.node_cert_sha256;
  auto token = api::read_admin_token(config->token_file);
  if (!token) fail("cannot read the node's admin token: " + token.error().message);
  auto link = agent::NodeLink::open(node, *token, /*agent_api=*/"", setup->genesis, pin);
  if (!link) fail("cannot reach the node " + node + ": " + link.error().message, Exit::unavailable);
  auto view = (*link)->poll(0);
  if (!view) fail("cannot read the node's state: " + view.error().message, Exit::unavailable);
  if (!*view) fail("the node " + node + " has committed no block yet", Exit::failure);
  out.view = std::move(**view);
  agent::AgentOptions options = std::move(setup->options);
  options.training.work_dir = out.work.path();
  options.model_cache.enabled = false;  // nothing written beside the running agent's
  auto log =
      std::make_shared<spdlog::logger>("replay", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  log->set_level(spdlog::level::warn);
  auto opened = agent::PartnerAgent::open(std::move(options), std::move(setup->store), out.sink,
                                          std::move(log));
  if (!opened) fail(opened.error().message);
  out.agent = std::move(*opened);
}

const chain::Run& pick_run(const chain::TrainingState& state, const std::string& run_id) {
  if (!run_id.empty()) {
    const chain::Run* run = state.find_run(run_id);
    if (run == nullptr) fail("the ledger has no run \"" + run_id + "\"", Exit::usage);
    return *run;
  }
  if (const chain::Run* active = state.active()) return *active;
  const chain::Run* last = nullptr;
  for (const auto& [id, run] : state.runs)
    if (last == nullptr || run.start_height >= last->start_height) last = &run;
  if (last == nullptr) fail("no training run has been started on this ledger");
  return *last;
}

json record_json(const chain::ReproRecord& r) {
  return {{"train_seed", r.train_seed},
          {"torch_threads", r.torch_threads},
          {"baton_version", r.baton_version},
          {"baton_commit", r.baton_commit},
          {"libtorch_version", r.libtorch_version},
          {"device", r.device},
          {"train_rows_sha256", r.train_rows_sha256 ? r.train_rows_sha256->hex() : ""},
          {"schema_sha256", r.schema_sha256 ? r.schema_sha256->hex() : ""}};
}

void replay(const ReplayOptions& o) {
  Opened opened;
  open_agent(o, opened);
  const chain::Run& run = pick_run(opened.view.training, o.run_id);
  auto r = opened.agent->replay_turn(run, o.turn);
  if (!r) fail(r.error().message);
  const std::string what = "turn " + std::to_string(o.turn) + " of run " + run.plan.run_id;
  if (o.json) {
    json j{{"run", run.plan.run_id},
           {"turn", o.turn},
           {"bit_identical", r->bit_identical},
           {"ledger_model_sha256", r->ledger_model_sha256.hex()},
           {"model_sha256", r->model_sha256.hex()},
           {"here", record_json(r->here)},
           {"differences", r->differences}};
    if (r->ledger) j["ledger"] = record_json(*r->ledger);
    std::cout << j.dump(2) << "\n";
  } else if (r->bit_identical) {
    std::cout << what << ": bit-identical (model sha256 " << r->model_sha256.hex() << ")\n";
    for (const auto& d : r->differences) std::cout << "  note: " << d << "\n";
  } else {
    std::cout << what << ": differs: the ledger's model sha256 is " << r->ledger_model_sha256.hex()
              << ", the replay's " << r->model_sha256.hex() << "\n";
    for (const auto& d : r->differences) std::cout << "  " << d << "\n";
    if (r->differences.empty())
      std::cout << "  the record matches: same data, schema, seed, threads, build and device\n";
  }
  if (!r->bit_identical)
    fail(what + " is not reproduced: see the differences above", Exit::verify_failed);
}

void check_vote(const ReplayOptions& o) {
  Opened opened;
  open_agent(o, opened);
  const chain::Run& run = pick_run(opened.view.training, o.run_id);
  auto c = opened.agent->check_vote(opened.view.height, opened.view.training, run, o.turn);
  if (!c) fail(c.error().message);
  const std::string what = "vote on turn " + std::to_string(o.turn) + " of run " + run.plan.run_id;
  if (o.json) {
    auto vote_json = [](const agent::SaveVote& v) {
      return json{{"approve", v.approve},
                  {"auc_candidate_ppm", v.auc_candidate_ppm},
                  {"auc_head_ppm", v.auc_head_ppm},
                  {"validation_size", v.validation_size},
                  {"p_worse_ppm", v.p_worse_ppm},
                  {"reason", v.reason},
                  {"loss_candidate_micro", v.loss_candidate_micro},
                  {"loss_head_micro", v.loss_head_micro}};
    };
    std::cout << json{{"run", run.plan.run_id},           {"turn", o.turn},
                      {"agrees", c->differences.empty()}, {"ledger", vote_json(c->ledger)},
                      {"here", vote_json(c->here)},       {"differences", c->differences}}
                     .dump(2)
              << "\n";
  } else if (c->differences.empty()) {
    std::cout << what << ": agrees (" << (c->here.approve ? "approve" : "reject") << ", AUC "
              << c->here.auc_candidate_ppm << " ppm vs head " << c->here.auc_head_ppm << " ppm)\n";
  } else {
    std::cout << what << ": differs\n";
    for (const auto& d : c->differences) std::cout << "  " << d << "\n";
  }
  if (!c->differences.empty())
    fail("this member's " + what + " is not what its data give now", Exit::verify_failed);
}

void add_options(CLI::App* sub, ReplayOptions& o) {
  sub->add_option("--config", o.config, "this hospital's agent.toml (datasets, key, store)")
      ->required();
  sub->add_option("--node", o.node, "the node's admin API (default: agent.toml's node_url)");
  sub->add_option("--node-cert-sha256", o.node_cert_sha256,
                  "https --node: the node's certificate fingerprint (default: agent.toml's)");
  sub->add_option("--run", o.run_id, "run id (default: the active run, else the last started)");
  sub->add_option("--turn", o.turn, "the turn (0-based)")->required();
  sub->add_flag("--json", o.json, "print JSON for scripts");
}

}  // namespace

void register_models_replay_commands(CLI::App& app) {
  auto* models = app.add_subcommand("models", "Models a run produced (the commands that train)");
  models->require_subcommand(1);
  {
    auto o = std::make_shared<ReplayOptions>();
    auto* sub = models->add_subcommand(
        "replay",
        "At the hospital that trained a turn: retrain it from the ledger's record and compare "
        "the model's SHA-256 with the ledger's (exit 3 when it differs)");
    add_options(sub, *o);
    sub->callback([o] { replay(*o); });
  }
  {
    auto o = std::make_shared<ReplayOptions>();
    auto* sub = models->add_subcommand(
        "check-vote",
        "At a voter's hospital: measure a turn's candidate again and compare with this member's "
        "ModelVote (exit 3 when it differs)");
    add_options(sub, *o);
    sub->callback([o] { check_vote(*o); });
  }
}

}  // namespace baton::tools

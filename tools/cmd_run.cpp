// `baton run start|status` and `baton models lineage`: the training protocol
// from the command line. The read side either replays a ledger (read-only,
// also while a node writes it) with chain/, or asks a node's admin API
// (GET /training); both give api/training_json.h's JSON, printed as is
// (--json) or as text. `run start` checks the plan, also for what the partner
// agents need of it (tools/plan_check.h), signs a StartRun and submits it to
// a node's admin API.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "chain/keys.h"
#include "chain/protocol.h"
#include "chain/transaction.h"
#include "api/http_client.h"
#include "api/training_json.h"
#include "tools/node_connect.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/model_check.h"
#include "tools/plan_check.h"
#include "tools/run_control.h"
#include "tools/signed_submit.h"

namespace baton::tools {
namespace {

using nlohmann::json;

struct ReadOptions {
  std::string data_dir;
  std::string node;
  bool json = false;
  std::string store;     // run status: where to check a finished run's final model
  std::string endpoint;  //   (with --data-dir; a node checks its own store)
};

void add_source_options(CLI::App* sub, ReadOptions& o) {
  auto* d = sub->add_option("--data-dir", o.data_dir,
                            "ledger directory, or a node's data directory (read from disk)");
  auto* n = sub->add_option("--node", o.node, "a node's admin API URL (GET /training)");
  add_node_cert_option(sub);
  d->excludes(n);
  n->excludes(d);
}

// training_status_json (api/training_json.h) from a ledger on disk or a node.
json training_status(const ReadOptions& o) { return training_status_or_exit(o.data_dir, o.node); }

std::string ppm_text(std::uint64_t ppm) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", static_cast<double>(ppm) / 1e6);
  return buf;
}

// ε in micro-units, exactly: 1526373 -> "1.526373".
std::string epsilon_text(std::uint64_t micro) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%llu.%06llu", static_cast<unsigned long long>(micro / 1'000'000),
                static_cast<unsigned long long>(micro % 1'000'000));
  return buf;
}

// The plan's privacy and each partner's ε spent and left (docs/PROTOCOL.md §20.2).
void print_privacy(const json& p) {
  char delta[32];
  std::snprintf(delta, sizeof delta, "%g",
                static_cast<double>(p["delta_pico"].get<std::uint64_t>()) / 1e12);
  const std::string mechanism = p["mechanism"].get<std::string>();
  std::cout << "privacy       " << mechanism
            << (mechanism == "dp_sgd" ? std::string(", delta ") + delta : std::string(", pure"))
            << ", budget epsilon " << epsilon_text(p["epsilon_budget_micro"].get<std::uint64_t>())
            << " per partner\n";
  for (const auto& [name, s] : p["partners"].items()) {
    std::cout << "  " << name << ": epsilon spent "
              << epsilon_text(s["epsilon_spent_micro"].get<std::uint64_t>()) << ", left "
              << epsilon_text(s["epsilon_left_micro"].get<std::uint64_t>())
              << (s["budget_spent"].get<bool>() ? " (budget spent: its later turns are skipped)"
                                                : "")
              << "\n";
  }
}

std::string signed_auc_text(std::int64_t ppm) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.4f", static_cast<double>(ppm) / 1e6);
  return buf;
}

// Which phase of an expired round ran out (docs/PROTOCOL.md §21.2): the
// phases follow each other, so what the round holds says how far it got.
std::string round_expiry(const json& t, const json& run) {
  const json& r = t["round"];
  const json& fed = run["plan"]["federated"];
  const std::uint64_t t_needed = fed["threshold"].get<std::uint64_t>();
  const std::uint64_t need = std::max(fed["min_partners"].get<std::uint64_t>(), t_needed);
  const std::string by = " by block " + std::to_string(t["deadline_height"].get<std::uint64_t>());
  if (!t["save_request_id"].get<std::string>().empty()) return "no vote quorum" + by;
  if (!r["self_seeds"].empty()) return "no aggregate" + by;
  if (r["uploads"].size() >= need)
    return "fewer than " + std::to_string(t_needed) + " unmasks" + by;
  if (r["shares"].size() >= need) return "fewer than " + std::to_string(need) + " uploads" + by;
  return "fewer than " + std::to_string(need) + " partners shared" + by;
}

// Why turn `t` (run_json's turn) ended other than by the vote, or "".
std::string turn_failure(const json& t, const json& run) {
  const std::string decision = t["decision"].get<std::string>();
  if (decision == "abandoned" && t.contains("abandon")) {
    return "the partner gave up its turn: " + t["abandon"]["reason"].get<std::string>() +
           (t["abandon"]["detail"].get<std::string>().empty()
                ? std::string()
                : " (" + t["abandon"]["detail"].get<std::string>() + ")");
  }
  if (decision != "expired") return {};
  if (t.contains("round")) return round_expiry(t, run);
  const char* missing = t["load_request_id"].get<std::string>().empty()   ? "load request"
                        : t["load_token_id"].get<std::string>().empty()   ? "load token"
                        : t["save_request_id"].get<std::string>().empty() ? "save request"
                                                                          : "vote quorum";
  return std::string("no ") + missing + " by block " +
         std::to_string(t["deadline_height"].get<std::uint64_t>());
}

// A turn's deposit (docs/PROTOCOL.md §19.9): what it locked and where it
// went, e.g. "; deposit 20 + cost 5: locked 20" or "; deposit 20: forfeited
// hospital-a 10, hospital-c 10".
std::string stake_text(const json& s) {
  const auto n = [&](const char* k) { return std::to_string(s[k].get<std::uint64_t>()); };
  if (s["deposit"].get<std::uint64_t>() == 0 && s["cost"].get<std::uint64_t>() == 0) return {};
  std::string out = "; deposit " + n("deposit") + " + cost " + n("cost") + ": ";
  if (!s["settled"].get<bool>()) return out + "locked " + n("locked");
  out += "refunded " + n("refunded") + ", to escrow " + n("escrowed");
  for (const auto& [name, credits] : s["forfeits"].items())
    out += ", forfeited to " + name + " " + std::to_string(credits.get<std::uint64_t>());
  return out;
}

// A federated round (docs/PROTOCOL.md §21), e.g. "; shared 4/4 (alice, bob,
// carol, dave), uploaded 3 (weight 1357), unmasked 3/3; aggregator bob".
std::string round_text(const json& t, const json& run) {
  const json& r = t["round"];
  const auto names = [](const json& m) {
    std::string out;
    for (const auto& [name, v] : m.items()) out += (out.empty() ? "" : ", ") + name;
    return out;
  };
  const json& fed = run["plan"]["federated"];
  std::string out = "; shared " + std::to_string(r["shares"].size()) + "/" +
                    std::to_string(run["partners"].size()) + " (" + names(r["shares"]) +
                    "), uploaded " + std::to_string(r["uploads"].size()) + " (" +
                    names(r["uploads"]) + ", weight " + r["total_weight"].dump() + "), unmasked " +
                    std::to_string(r["unmasks"].size()) + "/" + fed["threshold"].dump();
  if (!r["ephemeral_secrets"].empty())
    out += "; dropped out after sharing: " + names(r["ephemeral_secrets"]);
  if (!t["partner"].get<std::string>().empty())
    out += "; aggregator " + t["partner"].get<std::string>();
  if (!r["failed_dealer"].get<std::string>().empty())
    out += "; the shares of " + r["failed_dealer"].get<std::string>() +
           " did not reconstruct its committed secret";
  for (const auto& [name, c] : r["complaints"].items()) {
    out +=
        "; complaint from " + name + ": " + c["reason"].get<std::string>() +
        (c["detail"].get<std::string>().empty() ? "" : " (" + c["detail"].get<std::string>() + ")");
  }
  return out;
}

// What `run status` shows besides the source: --run, --watch.
struct StatusOptions {
  std::string run_id;             // only this run ("" = every run)
  bool watch = false;             // reprint on each new height until the run ends
  double interval_s = 2;          // --watch: seconds between polls
  std::uint64_t max_updates = 0;  // --watch: stop after this many prints (0 = no limit)
};

// The training status, only run `run_id` when one is named; nullopt when
// `run_id` names no run (yet).
std::optional<json> status_of(const ReadOptions& o, const std::string& run_id) {
  json out = training_status(o);
  if (!run_id.empty()) {
    const json* run = api::select_run(out, run_id);
    if (run == nullptr) return std::nullopt;
    out["runs"] = json::array({*run});
  }
  return out;
}

// Adds each finished run's final model check (a run is only "finished" when
// its final model can be fetched and is the ledger's, tools/model_check.h).
// `checked` keeps the results by run id, so that --watch fetches each final
// model once, not at every height.
void check_finished_runs(const ReadOptions& o, json& out, std::map<std::string, json>& checked) {
  for (auto& run : out["runs"]) {
    if (run["status"] != "finished") continue;
    const std::string id = run["run_id"].get<std::string>();
    auto it = checked.find(id);
    if (it == checked.end())
      it = checked.emplace(id, check_final_model(run, {o.node, o.store, o.endpoint})).first;
    run["final_model"] = it->second;
  }
}

void print_status(const json& out);

void status(const ReadOptions& o, const StatusOptions& so) {
  std::map<std::string, json> checked;
  if (!so.watch) {
    std::optional<json> out = status_of(o, so.run_id);
    if (!out)
      fail("the ledger has no run \"" + so.run_id + "\"; `baton run status` lists the runs");
    check_finished_runs(o, *out, checked);
    if (o.json)
      print_json(*out);
    else
      print_status(*out);
    return;
  }
  // --watch: poll; print when the height moved (JSON: one object per line);
  // stop once the watched run (--run, else the active or last started one)
  // has ended, or after --max-updates prints. A run that does not exist yet
  // is waited for.
  std::uint64_t printed = 0;
  std::optional<std::uint64_t> last_height;
  for (;;) {
    std::optional<json> out = status_of(o, so.run_id);
    const std::uint64_t height = out ? (*out)["height"].get<std::uint64_t>() : 0;
    if (out && height != last_height) {
      last_height = height;
      check_finished_runs(o, *out, checked);
      if (o.json) {
        std::cout << out->dump() << std::endl;
      } else {
        if (printed > 0) std::cout << "\n";
        print_status(*out);
        std::cout.flush();
      }
      ++printed;
      const json* run = api::select_run(*out, so.run_id);
      const bool ended =
          run != nullptr && ((*run)["status"] == "finished" || (*run)["status"] == "unfunded" ||
                             (*run)["status"] == "cancelled" || (*run)["status"] == "not_ready");
      if (ended || (so.max_updates > 0 && printed >= so.max_updates)) return;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(so.interval_s));
  }
}

void print_status(const json& out) {
  std::cout << "height        " << out["height"].get<std::uint64_t>() << "\n";
  if (out["runs"].empty()) {
    std::cout << "no training run has been started on this ledger\n";
    return;
  }
  for (const auto& run : out["runs"]) {
    const auto& turns = run["turns"];
    const bool federated = run.value("mode", "chained") == "federated";
    // Federated: one turn per round (docs/PROTOCOL.md §21).
    const std::uint64_t total =
        run["cycles"].get<std::uint64_t>() * (federated ? 1 : run["partners"].size());
    const std::string problem =
        run.contains("final_model")
            ? final_model_problem(run["final_model"], run["run_id"].get<std::string>())
            : std::string();
    std::cout << "run           " << run["run_id"].get<std::string>() << " ("
              << run["status"].get<std::string>() << ", " << turns.size() << "/" << total
              << (federated ? " rounds" : " turns") << (problem.empty() ? "" : ", " + problem)
              << ")\n";
    if (federated) {
      const json& fed = run["plan"]["federated"];
      std::cout << "mode          federated: threshold " << fed["threshold"] << " of "
                << run["partners"].size() << ", at least " << fed["min_partners"]
                << " uploads a round, " << fed["local_epochs"] << " local epochs, tokens "
                << run["plan"].value("token_mode", "delta_auc") << "\n";
    } else {
      std::cout << "order         " << run["plan"].value("turn_order", "fixed") << ", tokens "
                << run["plan"].value("token_mode", "delta_auc") << "\n";
    }
    std::cout << run_control_text(run);
    std::cout << "head          "
              << (run["head"].get<std::string>().empty() ? "(none yet)"
                                                         : run["head"].get<std::string>())
              << "\n";
    for (const auto& t : turns) {
      const std::string decision = t["decision"].get<std::string>();
      if (federated) {
        std::cout << "  round " << t["turn"].get<std::uint64_t>() << ": ";
      } else {
        std::cout << "  turn " << t["turn"].get<std::uint64_t>() << " cycle "
                  << t["cycle"].get<std::uint64_t>() << " " << t["partner"].get<std::string>()
                  << ": ";
      }
      std::cout << (decision == "pending"
                        ? t["phase"].get<std::string>() + " until height " +
                              std::to_string(t["deadline_height"].get<std::uint64_t>())
                        : decision);
      if (const std::string why = turn_failure(t, run); !why.empty())
        std::cout << " (" << why << ")";
      if (t.contains("stake")) std::cout << stake_text(t["stake"]);
      if (t.contains("round")) std::cout << round_text(t, run);
      if (t.contains("privacy")) {
        std::cout << "; epsilon turn "
                  << epsilon_text(t["privacy"]["epsilon_turn_micro"].get<std::uint64_t>())
                  << " total "
                  << epsilon_text(t["privacy"]["epsilon_total_micro"].get<std::uint64_t>());
      }
      for (const auto& v : t["votes"]) {
        const std::string reason = v["reason"].get<std::string>();
        std::cout << "\n      " << v["voter"].get<std::string>()
                  << (v["approve"].get<bool>() ? " approve" : " reject ") << "  AUC candidate "
                  << ppm_text(v["auc_candidate_ppm"].get<std::uint64_t>()) << " vs head "
                  << ppm_text(v["auc_head_ppm"].get<std::uint64_t>()) << " on "
                  << v["validation_size"].get<std::uint64_t>() << " rows"
                  << (reason.empty() ? "" : " (" + reason + ")");
      }
      std::cout << "\n";
    }
    const json& refusals = run["refusals"];
    bool late_votes = false;
    for (const auto& r : refusals["recent"]) {
      const std::string why = r["reason"].get<std::string>();
      const std::string type = r["type"].get<std::string>();
      late_votes = late_votes || ((type == "TX_MODEL_VOTE" || type == "TX_LOAD_APPROVAL") &&
                                  (why.find("request that is not open") != std::string::npos ||
                                   why.find("no training run is active") != std::string::npos));
      std::cout << "  refused       " << r["type"].get<std::string>() << " from "
                << r["sender"].get<std::string>() << " at height "
                << r["height"].get<std::uint64_t>()
                << (r["turn"].is_null() ? "" : " (turn " + r["turn"].dump() + ")") << ": "
                << r["reason"].get<std::string>() << "\n";
    }
    if (refusals["total"].get<std::uint64_t>() > refusals["recent"].size()) {
      std::cout << "  (" << refusals["total"].get<std::uint64_t>() - refusals["recent"].size()
                << " older refusals are no longer kept in the state; the blocks hold them)\n";
    }
    if (late_votes) {
      std::cout << "  (a vote refused as \"not open\" or \"no training run is active\" came after"
                   " the quorum had decided: harmless)\n";
    }
    if (run.contains("deposits")) {
      const json& d = run["deposits"];
      std::cout << "deposits      cost " << d["submission_cost"].get<std::uint64_t>()
                << ", deposit " << d["deposit"].get<std::uint64_t>() << " x"
                << d["factor"].get<std::uint64_t>() << " per rejection in a row, min balance "
                << d["min_balance"].get<std::uint64_t>() << "; locked now "
                << d["locked"].get<std::uint64_t>() << "\n  next deposit";
      for (const auto& [name, credits] : d["next_deposit"].items())
        std::cout << " " << name << " " << credits.get<std::uint64_t>();
      std::cout << "\n";
    }
    if (run.contains("privacy")) print_privacy(run["privacy"]);
    if (run.contains("escrow")) {
      const json& e = run["escrow"];
      std::cout << "escrow        " << e["funded"].get<std::uint64_t>() << " credits from "
                << e["sponsor"].get<std::string>() << " (at least "
                << e["min_credits"].get<std::uint64_t>() << " before turn 0), "
                << e["state"].get<std::string>();
      if (e["state"] != "open")
        std::cout << " at height " << e["settled_height"].get<std::uint64_t>();
      std::cout << "\n";
      for (const auto& [name, credits] : e["payouts"].items())
        std::cout << "  paid        " << name << " " << credits.get<std::uint64_t>()
                  << " credits\n";
    }
    // Sum over each partner's approved turns of the gain settled at each
    // turn's vote deadline (median AUC gain of every vote, docs/PROTOCOL.md
    // §18.2), in AUC units.
    std::cout << "contributivity";
    for (const auto& [name, c] : run["contributivity_ppm"].items())
      std::cout << " " << name << " " << signed_auc_text(c.get<std::int64_t>());
    const bool settled = run.value("gains_settled", false);
    std::cout << " (summed settled AUC gain of its approved turns"
              << (settled ? "; final)\n"
                          : "; not final: turns whose vote deadline is ahead still take votes)\n");
  }
  for (const auto& r : out["refusals"]["recent"]) {
    std::cout << "refused       " << r["type"].get<std::string>() << " from "
              << r["sender"].get<std::string>() << " at height " << r["height"].get<std::uint64_t>()
              << ": " << r["reason"].get<std::string>() << " (names no run)\n";
  }
  for (const auto& r : out["open_requests"]) {
    std::cout << "open request  " << r["kind"].get<std::string>() << " by "
              << r["requester"].get<std::string>() << " " << r["request_id"].get<std::string>()
              << " until height " << r["deadline_height"].get<std::uint64_t>() << "\n";
  }
}

void lineage(const ReadOptions& o, const std::string& run_id) {
  const json st = training_status(o);
  const json* run = api::select_run(st, run_id);
  if (run == nullptr) {
    if (!run_id.empty())
      fail("the ledger has no run \"" + run_id + "\"; `baton run status` lists the runs");
    fail("no training run has been started on this ledger, so there is no lineage");
  }
  const json& models = (*run)["models"];
  if (o.json) {
    print_json({{"run_id", (*run)["run_id"]}, {"head", (*run)["head"]}, {"models", models}});
    return;
  }
  std::cout << "run " << (*run)["run_id"].get<std::string>() << ": " << models.size()
            << " approved models\n";
  // A suspended partner (rejected plan.suspend_after times in a row) adds no
  // model: its skipped turns say so here.
  for (const auto& t : (*run)["turns"]) {
    if (t["decision"] == "cannot_pay") {
      std::cout << "(turn " << t["turn"].get<std::uint64_t>() << " of "
                << t["partner"].get<std::string>()
                << " skipped: its balance could not pay the plan's deposit and cost, or was "
                   "below its minimum balance)\n";
    }
    if (t["decision"] == "budget_spent") {
      std::cout << "(turn " << t["turn"].get<std::uint64_t>() << " of "
                << t["partner"].get<std::string>()
                << " skipped: not one more epoch fits its privacy budget)\n";
    }
    if (t["decision"] != "suspended") continue;
    std::cout << "(turn " << t["turn"].get<std::uint64_t>() << " of "
              << t["partner"].get<std::string>()
              << " skipped: suspended after its candidates were rejected "
              << (*run)["plan"].value("suspend_after", 0) << " times in a row)\n";
  }
  for (const auto& m : models) {
    std::cout << m["id"].get<std::string>() << "  turn " << m["turn"].get<std::uint64_t>() << " by "
              << m["contributor"].get<std::string>() << ", parent "
              << (m["parent"].get<std::string>().empty() ? "(initial)"
                                                         : m["parent"].get<std::string>())
              << "\n"
              << "    object " << m["object_key"].get<std::string>() << " sha256 "
              << m["ciphertext_sha256"].get<std::string>() << "\n    median AUC gain "
              << signed_auc_text(m["median_gain_ppm"].get<std::int64_t>())
              << (m.value("gain_settled", true) ? "" : " (not settled: votes until its deadline)")
              << "\n";
    for (const auto& v : m["votes"]) {
      std::cout << "    " << v["voter"].get<std::string>()
                << (v["approve"].get<bool>() ? " approve" : " reject ") << " AUC "
                << ppm_text(v["auc_candidate_ppm"].get<std::uint64_t>()) << " vs head "
                << ppm_text(v["auc_head_ppm"].get<std::uint64_t>()) << "\n";
    }
  }
}

// §23 (issue 17): the encoded width of the schema the node derives for
// `schema_id` (GET /schema/ID); exits when the node has none.
std::size_t consortium_schema_width_or_exit(const std::string& node, const std::string& schema_id) {
  auto client = connect_node(node, std::chrono::seconds(10));
  if (!client) fail(client.error().message, Exit::usage);
  auto r = (*client)->request("GET", "/schema/" + schema_id, {}, "application/json");
  if (!r) fail(r.error().message, Exit::unavailable);
  const json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded())
    fail("the node at " + node + " sent no JSON for its schema", Exit::unavailable);
  if (r->status != 200 || !j.contains("width"))
    fail("the plan's schema_id '" + schema_id + "': " + j.value("error", "no schema"));
  return j["width"].get<std::size_t>();
}

// Whether the plan (as far as it decodes) names a partner or a sponsor that
// is no member of `genesis`.
bool names_a_member_not_in(const json& plan_json, const chain::Genesis& genesis) {
  auto decoded = chain::decode_plan_json(plan_json, chain::kDefaultReadinessBlocks);
  if (!decoded || !*decoded) return false;
  const chain::TrainingPlan& p = **decoded;
  for (const auto& name : p.partners)
    if (genesis.find_member(name) == nullptr) return true;
  return !p.sponsor.empty() && genesis.find_member(p.sponsor) == nullptr;
}

// Whether the key file's signing key is a genesis member's.
bool genesis_holds_key(const chain::Genesis& genesis, const std::string& key_file) {
  auto keys = chain::parse_secret_keys(read_secret_file(key_file, "key file").view());
  return keys && genesis.find_member(keys->signing.public_key()) != nullptr;
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
  // A new plan gets a readiness phase unless it says otherwise (§22.1). It
  // is checked against the genesis without a node; one that names a member
  // the genesis does not (issue 18: admitted by vote) against the ledger's
  // members of now, as the ledger will check it, when the node answers.
  chain::Genesis members_now = spec->genesis;
  bool asked_node = false;
  auto plan = chain::plan_from_json(members_now, plan_json, chain::kDefaultReadinessBlocks);
  if (!plan && names_a_member_not_in(plan_json, spec->genesis)) {
    if (auto now = try_node_members(spec->genesis, o.node)) {
      members_now.members = std::move(*now);
      asked_node = true;
      plan = chain::plan_from_json(members_now, plan_json, chain::kDefaultReadinessBlocks);
    }
  }
  if (!plan) fail("plan file " + o.plan_file + ": " + plan.error().message);
  if (!*plan)
    fail("plan file " + o.plan_file +
         " is an empty object; it needs at least run_id, model, dataset, partners and cycles");
  // The ledger takes any model text; refuse here what no partner agent could train.
  if (auto s = check_plan_for_agents(**plan); !s)
    fail("plan file " + o.plan_file + ": " + s.error().message);
  // §23 (issue 17): a plan with a consortium schema takes that schema's width.
  if (!(*plan)->schema_id.empty()) {
    const std::size_t width = consortium_schema_width_or_exit(o.node, (*plan)->schema_id);
    if (auto s = check_plan_schema_width(**plan, width); !s)
      fail("plan file " + o.plan_file + ": " + s.error().message);
  }
  // An admin whose key rotated is in the ledger's members, not the genesis'.
  if (!asked_node && !genesis_holds_key(spec->genesis, o.key_file)) {
    members_now.members = node_members(spec->genesis, o.node);
  }
  const MemberSigner signer = load_current_signer(o.genesis_file, o.key_file, members_now.members);
  if (!members_now.find_member(signer.member)->has_role(chain::kRoleAdmin)) {
    fail("the key in " + o.key_file + " is not an admin member of chain " + spec->chain_id() +
         "; only admins may start runs");
  }
  // What the ledger would refuse now (a used run id, an active run) is
  // refused here, before anything is signed.
  check_run_can_start(o.node, (*plan)->run_id);
  json out = submit_signed(signer, o.node, chain::pb::TX_START_RUN,
                           chain::plan_to_proto(**plan).SerializeAsString());
  out["run_id"] = (*plan)->run_id;
  if (o.json) {
    print_json(out);
  } else {
    std::cout << "submitted StartRun for run " << (*plan)->run_id << ": "
              << out["hash"].get<std::string>() << "\n"
              << "`baton run status --node " << o.node
              << "` shows the run once committed, or why the ledger refused it\n";
  }
}

struct EscrowOptions {
  std::string run_id;
  std::string amount;  // fund only
  std::string genesis_file;
  std::string key_file;
  std::string node = "http://127.0.0.1:26680";
  bool json = false;
};

// `run fund` and `run release`: the sponsor's transactions (docs/PROTOCOL.md §19.6).
void escrow_tx(const EscrowOptions& o, bool is_fund) {
  const std::uint64_t amount = is_fund ? credits_argument(o.amount, "--amount") : 0;
  const MemberSigner signer = load_member_signer(o.genesis_file, o.key_file);
  const auto* m = signer.spec.genesis.find_member(signer.member);
  if (m == nullptr || !m->has_role(chain::kRoleSponsor))
    fail("the key in " + o.key_file +
         " is not a member with role \"sponsor\"; only a run's "
         "sponsor funds or releases its escrow");
  std::string payload;
  if (is_fund) {
    chain::pb::FundRun f;
    f.set_run_id(o.run_id);
    f.set_amount(amount);
    payload = f.SerializeAsString();
  } else {
    chain::pb::ReleaseEscrow r;
    r.set_run_id(o.run_id);
    payload = r.SerializeAsString();
  }
  json out = submit_signed(
      signer, o.node, is_fund ? chain::pb::TX_FUND_RUN : chain::pb::TX_RELEASE_ESCROW, payload);
  out["run_id"] = o.run_id;
  if (is_fund) out["amount"] = amount;
  if (o.json) {
    print_json(out);
    return;
  }
  std::cout << "submitted " << (is_fund ? "FundRun" : "ReleaseEscrow") << " for run " << o.run_id
            << ": " << out["hash"].get<std::string>() << "\n"
            << "`baton run status --node " << o.node
            << "` shows the escrow once committed, or why the ledger refused it\n";
}

void add_escrow_command(CLI::App* run, bool is_fund) {
  auto o = std::make_shared<EscrowOptions>();
  auto* sub = run->add_subcommand(
      is_fund ? "fund" : "release",
      is_fund ? "The sponsor puts credits into a run's escrow (signed with its key)"
              : "The sponsor releases a finished run's escrow: partners paid by their tokens");
  sub->add_option("--run", o->run_id, "run id")->required();
  if (is_fund) sub->add_option("--amount", o->amount, "credits (a positive integer)")->required();
  sub->add_option("--genesis", o->genesis_file, "the chain's genesis file")->required();
  sub->add_option("--key", o->key_file, "the sponsor's NAME.key")->required();
  sub->add_option("--node", o->node, "the node's admin API URL")->capture_default_str();
  add_node_cert_option(sub);
  sub->add_flag("--json", o->json, "print JSON for scripts");
  sub->callback([o, is_fund] { escrow_tx(*o, is_fund); });
}

}  // namespace

void register_run_commands(CLI::App& app) {
  auto* run = app.add_subcommand("run", "Training runs: start or cancel one, show their state");
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
    add_node_cert_option(sub);
    sub->add_flag("--json", o->json, "print JSON for scripts");
    sub->callback([o] { start(*o); });
  }
  {
    auto o = std::make_shared<ReadOptions>();
    auto so = std::make_shared<StatusOptions>();
    auto* sub = run->add_subcommand(
        "status", "Runs, turns, head, open requests, votes and deadlines of a ledger");
    sub->add_option("--run", so->run_id, "only this run (default: every run)");
    sub->add_flag("--watch", so->watch,
                  "reprint on each new height until the run (--run, else the active or last "
                  "started one) ends; --json prints one object per line");
    sub->add_option("--interval", so->interval_s, "--watch: seconds between polls")
        ->check(CLI::Range(0.05, 3600.0))
        ->capture_default_str();
    sub->add_option("--max-updates", so->max_updates,
                    "--watch: stop after this many prints (default: until the run ends)");
    add_source_options(sub, *o);
    auto* store = sub->add_option(
        "--store", o->store,
        "with --data-dir: the object store (file:///DIR or s3://BUCKET/PREFIX) in which to check a "
        "finished run's final model (a --node checks its own)");
    sub->add_option("--endpoint", o->endpoint, "S3 endpoint URL for --store")->needs(store);
    sub->add_flag("--json", o->json, "print JSON for scripts");
    sub->callback([o, so] { status(*o, *so); });
  }
  add_escrow_command(run, true);
  add_escrow_command(run, false);
  add_cancel_command(run);
  auto* models = app.add_subcommand("models", "Models a run produced");
  models->require_subcommand(1);
  {
    auto o = std::make_shared<ReadOptions>();
    auto run_id = std::make_shared<std::string>();
    auto* sub = models->add_subcommand(
        "lineage", "Each approved model: parent, contributor, votes, tokens, object key and hash");
    add_source_options(sub, *o);
    sub->add_option("--run", *run_id, "run id (default: the active run, else the last started)");
    sub->add_flag("--json", o->json, "print JSON for scripts");
    sub->callback([o, run_id] { lineage(*o, *run_id); });
  }
  register_models_repair_command(*models);
  register_models_get_command(*models);
}

}  // namespace baton::tools

// `baton experiment --adversaries KINDS`: the adversarial simulation
// (agent/adversary_sim.h) over adversary kinds, fractions and vote policies,
// printed as markdown tables (docs/EXPERIMENTS.md, "Adversaries") or JSON.
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "agent/adversary_sim.h"
#include "learning/metrics.h"
#include "tools/cli.h"
#include "tools/learn/commands.h"

namespace baton::tools {
namespace {

namespace ag = baton::agent;
namespace ln = baton::learning;
using nlohmann::json;

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

std::vector<ag::Behaviour> parse_kinds(const std::string& text) {
  if (text == "all") return ag::adversary_kinds();
  std::vector<ag::Behaviour> out;
  for (const auto& name : split_list(text)) {
    auto b = ag::behaviour_from_name(name);
    if (!b || *b == ag::Behaviour::honest) {
      std::string known;
      for (auto k : ag::adversary_kinds())
        known += (known.empty() ? "" : ", ") + std::string(ag::to_string(k));
      fail("--adversaries: unknown kind \"" + name +
               "\"; give \"all\" or a comma-separated list of " + known,
           Exit::usage);
    }
    out.push_back(*b);
  }
  return out;
}

struct Fraction {
  std::size_t adversaries = 0, members = 0;
};

std::vector<Fraction> parse_fractions(const std::string& text) {
  std::vector<Fraction> out;
  for (const auto& item : split_list(text)) {
    unsigned a = 0, n = 0;
    char tail = 0;
    if (std::sscanf(item.c_str(), "%u/%u%c", &a, &n, &tail) != 2 || n < 2 || n > 8 || 2 * a > n) {
      fail("--fractions: \"" + item +
               "\" must be K/N with 2 <= N <= 8 members and at most half adversaries, e.g. 1/4,2/6",
           Exit::usage);
    }
    out.push_back({a, n});
  }
  return out;
}

chain::VotePolicy parse_policy(const std::string& name) {
  if (name == "strict") return {chain::VotePolicyKind::strict, 0};
  if (name == "tolerance") return {chain::VotePolicyKind::tolerance, 20'000};
  if (name == "delong") return {chain::VotePolicyKind::delong, 50'000};
  fail("--policies: \"" + name +
           "\" must be strict, tolerance (epsilon 0.02) or delong (alpha 0.05)",
       Exit::usage);
}

std::string fixed(double v, int digits = 3) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string p_text(double p) { return p < 0.001 ? "<0.001" : fixed(p); }

std::string short_name(const std::string& member) {  // hospital-3 -> h3
  return "h" + member.substr(member.rfind('-') + 1);
}

std::string tokens_text(const ag::SimResult& r) {
  std::string out;
  for (const auto& a : r.accounts) {
    out += (out.empty() ? "" : " ") + short_name(a.name) +
           (a.behaviour == ag::Behaviour::honest ? "" : "*") + " " + std::to_string(a.tokens_ppm);
  }
  return out;
}

std::string balances_text(const ag::SimResult& r) {
  std::string out;
  for (const auto& a : r.accounts) {
    out += (out.empty() ? "" : " ") + short_name(a.name) +
           (a.behaviour == ag::Behaviour::honest ? "" : "*") + " " + std::to_string(a.balance);
  }
  return out;
}

std::string turns_text(const ag::SimResult& r) {
  std::size_t ap = 0, re = 0, ex = 0, hre = 0, hex = 0;
  for (const auto& a : r.accounts) {
    if (a.behaviour == ag::Behaviour::honest) {
      hre += a.rejected;
      hex += a.expired;
    } else {
      ap += a.approved;
      re += a.rejected;
      ex += a.expired;
    }
  }
  return std::to_string(ap) + "/" + std::to_string(re) + "/" + std::to_string(ex) + " | " +
         std::to_string(hre) + "/" + std::to_string(hex);
}

std::string refusals_text(const ag::SimResult& r) {
  std::string out;
  for (const auto& [reason, n] : r.refusals)
    out +=
        (out.empty() ? "" : ", ") + std::string(ag::refusal_name(reason)) + " " + std::to_string(n);
  return out.empty() ? "–" : out;
}

json refusals_json(const ag::SimResult& r) {
  json j = json::object();
  for (const auto& [reason, n] : r.refusals) j[std::string(ag::refusal_name(reason))] = n;
  return j;
}

json result_json(const ag::SimResult& r, const std::string& kind, const Fraction& f,
                 const std::string& policy, std::optional<double> p) {
  json accounts = json::array();
  for (const auto& a : r.accounts) {
    accounts.push_back({{"name", a.name},
                        {"behaviour", std::string(ag::to_string(a.behaviour))},
                        {"tokens_ppm", a.tokens_ppm},
                        {"turns", a.turns},
                        {"approved", a.approved},
                        {"rejected", a.rejected},
                        {"expired", a.expired},
                        {"skipped", a.skipped},
                        {"exhausted_turn", a.exhausted_turn ? json(*a.exhausted_turn) : json()},
                        {"refused_txs", a.refused_txs},
                        {"balance", a.balance}});
  }
  return {{"adversary", kind},
          {"adversaries", f.adversaries},
          {"members", f.members},
          {"policy", policy},
          {"auc", r.auc},
          {"ci", {r.ci_low, r.ci_high}},
          {"p_vs_honest", p ? json(*p) : json(nullptr)},
          {"turns", r.turns},
          {"approved", r.approved},
          {"rejected", r.rejected},
          {"expired", r.expired},
          {"refusals", refusals_json(r)},
          {"blocks", r.blocks},
          {"accounts", accounts}};
}

ag::SimResult simulate_or_fail(const ln::PreparedData& data, const ag::SimConfig& c) {
  auto r = ag::simulate(data, c);
  if (!r) fail(r.error().message);
  return std::move(r).value();
}

}  // namespace

void run_adversaries(const ln::PreparedData& original, const ln::ExperimentPlan& plan,
                     const AdversaryArgs& args) {
  if (args.sweep_deposits) {
    run_deposit_sweep(original, plan, args);
    return;
  }
  const auto kinds = parse_kinds(args.kinds);
  const auto fractions = parse_fractions(args.fractions);
  std::vector<std::pair<std::string, chain::VotePolicy>> policies;
  for (const auto& p : split_list(args.policies)) policies.emplace_back(p, parse_policy(p));
  // The partner agent votes on binary AUCs: a multi-class set is its last
  // class against the rest (iris: virginica, the class that overlaps).
  const auto data = ag::binary_view(original, original.train.num_classes - 1);

  ag::SimConfig base;
  base.hidden = plan.hidden;
  base.train = plan.train;
  base.cycles = static_cast<std::uint32_t>(plan.cycles);
  base.seed = plan.seed;
  base.honest_balance = args.honest_balance;
  base.adversary_balance = args.adversary_balance;
  base.submission_cost = args.submission_cost;
  base.deposit = args.deposit;
  base.deposit_factor = args.deposit_factor;
  // Balances (read from the ledger's accounts) get a column once there are any.
  const bool money = args.honest_balance > 0 || args.adversary_balance > 0;
  const std::string money_head = money ? " balances at the end (credits) |" : "";
  const std::string money_rule = money ? " --- |" : "";
  auto money_cell = [&](const ag::SimResult& r) {
    return money ? " " + balances_text(r) + " |" : std::string();
  };

  json out = {{"dataset", data.name},
              {"seed", plan.seed},
              {"cycles", plan.cycles},
              {"epochs_per_visit", plan.train.epochs},
              {"runs", json::array()}};
  if (!args.json) {
    std::printf(
        "adversarial simulation: %s, %zu training / %zu test rows, MLP %s, %d cycles x %d "
        "local epochs, seed %llu\n",
        data.name.c_str(), data.train.rows, data.test.rows,
        ln::to_json(ln::ModelSpec::mlp(static_cast<int>(data.train.features), plan.hidden, 2))
            .c_str(),
        plan.cycles, plan.train.epochs, static_cast<unsigned long long>(plan.seed));
    std::printf(
        "\n| adversary | of | policy | final AUC (95%% CI) | p vs honest | adversaries' turns "
        "appr/rej/exp \\| honest rej/exp | refused txs | tokens (ppm; * = adversary) |%s\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |%s\n",
        money_head.c_str(), money_rule.c_str());
  }
  for (const auto& [pname, policy] : policies) {
    std::map<std::size_t, ag::SimResult> honest;  // by members
    for (const auto& f : fractions) {
      if (honest.contains(f.members)) continue;
      ag::SimConfig c = base;
      c.members = f.members;
      c.policy = policy;
      honest[f.members] = simulate_or_fail(data, c);
      const auto& r = honest[f.members];
      const Fraction zero{0, f.members};
      if (args.json) {
        out["runs"].push_back(result_json(r, "none", zero, pname, std::nullopt));
      } else {
        std::printf("| none | 0/%zu | %s | %s (%s–%s) | – | – \\| %zu/%zu | %s | %s |%s\n",
                    f.members, pname.c_str(), fixed(r.auc).c_str(), fixed(r.ci_low).c_str(),
                    fixed(r.ci_high).c_str(), r.rejected, r.expired, refusals_text(r).c_str(),
                    tokens_text(r).c_str(), money_cell(r).c_str());
      }
    }
    for (auto kind : kinds) {
      for (const auto& f : fractions) {
        if (f.adversaries == 0) continue;
        ag::SimConfig c = base;
        c.members = f.members;
        c.adversaries = f.adversaries;
        c.adversary = kind;
        c.policy = policy;
        const auto r = simulate_or_fail(data, c);
        std::optional<double> p;
        if (auto t = ln::delong_paired_test(data.test.y, r.test_scores,
                                            honest.at(f.members).test_scores))
          p = t->p_two_sided;
        const std::string kname(ag::to_string(kind));
        if (args.json) {
          out["runs"].push_back(result_json(r, kname, f, pname, p));
        } else {
          std::printf("| %s | %zu/%zu | %s | %s (%s–%s) | %s | %s | %s | %s |%s\n", kname.c_str(),
                      f.adversaries, f.members, pname.c_str(), fixed(r.auc).c_str(),
                      fixed(r.ci_low).c_str(), fixed(r.ci_high).c_str(),
                      p ? p_text(*p).c_str() : "–", turns_text(r).c_str(), refusals_text(r).c_str(),
                      tokens_text(r).c_str(), money_cell(r).c_str());
        }
        std::fflush(stdout);
      }
    }
  }
  if (args.shapley) {
    // Exact Shapley values (2^4 coalitions) against the on-chain tokens of
    // the same members, for the honest run and each kind at 1 of 4.
    const auto& [pname, policy] = policies.front();
    std::vector<std::pair<std::string, ag::SimConfig>> runs;
    ag::SimConfig h = base;
    h.members = 4;
    h.policy = policy;
    runs.emplace_back("none", h);
    for (auto kind : kinds) {
      ag::SimConfig c = h;
      c.adversaries = 1;
      c.adversary = kind;
      runs.emplace_back(std::string(ag::to_string(kind)), c);
    }
    if (!args.json) {
      std::printf(
          "\nShapley values (exact, 16 coalitions; value = test AUC of the coalition's "
          "chain, no votes) vs on-chain tokens (%s policy), 4 members:\n\n"
          "| adversary | member | behaviour | Shapley (AUC) | tokens (AUC) |\n"
          "| --- | --- | --- | --- | --- |\n",
          pname.c_str());
    }
    json sh = json::array();
    for (const auto& [kname, c] : runs) {
      auto phi = ag::shapley_values(data, c);
      if (!phi) fail(phi.error().message);
      const auto r = simulate_or_fail(data, c);
      for (std::size_t i = 0; i < r.accounts.size(); ++i) {
        const auto& a = r.accounts[i];
        const double tokens = static_cast<double>(a.tokens_ppm) / 1e6;
        if (args.json) {
          sh.push_back({{"adversary", kname},
                        {"member", a.name},
                        {"behaviour", std::string(ag::to_string(a.behaviour))},
                        {"shapley_auc", (*phi)[i]},
                        {"tokens_ppm", a.tokens_ppm}});
        } else {
          std::printf("| %s | %s | %s | %+.4f | %+.4f |\n", kname.c_str(), a.name.c_str(),
                      std::string(ag::to_string(a.behaviour)).c_str(), (*phi)[i], tokens);
        }
      }
    }
    out["shapley"] = sh;
  }
  if (args.json) print_json(out);
}

}  // namespace baton::tools

// `baton experiment --adversaries KIND --sweep-deposits [--svg FILE]`: the
// deposit sweep of issue 13, after Ding & Hu's study of SUM. One adversary
// kind, fraction and vote policy; the plan's deposit, its growth factor per
// rejection and the submission cost vary; each run reports the final AUC,
// the adversaries' turns, every balance at the end and the turn at which an
// adversary could first no longer pay its stake (turns-to-exhaustion). The
// plot is hand-written SVG text (no dependency).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/adversary_sim.h"
#include "tools/cli.h"
#include "tools/learn/commands.h"

namespace baton::tools {
namespace {

namespace ag = baton::agent;
namespace ln = baton::learning;
using nlohmann::json;

// The grid: the deposit (0 = none), its factor (1 honest and adversary
// alike; 2 and 4 as SUM's doubling for the judged-malicious), the cost.
const std::vector<std::uint64_t> kDeposits = {0, 50, 100, 200};
const std::vector<std::uint32_t> kFactors = {1, 2, 4};
const std::vector<std::uint64_t> kCosts = {0, 25};

struct Point {
  std::uint64_t deposit = 0, cost = 0;
  std::uint32_t factor = 1;
  ag::SimResult result;
  std::optional<std::uint64_t> exhausted;  // the first adversary's cannot_pay turn
};

std::string fixed(double v, int digits = 3) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string short_name(const std::string& member) {
  return "h" + member.substr(member.rfind('-') + 1);
}

// The SVG: final AUC (left) and turns-to-exhaustion (right) against the
// deposit; one line per (factor, cost); "never" drawn at the top edge.
std::string svg_text(const std::vector<Point>& points, std::uint64_t total_turns,
                     const std::string& title) {
  const double w = 900, h = 380, pw = 360, ph = 250, top = 60, left1 = 70, left2 = 510;
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << h
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << w / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" << title
    << "</text>\n";
  double auc_lo = 1.0;
  for (const auto& p : points) auc_lo = std::min(auc_lo, p.result.auc);
  auc_lo = std::max(0.0, std::floor((auc_lo - 0.01) * 50) / 50);
  const double turns_hi = static_cast<double>(total_turns);
  auto x_of = [&](double left, std::size_t i) {
    return left + pw * (static_cast<double>(i) + 0.5) / static_cast<double>(kDeposits.size());
  };
  auto axes = [&](double left, const std::string& ylabel, double lo, double hi, int ticks,
                  int digits) {
    o << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
      << "\" fill=\"none\" stroke=\"black\"/>\n";
    for (int k = 0; k <= ticks; ++k) {
      const double v = lo + (hi - lo) * k / ticks, y = top + ph - ph * k / ticks;
      o << "<line x1=\"" << left - 4 << "\" x2=\"" << left << "\" y1=\"" << y << "\" y2=\"" << y
        << "\" stroke=\"black\"/><text x=\"" << left - 7 << "\" y=\"" << y + 4
        << "\" text-anchor=\"end\">" << fixed(v, digits) << "</text>\n";
    }
    for (std::size_t i = 0; i < kDeposits.size(); ++i) {
      o << "<text x=\"" << x_of(left, i) << "\" y=\"" << top + ph + 16
        << "\" text-anchor=\"middle\">" << kDeposits[i] << "</text>\n";
    }
    o << "<text x=\"" << left + pw / 2 << "\" y=\"" << top + ph + 34
      << "\" text-anchor=\"middle\">deposit (credits)</text>\n"
      << "<text transform=\"translate(" << left - 48 << "," << top + ph / 2
      << ") rotate(-90)\" text-anchor=\"middle\">" << ylabel << "</text>\n";
  };
  axes(left1, "final AUC (test)", auc_lo, 1.0, 4, 3);
  axes(left2, "turns until an adversary cannot pay", 0, turns_hi, 4, 0);
  o << "<text x=\"" << left2 + pw - 4 << "\" y=\"" << top - 4
    << "\" text-anchor=\"end\">top edge = never</text>\n";
  const char* colours[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"};
  std::size_t series = 0;
  for (auto cost : kCosts) {
    for (auto factor : kFactors) {
      std::string auc_pts, turn_pts;
      for (std::size_t i = 0; i < kDeposits.size(); ++i) {
        // Deposit 0 has no factor: its point is shared by every factor's line.
        const auto* p = [&]() -> const Point* {
          for (const auto& q : points)
            if (q.deposit == kDeposits[i] && q.cost == cost &&
                (q.deposit == 0 || q.factor == factor))
              return &q;
          return nullptr;
        }();
        if (p == nullptr) continue;
        const double ya = top + ph - ph * (p->result.auc - auc_lo) / (1.0 - auc_lo);
        const double turns = p->exhausted ? static_cast<double>(*p->exhausted) : turns_hi;
        const double yt = top + ph - ph * turns / turns_hi;
        auc_pts += fixed(x_of(left1, i), 1) + "," + fixed(ya, 1) + " ";
        turn_pts += fixed(x_of(left2, i), 1) + "," + fixed(yt, 1) + " ";
      }
      const char* c = colours[series % 6];
      const std::string dash = cost > 0 ? " stroke-dasharray=\"6,3\"" : "";
      for (const auto& pts : {auc_pts, turn_pts})
        o << "<polyline fill=\"none\" stroke=\"" << c << "\" stroke-width=\"2\"" << dash
          << " points=\"" << pts << "\"/>\n";
      const double ly = h - 28 + 0.0, lx = 40 + 142.0 * static_cast<double>(series);
      o << "<line x1=\"" << lx << "\" x2=\"" << lx + 24 << "\" y1=\"" << ly << "\" y2=\"" << ly
        << "\" stroke=\"" << c << "\" stroke-width=\"2\"" << dash << "/><text x=\"" << lx + 28
        << "\" y=\"" << ly + 4 << "\">factor " << factor << ", cost " << cost << "</text>\n";
      ++series;
    }
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace

void run_deposit_sweep(const ln::PreparedData& original, const ln::ExperimentPlan& plan,
                       const AdversaryArgs& args) {
  // One kind, one fraction, one policy: the first of each list.
  const std::string kind_name = args.kinds.substr(0, args.kinds.find(','));
  const auto kind = ag::behaviour_from_name(kind_name);
  if (!kind || *kind == ag::Behaviour::honest)
    fail("--sweep-deposits: give one adversary kind, e.g. --adversaries label_flip", Exit::usage);
  unsigned a = 1, n = 4;
  if (std::sscanf(args.fractions.c_str(), "%u/%u", &a, &n) != 2 || n < 2 || n > 8 || a == 0 ||
      2 * a > n)
    fail("--sweep-deposits: --fractions must start with K/N, 1 <= K <= N/2, N <= 8", Exit::usage);
  const std::string policy = args.policies.substr(0, args.policies.find(','));
  chain::VotePolicy vp{chain::VotePolicyKind::strict, 0};
  if (policy == "tolerance")
    vp = {chain::VotePolicyKind::tolerance, 20'000};
  else if (policy == "delong")
    vp = {chain::VotePolicyKind::delong, 50'000};
  else if (policy != "strict")
    fail("--sweep-deposits: --policies must start with strict, tolerance or delong", Exit::usage);
  const auto data = ag::binary_view(original, original.train.num_classes - 1);

  ag::SimConfig base;
  base.hidden = plan.hidden;
  base.train = plan.train;
  base.cycles = static_cast<std::uint32_t>(plan.cycles);
  base.seed = plan.seed;
  base.members = n;
  base.adversaries = a;
  base.adversary = *kind;
  base.policy = vp;
  // Without balances nobody could pay a deposit: 500 credits each by default.
  base.honest_balance = args.honest_balance > 0 ? args.honest_balance : 500;
  base.adversary_balance = args.adversary_balance > 0 ? args.adversary_balance : 500;

  std::vector<Point> points;
  for (auto cost : kCosts) {
    for (auto deposit : kDeposits) {
      for (auto factor : kFactors) {
        if (deposit == 0 && factor != 1) continue;  // no deposit: no factor
        ag::SimConfig c = base;
        c.submission_cost = cost;
        c.deposit = deposit;
        c.deposit_factor = deposit > 0 ? factor : 0;
        auto r = ag::simulate(data, c);
        if (!r) fail(r.error().message);
        Point p{deposit, cost, factor, std::move(*r), std::nullopt};
        for (const auto& acc : p.result.accounts)
          if (acc.exhausted_turn && (!p.exhausted || *acc.exhausted_turn < *p.exhausted))
            p.exhausted = acc.exhausted_turn;
        points.push_back(std::move(p));
      }
    }
  }
  const std::uint64_t total_turns = static_cast<std::uint64_t>(plan.cycles) * n;
  json out = json::array();
  if (!args.json) {
    std::printf(
        "deposit sweep: %s, %s %u of %u, %s policy, %d cycles (%llu turns) x %d local epochs, "
        "seed %llu; genesis balances honest %llu, adversary %llu credits\n\n"
        "| deposit | factor | cost | final AUC (95%% CI) | adversaries' turns appr/rej/skipped "
        "| turns until an adversary cannot pay | balances at the end (credits; * = adversary) "
        "| to sponsor |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
        data.name.c_str(), kind_name.c_str(), a, n, policy.c_str(), plan.cycles,
        static_cast<unsigned long long>(total_turns), plan.train.epochs,
        static_cast<unsigned long long>(plan.seed),
        static_cast<unsigned long long>(base.honest_balance),
        static_cast<unsigned long long>(base.adversary_balance));
  }
  for (const auto& p : points) {
    std::size_t ap = 0, re = 0, sk = 0;
    std::string balances;
    json accounts = json::array();
    for (const auto& acc : p.result.accounts) {
      const bool adv = acc.behaviour != ag::Behaviour::honest;
      if (adv) ap += acc.approved, re += acc.rejected, sk += acc.skipped;
      balances += (balances.empty() ? "" : " ") + short_name(acc.name) + (adv ? "*" : "") + " " +
                  std::to_string(acc.balance);
      accounts.push_back(
          {{"name", acc.name},
           {"behaviour", std::string(ag::to_string(acc.behaviour))},
           {"balance", acc.balance},
           {"approved", acc.approved},
           {"rejected", acc.rejected},
           {"skipped", acc.skipped},
           {"exhausted_turn", acc.exhausted_turn ? json(*acc.exhausted_turn) : json(nullptr)}});
    }
    const std::string exhausted = p.exhausted ? std::to_string(*p.exhausted) : "never";
    if (args.json) {
      out.push_back({{"deposit", p.deposit},
                     {"factor", p.deposit > 0 ? p.factor : 0},
                     {"submission_cost", p.cost},
                     {"auc", p.result.auc},
                     {"ci", {p.result.ci_low, p.result.ci_high}},
                     {"exhausted_turn", p.exhausted ? json(*p.exhausted) : json(nullptr)},
                     {"sponsor_balance", p.result.sponsor_balance},
                     {"accounts", accounts}});
    } else {
      std::printf("| %llu | %s | %llu | %s (%s–%s) | %zu/%zu/%zu | %s | %s | %llu |\n",
                  static_cast<unsigned long long>(p.deposit),
                  p.deposit > 0 ? std::to_string(p.factor).c_str() : "–",
                  static_cast<unsigned long long>(p.cost), fixed(p.result.auc).c_str(),
                  fixed(p.result.ci_low).c_str(), fixed(p.result.ci_high).c_str(), ap, re, sk,
                  exhausted.c_str(), balances.c_str(),
                  static_cast<unsigned long long>(p.result.sponsor_balance));
      std::fflush(stdout);
    }
  }
  if (args.json) print_json({{"dataset", data.name}, {"sweep", out}});
  if (!args.svg.empty()) {
    std::ofstream f(args.svg, std::ios::binary | std::ios::trunc);
    f << svg_text(points, total_turns,
                  "Deposit sweep: " + data.name + ", " + kind_name + " " + std::to_string(a) +
                      " of " + std::to_string(n) + ", " + policy);
    if (!f) fail("cannot write the SVG to " + args.svg + "; check that its folder exists");
  }
}

}  // namespace baton::tools

// The runs pages: the list with each run's status, and one run: its plan,
// turns, votes, AUC per turn, lineage, contributivity, balances and escrow,
// privacy spent, federated rounds and refusals. Everything comes from
// api::training_status_json(); statuses, phases and decisions are shown as
// the JSON names them, so new values need no change here.
#include <algorithm>
#include <cstdio>

#include "api/training_json.h"
#include "node/console_html.h"
#include "node/console_pages.h"

namespace baton::node::console {
namespace {

using nlohmann::json;

std::string run_href(std::string_view id) { return "/console/run/" + url_component(id); }
std::string mono(const std::string& text, std::size_t max = kMaxShownChars) {
  return "<span class=\"mono\">" + escape(text, max) + "</span>";
}
std::string cell_num(const std::string& text) {
  return "<span class=\"num\">" + escape(text) + "</span>";
}

// The trainer's self-reported metrics (SaveRequest.metrics_json, any JSON the
// partner chose, already bounded by the ledger): its final training loss and
// number of epochs when it reports them as numbers, else the raw text.
std::string self_reported(const std::string& metrics_json) {
  const json m = json::parse(metrics_json, nullptr, false);
  const auto loss = m.is_object() ? m.find("final_train_loss") : m.end();
  if (!m.is_object() || loss == m.end() || !loss->is_number())
    return "<span class=\"mono\">" + escape(metrics_json, 160) + "</span>";
  char text[48];
  std::snprintf(text, sizeof text, "%.4f", loss->get<double>());
  std::string out = "loss " + escape(text);
  const auto epochs = m.find("epoch_losses");
  if (epochs != m.end() && epochs->is_array())
    out += " after " + std::to_string(epochs->size()) + " epochs";
  return "<span title=\"" + escape(metrics_json, 600) + "\">" + out + "</span>";
}

const json& array_of(const json& j, const char* key) {
  static const json empty = json::array();
  if (!j.is_object()) return empty;
  const auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : empty;
}
const json& object_of(const json& j, const char* key) {
  static const json empty = json::object();
  if (!j.is_object()) return empty;
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : empty;
}

std::string ppm_of(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return "";
  return ppm_text(it->get<std::int64_t>());
}

std::string micro_of(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return "";
  return ppm_text(it->get<std::int64_t>(), 3);
}

std::string median_ppm(const json& votes, const char* key) {
  std::vector<std::int64_t> v;
  for (const auto& vote : votes)
    if (vote.value("validation_size", std::uint64_t{0}) > 0)
      v.push_back(vote.value(key, std::int64_t{0}));
  if (v.empty()) return "";
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return ppm_text(n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

// A table of an object's members: key, value (compact JSON, escaped).
std::string key_values(const json& object) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& [k, v] : object.items())
    rows.push_back({escape(k), v.is_string() ? escape(v.get<std::string>()) : mono(compact(v))});
  return table({"field", "value"}, rows);
}

std::string summary(const json& run) {
  std::string partners;
  for (const auto& p : array_of(run, "partners"))
    partners += (partners.empty() ? "" : ", ") + escape(p.is_string() ? p.get<std::string>() : "");
  std::string out = "<table class=\"kv\">";
  const auto row = [&](std::string_view k, const std::string& html) {
    out += "<tr><th>" + escape(k) + "</th><td>" + html + "</td></tr>";
  };
  row("status", tag(text_of(run, "status")));
  row("mode", escape(text_of(run, "mode")));
  row("started by", escape(text_of(run, "started_by")));
  row("start height", escape(text_of(run, "start_height")));
  row("end height", escape(text_of(run, "end_height")));
  row("partners", partners);
  row("cycles / rounds", escape(text_of(run, "cycles")));
  row("turns begun", std::to_string(array_of(run, "turns").size()));
  row(text_of(run, "status") == "finished" ? "final head" : "head",
      mono(text_of(run, "head").empty() ? "none yet" : text_of(run, "head"), 0));
  row("gains settled", escape(text_of(run, "gains_settled")));
  return out + "</table>";
}

std::string turns_table(const json& run) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : array_of(run, "turns")) {
    std::size_t yes = 0;
    std::size_t no = 0;
    for (const auto& v : array_of(t, "votes")) (v.value("approve", false) ? yes : no) += 1;
    std::string note;
    if (t.contains("abandon"))
      note =
          escape(text_of(t["abandon"], "reason")) + ": " + escape(text_of(t["abandon"], "detail"));
    const json& save = object_of(t, "save");
    rows.push_back(
        {escape(text_of(t, "turn")), escape(text_of(t, "cycle")), escape(text_of(t, "partner")),
         tag(text_of(t, "phase")), tag(text_of(t, "decision")),
         escape(text_of(t, "start_height")) + "\xE2\x80\x93" + escape(text_of(t, "end_height")),
         std::to_string(yes) + " / " + std::to_string(no),
         cell_num(median_ppm(array_of(t, "votes"), "auc_candidate_ppm")),
         cell_num(median_ppm(array_of(t, "votes"), "auc_head_ppm")),
         escape(text_of(save, "train_samples")),
         t.contains("privacy") ? cell_num(micro_of(t["privacy"], "epsilon_turn_micro")) : "",
         self_reported(text_of(save, "metrics_json")), note});
  }
  return table(
      {"turn", "cycle", "partner", "phase", "decision", "heights", "yes / no", "candidate AUC",
       "head AUC", "train rows", "\xCE\xB5 this turn", "trainer's own loss", "abandoned"},
      rows);
}

std::string votes_table(const json& run) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : array_of(run, "turns")) {
    for (const auto& v : array_of(t, "votes")) {
      const std::int64_t gain =
          v.value("auc_candidate_ppm", std::int64_t{0}) - v.value("auc_head_ppm", std::int64_t{0});
      rows.push_back({escape(text_of(t, "turn")), escape(text_of(v, "voter")),
                      tag(v.value("approve", false) ? "approve" : "reject"),
                      cell_num(ppm_of(v, "auc_candidate_ppm")), cell_num(ppm_of(v, "auc_head_ppm")),
                      cell_num((gain >= 0 ? "+" : "") + ppm_text(gain)),
                      cell_num(ppm_of(v, "p_worse_ppm")), cell_num(text_of(v, "validation_size")),
                      escape(text_of(v, "reason")), escape(text_of(v, "height"))});
    }
  }
  return table({"turn", "voter", "vote", "candidate AUC", "head AUC", "gain", "p (worse)",
                "validation rows", "reason", "height"},
               rows);
}

std::string models_table(const json& run) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : array_of(run, "models")) {
    std::string who = escape(text_of(m, "contributor"));
    if (m.contains("contributors")) who += " (" + escape(compact(m["contributors"])) + ")";
    rows.push_back({mono(short_hash(text_of(m, "id"))), mono(short_hash(text_of(m, "parent"))), who,
                    escape(text_of(m, "turn")), escape(text_of(m, "height")),
                    cell_num(ppm_of(m, "median_gain_ppm")), escape(text_of(m, "gain_settled"))});
  }
  return table({"model", "parent", "contributor", "turn", "height", "median gain", "settled"},
               rows);
}

std::string credits_table(const json& run, const json& balances) {
  const json& contributivity = object_of(run, "contributivity_ppm");
  const json& escrow = object_of(run, "escrow");
  std::vector<std::string> names;
  for (const auto& p : array_of(run, "partners"))
    if (p.is_string()) names.push_back(p.get<std::string>());
  const std::string sponsor = text_of(escrow, "sponsor");
  if (!sponsor.empty()) names.push_back(sponsor);
  std::vector<std::vector<std::string>> rows;
  for (const auto& name : names) {
    rows.push_back({escape(name), cell_num(ppm_of(contributivity, name.c_str())),
                    cell_num(text_of(object_of(escrow, "payout_tokens"), name)),
                    cell_num(text_of(object_of(escrow, "payouts"), name)),
                    cell_num(text_of(object_of(object_of(run, "deposits"), "next_deposit"), name)),
                    cell_num(text_of(balances, name))});
  }
  return table(
      {"member", "contributivity", "payout tokens", "paid out", "next deposit", "balance now"},
      rows);
}

std::string privacy_table(const json& privacy) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, p] : object_of(privacy, "partners").items()) {
    rows.push_back({escape(name), cell_num(micro_of(p, "epsilon_spent_micro")),
                    cell_num(micro_of(p, "epsilon_left_micro")),
                    cell_num(text_of(p, "steps_total")), escape(text_of(p, "budget_spent"))});
  }
  return "<p>" + escape(text_of(privacy, "mechanism")) +
         ", budget \xCE\xB5 = " + escape(micro_of(privacy, "epsilon_budget_micro")) +
         " per partner</p>" +
         table({"partner", "\xCE\xB5 spent", "\xCE\xB5 left", "steps", "budget spent"}, rows);
}

std::string rounds_table(const json& run) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : array_of(run, "turns")) {
    if (!t.contains("round")) continue;
    const json& r = t["round"];
    std::string uploaders;
    for (const auto& [name, u] : object_of(r, "uploads").items())
      uploaders += (uploaders.empty() ? "" : ", ") + escape(name) + " (" +
                   escape(text_of(u, "weight")) + ")";
    std::string sharers;
    for (const auto& [name, s] : object_of(r, "shares").items())
      sharers += (sharers.empty() ? "" : ", ") + escape(name);
    std::string complaints;
    for (const auto& [name, c] : object_of(r, "complaints").items())
      complaints += escape(name) + ": " + escape(text_of(c, "reason")) + " " +
                    escape(text_of(c, "detail")) + "; ";
    rows.push_back({escape(text_of(t, "turn")), tag(text_of(t, "decision")), sharers, uploaders,
                    escape(text_of(r, "total_weight")), escape(text_of(t, "partner")),
                    escape(text_of(r, "failed_dealer")), complaints});
  }
  return table({"round", "decision", "shared (U1)", "uploaded (U2, weight)", "total weight",
                "aggregator", "failed dealer", "complaints"},
               rows);
}

std::string refusals_table(const json& refusals) {
  std::vector<std::vector<std::string>> rows;
  const json& recent = array_of(refusals, "recent");
  for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
    const json& r = *it;
    rows.push_back({escape(text_of(r, "height")),
                    link("/console/tx/" + url_component(text_of(r, "tx_hash")),
                         short_hash(text_of(r, "tx_hash"))),
                    escape(text_of(r, "sender")), escape(text_of(r, "type")),
                    escape(text_of(r, "reason")), escape(text_of(r, "turn"))});
  }
  return "<p>" + escape(text_of(refusals, "total")) + " in all; the latest kept:</p>" +
         table({"height", "tx", "sender", "type", "reason", "turn"}, rows);
}

}  // namespace

Page runs_page(const json& status) {
  std::string body = "<h1>Runs</h1>";
  if (status.contains("current_turn")) {
    const json& c = status["current_turn"];
    body += "<p>Now: run " + link(run_href(text_of(c, "run_id")), text_of(c, "run_id")) +
            ", turn " + escape(text_of(c, "turn")) + " of " + escape(text_of(c, "partner")) + ", " +
            tag(text_of(c, "phase")) + " until height " + escape(text_of(c, "deadline_height")) +
            ".</p>";
  }
  std::vector<std::vector<std::string>> rows;
  const json& runs = array_of(status, "runs");
  for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
    const json& r = *it;
    std::size_t approved = 0;
    for (const auto& t : array_of(r, "turns")) approved += text_of(t, "decision") == "approved";
    rows.push_back({link(run_href(text_of(r, "run_id")), text_of(r, "run_id")),
                    tag(text_of(r, "status")), escape(text_of(r, "mode")),
                    std::to_string(array_of(r, "partners").size()),
                    std::to_string(array_of(r, "turns").size()), std::to_string(approved),
                    mono(short_hash(text_of(r, "head"))), escape(text_of(r, "start_height")),
                    escape(text_of(r, "end_height"))});
  }
  body += table(
      {"run", "status", "mode", "partners", "turns", "approved", "head", "started", "ended"}, rows);
  return {200, "Runs", body, ""};
}

Page run_page(const json& status, std::string_view run_id) {
  const json* found = run_id.empty() ? nullptr : api::select_run(status, run_id);
  if (found == nullptr)
    return not_found_page("There is no run called \xE2\x80\x9C" + std::string(run_id) +
                          "\xE2\x80\x9D.");
  const json& run = *found;
  const std::string title = "Run " + text_of(run, "run_id");
  std::string body = "<h1>" + escape(title) + "</h1>" + summary(run);
  body += "<h2>AUC per turn</h2>" + auc_chart_svg(array_of(run, "turns"));
  body += "<h2>Turns</h2>" + turns_table(run);
  body += "<h2>Votes</h2>" + votes_table(run);
  body += "<h2>Lineage</h2>" + lineage_svg(array_of(run, "models"), text_of(run, "head"));
  body += models_table(run);
  body += "<h2>Contributivity and credits</h2>" + credits_table(run, object_of(status, "balances"));
  if (run.contains("escrow")) {
    json escrow = run["escrow"];
    escrow.erase("key_grants");  // sealed boxes: of use to the sponsor only
    escrow.erase("payouts");
    escrow.erase("payout_tokens");
    body += "<h3>Escrow</h3>" + key_values(escrow);
  }
  if (run.contains("deposits")) {
    json deposits = run["deposits"];
    deposits.erase("next_deposit");
    body += "<h3>Deposits</h3>" + key_values(deposits);
  }
  if (run.contains("privacy"))
    body += "<h2>Privacy (\xCE\xB5 spent)</h2>" + privacy_table(run["privacy"]);
  if (text_of(run, "mode") == "federated") body += "<h2>Federated rounds</h2>" + rounds_table(run);
  body += "<h2>Refusals</h2>" + refusals_table(object_of(run, "refusals"));
  body += "<h2>Plan</h2>" + key_values(object_of(run, "plan"));
  return {200, title, body, ""};
}

}  // namespace baton::node::console

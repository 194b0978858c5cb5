#include "tools/run_control.h"

#include <iostream>
#include <memory>

#include "chain/genesis.h"
#include "chain/keys.h"
#include "chain/proto/ledger.pb.h"
#include "chain/training.h"
#include "api/training_json.h"
#include "tools/cli.h"
#include "tools/node_connect.h"
#include "tools/signed_submit.h"

namespace baton::tools {

namespace {

using nlohmann::json;

struct CancelOptions {
  std::string run_id;
  std::string reason;
  std::string genesis_file;
  std::string key_file;
  std::string node = "http://127.0.0.1:26680";
  bool json = false;
};

void cancel(const CancelOptions& o) {
  if (o.reason.empty()) fail("--reason is empty; say why the run is cancelled", Exit::usage);
  if (o.reason.size() > chain::kMaxRunControlTextBytes) {
    fail("--reason is " + std::to_string(o.reason.size()) + " bytes long; at most " +
             std::to_string(chain::kMaxRunControlTextBytes) + " bytes are recorded",
         Exit::usage);
  }
  const MemberSigner signer = load_member_signer(o.genesis_file, o.key_file);
  const auto* m = signer.spec.genesis.find_member(signer.member);
  if (m == nullptr || !m->has_role(chain::kRoleAdmin)) {
    fail("the key in " + o.key_file + " is not an admin member of chain " + signer.spec.chain_id() +
         "; only admins may cancel runs");
  }
  const json st = training_status_or_exit("", o.node);
  const json* run = api::select_run(st, o.run_id);
  if (run == nullptr)
    fail("the ledger has no run \"" + o.run_id + "\"; `baton run status` lists the runs");
  const std::string status = (*run)["status"].get<std::string>();
  if (status == "finished" || status == "unfunded" || status == "cancelled" ||
      status == "not_ready") {
    fail("run " + o.run_id + " already ended (" + status + "); there is nothing to cancel");
  }
  chain::pb::CancelRun c;
  c.set_run_id(o.run_id);
  c.set_reason(o.reason);
  json out = submit_signed(signer, o.node, chain::pb::TX_CANCEL_RUN, c.SerializeAsString());
  out["run_id"] = o.run_id;
  if (o.json) {
    print_json(out);
    return;
  }
  std::cout << "submitted CancelRun for run " << o.run_id << ": " << out["hash"].get<std::string>()
            << "\n`baton run status --node " << o.node << " --run " << o.run_id
            << "` shows it cancelled once committed, or why the ledger refused it\n";
}

}  // namespace

void add_cancel_command(CLI::App* run) {
  auto o = std::make_shared<CancelOptions>();
  auto* sub = run->add_subcommand(
      "cancel", "End a preparing or active run at once (signed with an admin key), with a reason");
  sub->add_option("--run", o->run_id, "run id")->required();
  sub->add_option("--reason", o->reason, "why, at most 256 bytes (recorded on the ledger)")
      ->required();
  sub->add_option("--genesis", o->genesis_file, "the chain's genesis file")->required();
  sub->add_option("--key", o->key_file, "an admin member's NAME.key")->required();
  sub->add_option("--node", o->node, "the node's admin API URL")->capture_default_str();
  add_node_cert_option(sub);
  sub->add_flag("--json", o->json, "print JSON for scripts");
  sub->callback([o] { cancel(*o); });
}

void check_run_can_start(const std::string& node_url, const std::string& run_id) {
  const json st = training_status_or_exit("", node_url);
  for (const auto& r : st["runs"]) {
    if (r["run_id"] != run_id) continue;
    fail("the ledger already has a run \"" + run_id + "\" (" + r["status"].get<std::string>() +
         ", started at height " + std::to_string(r["start_height"].get<std::uint64_t>()) +
         "); a run id is used once: choose another run_id");
  }
  if (st.contains("active_run") && st["active_run"].is_string()) {
    const std::string active = st["active_run"].get<std::string>();
    fail("run " + active + " is still active; wait until it ends, or `baton run cancel --run " +
         active + " --reason TEXT` ends it");
  }
}

std::string run_control_text(const json& run) {
  std::string out;
  if (run.contains("readiness")) {
    const json& r = run["readiness"];
    std::string ready, refused, silent;
    for (const auto& [name, p] : r["partners"].items()) {
      const std::string answer = p["answer"].get<std::string>();
      if (answer == "ready") {
        ready += (ready.empty() ? "" : ", ") + name + " (" +
                 std::to_string(p["train_rows"].get<std::uint64_t>()) + " rows" +
                 (p["schema_sha256"].get<std::string>().empty()
                      ? std::string()
                      : ", schema " + p["schema_sha256"].get<std::string>().substr(0, 16)) +
                 ")";
      } else if (answer == "refused") {
        refused += "\n  refused     " + name + ": " + p["reason"].get<std::string>() + " (" +
                   p["detail"].get<std::string>() + ")";
      } else {
        silent += (silent.empty() ? "" : ", ") + name;
      }
    }
    out += "readiness     " +
           std::string(run["status"] == "preparing" ? "until height " : "deadline ") +
           std::to_string(r["deadline_height"].get<std::uint64_t>()) +
           "; ready: " + (ready.empty() ? "none" : ready) +
           (silent.empty() ? std::string() : "; no answer: " + silent) + refused + "\n";
  }
  if (run.contains("stop")) {
    const json& s = run["stop"];
    const std::string member = s["member"].get<std::string>();
    out += std::string(run["status"] == "cancelled" ? "cancelled     by " : "not ready     ") +
           (run["status"] == "cancelled" ? member + ": "
                                         : s["cause"].get<std::string>() +
                                               (member.empty() ? "" : " (" + member + ")") + ": ") +
           s["reason"].get<std::string>() + " at height " +
           std::to_string(run["end_height"].get<std::uint64_t>()) + "\n";
  }
  return out;
}

}  // namespace baton::tools

// `baton status` and `baton tx submit`: talk to a running batond through its
// admin HTTP API (docs/OPERATIONS.md, "Admin API").
#include <chrono>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "chain/keys.h"
#include "chain/transaction.h"
#include "api/http_client.h"
#include "tools/node_connect.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace baton::tools {
namespace {

using nlohmann::json;

std::unique_ptr<api::HttpClient> client_for(const std::string& url) {
  auto c = connect_node(url, std::chrono::seconds(10));
  if (!c) fail(c.error().message, Exit::usage);
  return std::move(c).value();
}

// GET/POST that must reach the node and get JSON back.
json call(api::HttpClient& client, const std::string& url, std::string_view method,
          std::string_view target, std::string_view body = {},
          std::string_view content_type = "application/json", api::HttpReply* raw = nullptr) {
  auto r = client.request(method, target, body, content_type);
  if (!r) fail(r.error().message, Exit::unavailable);
  if (raw) *raw = *r;
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) {
    fail("the server at " + url + " answered " + std::to_string(r->status) +
             " with something that is not JSON; is this a batond admin API?",
         Exit::unavailable);
  }
  return j;
}

struct StatusOptions {
  std::string node = "http://127.0.0.1:26680";
  bool json = false;
};

void status(const StatusOptions& o) {
  auto client = client_for(o.node);
  api::HttpReply raw;
  json j = call(*client, o.node, "GET", "/status", {}, "application/json", &raw);
  if (raw.status != 200 || !j.contains("height") || !j.contains("tip_hash")) {
    fail("the node at " + o.node + " answered " + std::to_string(raw.status) +
             " without a status: " + j.value("error", std::string("no height/tip_hash")),
         Exit::unavailable);
  }
  // The members and the changes waiting for their quorum (issue 18); a node
  // without GET /members (an older batond) shows none.
  api::HttpReply members_raw;
  const json members =
      call(*client, o.node, "GET", "/members", {}, "application/json", &members_raw);
  const bool has_members = members_raw.status == 200 && members.contains("members");
  if (has_members) {
    j["members"] = {{"count", members["members"].size()}, {"pending", members["pending"]}};
  }
  if (o.json) {
    print_json(j);
    return;
  }
  std::cout << "node      " << j.value("node", "") << " (chain " << j.value("chain_id", "") << ")\n"
            << "height    " << j["height"].get<std::uint64_t>() << "\n"
            << "tip       " << j["tip_hash"].get<std::string>() << "\n"
            << "consensus round " << j.value("round", 0) << ", step " << j.value("step", "") << "\n"
            << "mempool   " << j["mempool"].value("txs", 0) << " txs\n";
  if (j.value("halted", false)) {
    std::cout << "HALTED    (" << j.value("halt_cause", "") << ") " << j.value("halt_reason", "")
              << "\n";
  }
  // State sync (docs/OPERATIONS.md): what [statesync] of a new node may trust.
  if (j.value("history_from", std::uint64_t{1}) > 1)
    std::cout << "history   from height " << j["history_from"].get<std::uint64_t>() << "\n";
  if (j.contains("state_sync"))
    std::cout << "statesync " << j["state_sync"].get<std::string>() << "\n";
  if (j.contains("snapshots")) {
    for (const auto& sn : j["snapshots"]) {
      std::cout << "snapshot  " << sn.value("height", std::uint64_t{0}) << " "
                << sn.value("block_id", "") << "\n";
    }
  }
  for (const auto& p : j["peers"]) {
    std::cout << "peer      " << p.value("name", "") << " " << p.value("address", "") << " "
              << (p.value("connected", false) ? "connected" : "disconnected");
    // Why the last session ended or the last dial failed; the text may quote
    // what the peer sent, so only printable ASCII reaches the terminal.
    if (const std::string why = p.value("last_error", ""); !why.empty()) {
      std::string shown;
      for (const char c : why.substr(0, 200)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
      std::cout << " (" << shown << ")";
    }
    std::cout << "\n";
  }
  if (!has_members) return;
  std::cout << "members   " << members["members"].size() << ", " << members["pending"].size()
            << " change(s) pending\n";
  for (const auto& c : members["pending"]) {
    std::cout << "pending   " << c.value("kind", "") << " " << c.value("name", "") << ": power "
              << c.value("approved_power", std::uint64_t{0}) << " of "
              << c.value("quorum_power", std::uint64_t{0}) << ", lapses at height "
              << c.value("expires_at_height", std::uint64_t{0}) << ", id " << c.value("id", "")
              << "\n";
  }
}

struct SubmitOptions {
  std::string node = "http://127.0.0.1:26680";
  std::string key_file;
  std::string note;
  double wait_s = 0;
  bool json = false;
};

void submit(const SubmitOptions& o) {
  auto keys = chain::parse_secret_keys(read_secret_file(o.key_file, "key file").view());
  if (!keys) fail("key file " + o.key_file + " is not a Baton key: " + keys.error().message);
  auto client = client_for(o.node);
  api::HttpReply raw;
  json st = call(*client, o.node, "GET", "/status", {}, "application/json", &raw);
  if (raw.status != 200 || !st.contains("chain_id") || !st.contains("genesis_hash"))
    fail("the node at " + o.node + " gave no status", Exit::unavailable);
  const std::string chain_id = st["chain_id"].get<std::string>();
  // The signature binds the chain id and the genesis hash the node runs.
  auto genesis = chain::Hash::from_hex(st["genesis_hash"].get<std::string>());
  if (!genesis) fail("the node at " + o.node + " gave a malformed genesis hash", Exit::unavailable);
  const chain::NetworkId network{chain_id, *genesis};
  const std::string pub = keys->signing.public_key().hex();
  json nj = call(*client, o.node, "GET", "/nonce/" + pub, {}, "application/json", &raw);
  if (raw.status == 404) fail("the key in " + o.key_file + " is not a member of chain " + chain_id);
  if (raw.status != 200)
    fail("the node could not give the next nonce: " + nj.value("error", std::string("?")),
         Exit::unavailable);
  const std::uint64_t nonce = nj["next_nonce"].get<std::uint64_t>();
  const std::string tx =
      chain::encode_transaction(chain::make_note(network, keys->signing, nonce, o.note));
  const std::string local_hash = chain::tx_hash(tx).hex();
  auto posted = client->request("POST", "/tx", tx, "application/octet-stream");
  if (!posted) {
    // The node may have taken it before the connection failed.
    fail(posted.error().message + "; transaction " + local_hash +
             " may still have reached the node: check with `baton ledger tx --hash " + local_hash +
             " --data-dir DATA/ledger` before sending it again",
         Exit::unavailable);
  }
  raw = *posted;
  json r = json::parse(raw.body, nullptr, false);
  if (r.is_discarded()) {
    fail("the server at " + o.node + " answered " + std::to_string(raw.status) +
             " with something that is not JSON; is this a batond admin API?",
         Exit::unavailable);
  }
  if (!r.value("accepted", false)) {
    fail("the node refused the transaction: " + r.value("error", std::string("no reason given")),
         raw.status == 503 ? Exit::unavailable : Exit::failure);
  }
  const std::string hash = r.value("hash", "");
  json out{{"accepted", true}, {"hash", hash}, {"nonce", nonce}, {"sender", pub}};
  if (o.wait_s > 0) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(o.wait_s);
    bool committed = false;
    // The transaction is in the node's mempool: from here on, a poll that
    // fails (the node busy, a slow answer) says nothing about its fate, so
    // keep asking until the deadline instead of giving up on the first one.
    auto poller = connect_node(o.node, std::chrono::seconds(2));
    while (!committed && std::chrono::steady_clock::now() < deadline) {
      auto t = (*poller)->get("/tx/" + hash);
      if (t && t->status == 200) {
        json j = json::parse(t->body, nullptr, false);
        if (!j.is_discarded() && j.value("status", "") == "committed") {
          out["height"] = j["height"];
          committed = true;
          break;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    out["committed"] = committed;
    if (!committed) {
      if (o.json) print_json(out);
      std::ostringstream wait;
      wait << o.wait_s;
      fail("transaction " + hash + " was accepted but is not yet committed after " + wait.str() +
               " s; it may still be: check with `baton ledger tx --hash " + hash +
               " --data-dir DATA/ledger` (or GET /tx/" + hash + " on the node)",
           Exit::not_committed);
    }
  }
  if (o.json) {
    print_json(out);
  } else {
    std::cout << "accepted " << hash << " (nonce " << nonce << ")";
    if (out.contains("height"))
      std::cout << ", committed at height " << out["height"].get<std::uint64_t>();
    std::cout << "\n";
  }
}

}  // namespace

void register_node_commands(CLI::App& app) {
  auto so = std::make_shared<StatusOptions>();
  auto* st =
      app.add_subcommand("status", "Show a running node's height, tip, consensus step and peers");
  st->add_option("--node", so->node, "The node's admin API URL")->capture_default_str();
  add_node_cert_option(st);
  st->add_flag("--json", so->json, "Print the node's status JSON");
  st->callback([so] { status(*so); });

  auto* tx = app.add_subcommand("tx", "Transactions");
  tx->require_subcommand(1);
  auto to = std::make_shared<SubmitOptions>();
  auto* sub = tx->add_subcommand("submit", "Sign a TX_NOTE with KEYFILE and submit it to a node");
  sub->add_option("--node", to->node, "The node's admin API URL")->capture_default_str();
  add_node_cert_option(sub);
  sub->add_option("--key", to->key_file, "The sender's NAME.key (a genesis member)")->required();
  sub->add_option("--note", to->note, "The note's text")->required();
  sub->add_option("--wait", to->wait_s, "Wait up to this many seconds until it is committed");
  sub->add_flag("--json", to->json, "Print the result as JSON");
  sub->callback([to] { submit(*to); });
}

}  // namespace baton::tools

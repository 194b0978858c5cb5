#include "tests/integration/testnet.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "chain/genesis.h"
#include "chain/transaction.h"

namespace baton::integration {
namespace {

using nlohmann::json;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

testing::RunResult testnet_sh(const std::vector<std::string>& args) {
  return testing::run_program(
      testing::source_dir() / "deploy" / "testnet.sh", args, std::chrono::seconds(120),
      {{"BATON_BIN_DIR", testing::bin_path("baton").parent_path().string()}});
}

// Posts serialized transaction bytes to a node: the hash it accepted, or ""
// with the reason in *why.
std::string post_tx(api::HttpClient& c, const std::string& tx, std::string* why) {
  auto r = c.request("POST", "/tx", tx, "application/octet-stream");
  if (!r) {
    if (why) *why = r.error().message;
    return "";
  }
  json j = json::parse(r->body, nullptr, false);
  if (r->status != 202 || j.is_discarded() || !j.value("accepted", false)) {
    if (why) *why = r->body;
    return "";
  }
  return j["hash"].get<std::string>();
}

}  // namespace

Testnet::Testnet(int n, int empty_block_ms) {
  init({"--nodes", std::to_string(n), "--empty-block-ms", std::to_string(empty_block_ms),
        "--idle-block-ms", std::to_string(empty_block_ms)});
}

Testnet::Testnet(const TestnetOptions& o) {
  const int idle_ms = o.idle_block_ms < 0 ? o.empty_block_ms : o.idle_block_ms;
  std::vector<std::string> args{"--nodes",          std::to_string(o.nodes),
                                "--empty-block-ms", std::to_string(o.empty_block_ms),
                                "--idle-block-ms",  std::to_string(idle_ms)};
  if (!o.names.empty()) {
    std::string joined;
    for (const auto& n : o.names) joined += (joined.empty() ? "" : ",") + n;
    args.insert(args.end(), {"--names", joined});
  }
  if (!o.chain_id.empty()) args.insert(args.end(), {"--chain-id", o.chain_id});
  if (!o.plan.empty()) args.insert(args.end(), {"--plan", o.plan.string()});
  if (!o.store.empty()) args.insert(args.end(), {"--store", o.store});
  if (!o.data.empty()) args.insert(args.end(), {"--data", o.data.string()});
  if (!o.malicious.empty()) args.insert(args.end(), {"--malicious", o.malicious});
  if (!o.overspend.empty()) args.insert(args.end(), {"--overspend", o.overspend});
  if (!o.drop_out.empty()) args.insert(args.end(), {"--drop-out", o.drop_out});
  if (!o.agent_link.empty()) args.insert(args.end(), {"--agent-link", o.agent_link});
  if (o.model_check_s > 0)
    args.insert(args.end(), {"--model-check-s", std::to_string(o.model_check_s)});
  if (!o.sponsor.empty()) args.insert(args.end(), {"--sponsor", o.sponsor});
  for (const auto& [name, credits] : o.balances)
    args.insert(args.end(), {"--balance", name + "=" + std::to_string(credits)});
  if (!o.wan.empty()) args.insert(args.end(), {"--wan", o.wan});
  for (const auto& w : o.wan_nodes) args.insert(args.end(), {"--wan-node", w});
  if (o.netns) args.push_back("--netns");
  if (o.no_start) args.push_back("--no-start");
  init(args);
}

std::string netns_unavailable() {
  if (::geteuid() != 0) return "network namespaces need root";
  if (!std::filesystem::exists("/dev/net/tun")) return "no /dev/net/tun";
  if (!std::filesystem::exists("/usr/sbin/ip") && !std::filesystem::exists("/sbin/ip")) {
    return "no ip(8) (iproute2)";
  }
  return "";
}

void Testnet::init(const std::vector<std::string>& options) {
  const std::string d = (dir_.path() / "net").string();
  std::vector<std::string> args{"up", "--dir", d};
  args.insert(args.end(), options.begin(), options.end());
  auto r = testnet_sh(args);
  if (r.exit_code != 0) {
    error_ = "testnet.sh up failed: " + r.err + r.out;
    return;
  }
  json nodes = json::parse(slurp(dir_.path() / "net" / "nodes.json"), nullptr, false);
  if (!nodes.is_array() || nodes.empty()) {
    error_ = "nodes.json is not a list of nodes";
    return;
  }
  for (const auto& j : nodes) {
    nodes_.push_back({j["name"], j["admin_url"], j["p2p_addr"], j["data_dir"].get<std::string>(),
                      j["config"].get<std::string>(), j.value("admin_cert_sha256", "")});
    auto client = api::HttpClient::connect_to(nodes_.back().admin_url, std::chrono::seconds(5),
                                              nodes_.back().admin_cert_sha256);
    if (!client) {
      error_ = "cannot reach " + nodes_.back().admin_url + ": " + client.error().message;
      return;
    }
    clients_.push_back(std::move(*client));
    auto k = chain::parse_secret_keys(
        slurp(dir_.path() / "net" / "keys" / (nodes_.back().name + ".key")));
    if (!k) {
      error_ = "cannot read key: " + k.error().message;
      return;
    }
    keys_.push_back(std::move(k).value());
  }
  const std::string genesis = slurp(dir_.path() / "net" / "genesis.json");
  genesis_hash_ = chain::genesis_hash(genesis);
  chain_id_ = chain::parse_genesis(genesis).value().chain_id;
  ok_ = true;
}

Testnet::~Testnet() {
  (void)testnet_sh({"down", "--dir", (dir_.path() / "net").string(), "--kill"});
}

bool Testnet::start(int i, Process which) {
  std::vector<std::string> args{"start", "--dir", (dir_.path() / "net").string(), "--node",
                                nodes_.at(i).name};
  if (which == Process::batond) args.insert(args.end(), {"--only", "batond"});
  if (which == Process::agent) args.insert(args.end(), {"--only", "agent"});
  return testnet_sh(args).exit_code == 0;
}

bool Testnet::down() {
  return testnet_sh({"down", "--dir", (dir_.path() / "net").string()}).exit_code == 0;
}

bool Testnet::start_all() {
  return testnet_sh({"start-all", "--dir", (dir_.path() / "net").string()}).exit_code == 0;
}

std::string Testnet::wan(const std::string& command) {
  std::vector<std::string> args{"wan", "--dir", (dir_.path() / "net").string()};
  std::istringstream words(command);
  for (std::string w; words >> w;) args.push_back(w);
  auto r = testnet_sh(args);
  return r.out + r.err;
}

int Testnet::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].name == name) return static_cast<int>(i);
  return -1;
}

bool Testnet::signal(int i, int sig, Process which) {
  json nodes = json::parse(slurp(dir_.path() / "net" / "nodes.json"), nullptr, false);
  if (!nodes.is_array()) return false;
  for (const auto& n : nodes) {
    if (n["name"] == nodes_.at(i).name) {
      const int pid = n.value(which == Process::agent ? "agent_pid" : "pid", 0);
      return pid > 0 && ::kill(pid, sig) == 0;
    }
  }
  return false;
}

std::optional<json> Testnet::training(int i) {
  auto r = client(i).get("/training");
  if (!r || r->status != 200) return std::nullopt;
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string Testnet::submit_tx(int sender, int via, int type, const std::string& payload,
                               std::string* why) {
  auto n = client(via).get("/nonce/" + keys_.at(sender).signing.public_key().hex());
  if (!n || n->status != 200) {
    if (why) *why = n ? n->body : n.error().message;
    return "";
  }
  const std::uint64_t nonce = json::parse(n->body)["next_nonce"].get<std::uint64_t>();
  const std::string tx = chain::encode_transaction(
      chain::make_transaction({chain_id_, genesis_hash_}, keys_.at(sender).signing, nonce,
                              static_cast<chain::pb::TxType>(type), payload));
  return post_tx(client(via), tx, why);
}

bool Testnet::stop(int i, bool kill, Process which) {
  std::vector<std::string> args{"stop", "--dir", (dir_.path() / "net").string(), "--node",
                                nodes_.at(i).name};
  if (kill) args.push_back("--kill");
  if (which == Process::batond) args.insert(args.end(), {"--only", "batond"});
  if (which == Process::agent) args.insert(args.end(), {"--only", "agent"});
  return testnet_sh(args).exit_code == 0;
}

api::HttpClient& Testnet::client(int i) { return *clients_.at(i); }

std::optional<json> Testnet::status(int i) {
  auto r = client(i).get("/status");
  if (!r || r->status != 200) return std::nullopt;
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::uint64_t Testnet::height(int i) {
  auto s = status(i);
  return s ? (*s)["height"].get<std::uint64_t>() : 0;
}

std::string Testnet::block_id(int i, std::uint64_t height) {
  auto r = client(i).get("/block/" + std::to_string(height));
  if (!r || r->status != 200) return "";
  return json::parse(r->body)["block_id"].get<std::string>();
}

std::size_t Testnet::block_tx_count(int i, std::uint64_t height) {
  auto r = client(i).get("/block/" + std::to_string(height));
  if (!r || r->status != 200) return 0;
  return json::parse(r->body)["transactions"].size();
}

std::string Testnet::submit_note(int sender, int via, const std::string& text, std::string* why) {
  auto& nonce = next_nonce_[sender];
  if (nonce == 0) nonce = 1;
  const std::string tx = chain::encode_transaction(
      chain::make_note({chain_id_, genesis_hash_}, keys_.at(sender).signing, nonce, text));
  std::string hash = post_tx(client(via), tx, why);
  if (hash.empty()) return "";
  ++nonce;
  return hash;
}

bool Testnet::committed(int i, const std::string& tx_hash) {
  auto r = client(i).get("/tx/" + tx_hash);
  if (!r || r->status != 200) return false;
  return json::parse(r->body).value("status", "") == "committed";
}

std::uint16_t Testnet::p2p_port(int i) const {
  const std::string& a = nodes_.at(i).p2p_addr;
  return static_cast<std::uint16_t>(std::stoi(a.substr(a.rfind(':') + 1)));
}

}  // namespace baton::integration

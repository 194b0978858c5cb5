// What the membership integration tests share (issue 18): `baton member`
// proposals and their approvals on a Testnet, `baton member list`, and a
// newcomer: a hospital in no genesis whose batond (and, with data, its
// baton-agent) the test starts from files it writes itself.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/integration/testnet.h"

namespace baton::integration {

// The words of a printed command line (approve_with).
inline std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// `baton member list --json` of a node; null when it fails.
inline nlohmann::json members_of(const std::string& admin_url) {
  using namespace std::chrono_literals;
  const auto r = testing::run_baton({"member", "list", "--node", admin_url, "--json"}, 20s);
  if (r.exit_code != 0) return nlohmann::json();
  return nlohmann::json::parse(r.out, nullptr, false);
}

inline const nlohmann::json* find_member(const nlohmann::json& members, const std::string& name) {
  if (!members.is_object()) return nullptr;
  for (const auto& m : members["members"]) {
    if (m.value("name", "") == name) return &m;
  }
  return nullptr;
}

inline std::filesystem::path genesis_key(Testnet& net, const std::string& name) {
  return net.net_dir() / "keys" / (name + ".key");
}

// Member `node`'s admin approves the change `id` by running the command the
// proposer printed (same bytes, same id).
inline void approve(const std::vector<std::string>& approve_with, const std::string& id,
                    Testnet& net, int node, const std::filesystem::path& key) {
  using namespace std::chrono_literals;
  std::vector<std::string> args(approve_with.begin() + 1, approve_with.end());  // drop "baton"
  for (const std::string& extra :
       {std::string("--expect-id"), id, std::string("--genesis"),
        (net.net_dir() / "genesis.json").string(), std::string("--key"), key.string(),
        std::string("--node"), net.nodes()[node].admin_url, std::string("--json")}) {
    args.push_back(extra);
  }
  const auto r = testing::run_baton(args, 30s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["id"], id);
}

// A hospital that is no member of the genesis: its keys (`baton keygen`),
// its node.toml and agent.toml, its processes.
struct Newcomer {
  std::string name = "hospital-e";
  std::filesystem::path dir;
  int p2p_port = testing::free_port();
  int admin_port = testing::free_port();
  int agent_port = testing::free_port();
  nlohmann::json pub;  // keygen's output: ed25519_public, x25519_public
  std::unique_ptr<testing::ChildProcess> batond;
  std::unique_ptr<testing::ChildProcess> agent;
  std::unique_ptr<api::HttpClient> client;

  std::string admin_url() const { return "http://127.0.0.1:" + std::to_string(admin_port); }
  std::string p2p() const { return "127.0.0.1:" + std::to_string(p2p_port); }
  std::filesystem::path key_file() const { return dir / (name + ".key"); }

  // `baton keygen` into dir; false (with the reason in `why`) when it fails.
  bool keygen(std::string* why) {
    using namespace std::chrono_literals;
    const auto r = testing::run_baton(
        {"keygen", "--name", name, "--out", dir.string(), "--p2p", p2p(), "--json"}, 30s);
    if (r.exit_code != 0) {
      *why = r.err;
      return false;
    }
    pub = nlohmann::json::parse(r.out);
    return true;
  }

  // node.toml: the genesis, its own key, loopback timeouts like testnet.sh's
  // and `extra` (more TOML sections) at the end.
  void write_node_config(const std::filesystem::path& genesis, int block_ms,
                         const std::string& extra = "") const {
    std::filesystem::create_directories(dir / "data");
    std::filesystem::permissions(dir / "data", std::filesystem::perms::owner_all);
    const std::string ms = std::to_string(block_ms);
    testing::write_text(dir / "node.toml",
                        "name = \"" + name + "\"\nkey_file = \"" + key_file().string() +
                            "\"\ngenesis_file = \"" + genesis.string() + "\"\ndata_dir = \"" +
                            (dir / "data").string() + "\"\np2p_listen = \"" + p2p() +
                            "\"\nadmin_listen = \"127.0.0.1:" + std::to_string(admin_port) +
                            "\"\nlog_level = \"info\"\nlog_file = \"batond.log\"\n\n"
                            "[consensus]\ntimeout_propose_ms = 300\ntimeout_prevote_ms = 200\n"
                            "timeout_precommit_ms = 200\ntimeout_delta_ms = 100\n"
                            "timeout_commit_ms = 0\nempty_block_interval_ms = " +
                            ms + "\nidle_block_interval_ms = " + ms + "\n" + extra);
  }

  // agent.toml: its data (train.csv and validation.csv in `data`, and the
  // split's feature_schema.json beside it when there is one) and the
  // consortium's store, as testnet.sh writes a partner's.
  void write_agent_config(const std::filesystem::path& genesis, const std::filesystem::path& data,
                          const std::string& store_uri) const {
    std::string text = "name = \"" + name + "\"\nkey_file = \"" + key_file().string() +
                       "\"\ngenesis_file = \"" + genesis.string() + "\"\nnode_url = \"" +
                       admin_url() + "\"\ntoken_file = \"admin.token\"\n";
    text += "admin_listen = \"127.0.0.1:" + std::to_string(agent_port) + "\"\npoll_ms = 100\n";
    text +=
        "log_level = \"info\"\nlog_file = \"agent.log\"\n\n[store]\nuri = \"" + store_uri + "\"\n";
    text += "\n[training]\nwork_dir = \"" + (dir / "data" / "agent").string() + "\"\n";
    text += "train_csv = \"" + (data / "train.csv").string() + "\"\n";
    text += "validation_csv = \"" + (data / "validation.csv").string() + "\"\n";
    if (const auto schema = data.parent_path() / "feature_schema.json";
        std::filesystem::exists(schema)) {
      text += "feature_schema = \"" + schema.string() + "\"\n";
    }
    text += "torch_threads = 1\n";
    testing::write_text(dir / "agent.toml", text);
  }

  // Starts batond; false when its admin API does not open within 20 s.
  bool start_batond() {
    using namespace std::chrono_literals;
    batond = std::make_unique<testing::ChildProcess>(
        testing::bin_path("batond"),
        std::vector<std::string>{"--config", (dir / "node.toml").string()}, dir / "stdout.log");
    if (!testing::wait_until([&] { return testing::port_open(admin_port); }, 20s)) return false;
    auto c = api::HttpClient::connect_to(admin_url());
    if (!c) return false;
    client = std::move(*c);
    return true;
  }

  // Starts baton-agent; false when its API does not open within 60 s.
  bool start_agent() {
    using namespace std::chrono_literals;
    agent = std::make_unique<testing::ChildProcess>(
        testing::bin_path("baton-agent"),
        std::vector<std::string>{"--config", (dir / "agent.toml").string()},
        dir / "agent-stdout.log");
    return testing::wait_until([&] { return testing::port_open(agent_port); }, 60s);
  }

  nlohmann::json status() {
    if (!client) return nlohmann::json();
    auto r = client->get("/status");
    if (!r || r->status != 200) return nlohmann::json();
    return nlohmann::json::parse(r->body, nullptr, false);
  }
  std::uint64_t height() {
    const nlohmann::json s = status();
    return s.is_object() ? s.value("height", std::uint64_t{0}) : 0;
  }
  int connected_peers() {
    const nlohmann::json s = status();
    int connected = 0;
    if (s.is_object())
      for (const auto& p : s["peers"]) connected += p.value("connected", false) ? 1 : 0;
    return connected;
  }
};

// hospital-a proposes `e` as a validator and partner (power 1), b and c
// approve (3 of 4); returns once every node of `net` lists it. Checks that
// two approvals alone leave it pending.
inline void admit_by_vote(Testnet& net, const Newcomer& e) {
  using namespace std::chrono_literals;
  const std::filesystem::path genesis = net.net_dir() / "genesis.json";
  const auto first = testing::run_baton({"member",       "add",
                                         "--name",       e.name,
                                         "--ed25519",    e.pub["ed25519_public"].get<std::string>(),
                                         "--x25519",     e.pub["x25519_public"].get<std::string>(),
                                         "--p2p",        e.p2p(),
                                         "--power",      "1",
                                         "--roles",      "validator,partner",
                                         "--expires-in", "2000",
                                         "--genesis",    genesis.string(),
                                         "--key",        genesis_key(net, "hospital-a").string(),
                                         "--node",       net.nodes()[0].admin_url,
                                         "--json"},
                                        30s);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const nlohmann::json proposed = nlohmann::json::parse(first.out);
  const std::string id = proposed["id"].get<std::string>();
  const auto approve_with = words(proposed["approve_with"].get<std::string>());
  approve(approve_with, id, net, 1, genesis_key(net, "hospital-b"));
  // Two of four is no quorum: still pending.
  ASSERT_TRUE(testing::wait_until(
      [&] {
        const nlohmann::json m = members_of(net.nodes()[1].admin_url);
        return m.is_object() && !m["pending"].empty();
      },
      10s));
  EXPECT_EQ(find_member(members_of(net.nodes()[0].admin_url), e.name), nullptr);
  approve(approve_with, id, net, 2, genesis_key(net, "hospital-c"));
  for (int i = 0; i < static_cast<int>(net.nodes().size()); ++i) {
    ASSERT_TRUE(testing::wait_until(
        [&] { return find_member(members_of(net.nodes()[i].admin_url), e.name); }, 20s))
        << net.nodes()[i].name << " never admitted " << e.name;
  }
}

}  // namespace baton::integration

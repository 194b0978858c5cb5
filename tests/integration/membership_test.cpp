// Membership by vote on a running network (issue 18): four hospitals admit a
// fifth with `baton member add` (3 of 4 approve), its batond starts from the
// genesis, syncs and becomes a validator whose power the commits need; then
// hospital-b rotates its key and restarts with the new key file, and a
// member is removed by vote. The chain keeps committing; the ledgers are
// identical and verify.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::run_baton;
using testing::wait_until;
namespace fs = std::filesystem;

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

json members_of(const std::string& admin_url) {
  const auto r = run_baton({"member", "list", "--node", admin_url, "--json"}, 20s);
  if (r.exit_code != 0) return json();
  return json::parse(r.out, nullptr, false);
}

const json* find_member(const json& members, const std::string& name) {
  if (!members.is_object()) return nullptr;
  for (const auto& m : members["members"]) {
    if (m.value("name", "") == name) return &m;
  }
  return nullptr;
}

// A batond that is no member of the genesis: the test writes its node.toml.
struct Newcomer {
  std::string name = "hospital-e";
  fs::path dir;
  int p2p_port = testing::free_port();
  int admin_port = testing::free_port();
  std::unique_ptr<testing::ChildProcess> batond;
  std::unique_ptr<api::HttpClient> client;

  std::string admin_url() const { return "http://127.0.0.1:" + std::to_string(admin_port); }
  std::string p2p() const { return "127.0.0.1:" + std::to_string(p2p_port); }
  fs::path key_file() const { return dir / (name + ".key"); }

  json status() {
    if (!client) return json();
    auto r = client->get("/status");
    if (!r || r->status != 200) return json();
    return json::parse(r->body, nullptr, false);
  }
  std::uint64_t height() {
    const json s = status();
    return s.is_object() ? s.value("height", std::uint64_t{0}) : 0;
  }
};

// The approvers run the command the first one printed (same bytes, same id).
void approve(const std::vector<std::string>& approve_with, const std::string& id, Testnet& net,
             int node, const fs::path& key) {
  std::vector<std::string> args(approve_with.begin() + 1, approve_with.end());  // drop "baton"
  for (const std::string& extra :
       {std::string("--expect-id"), id, std::string("--genesis"),
        (net.net_dir() / "genesis.json").string(), std::string("--key"), key.string(),
        std::string("--node"), net.nodes()[node].admin_url, std::string("--json")}) {
    args.push_back(extra);
  }
  const auto r = run_baton(args, 30s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["id"], id);
}

fs::path genesis_key(Testnet& net, const std::string& name) {
  return net.net_dir() / "keys" / (name + ".key");
}

TEST(Membership, AFifthHospitalJoinsByVoteThenAKeyRotatesAndAMemberLeaves) {
  TestnetOptions options;
  options.names = {"hospital-a", "hospital-b", "hospital-c", "hospital-d"};
  options.empty_block_ms = 300;
  Testnet net(options);
  ASSERT_TRUE(net.ok()) << net.error();
  const fs::path genesis = net.net_dir() / "genesis.json";

  // The new hospital makes its keys.
  Newcomer e;
  e.dir = net.dir() / "newcomer";
  const auto keygen = run_baton(
      {"keygen", "--name", e.name, "--out", e.dir.string(), "--p2p", e.p2p(), "--json"}, 30s);
  ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
  const json pub = json::parse(keygen.out);

  // hospital-a proposes it; b and c approve the printed command (3 of 4).
  const auto first = run_baton({"member",       "add",
                                "--name",       e.name,
                                "--ed25519",    pub["ed25519_public"].get<std::string>(),
                                "--x25519",     pub["x25519_public"].get<std::string>(),
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
  const json proposed = json::parse(first.out);
  const std::string id = proposed["id"].get<std::string>();
  const auto approve_with = words(proposed["approve_with"].get<std::string>());
  approve(approve_with, id, net, 1, genesis_key(net, "hospital-b"));
  // Two of four is no quorum: still pending.
  ASSERT_TRUE(wait_until(
      [&] {
        const json m = members_of(net.nodes()[1].admin_url);
        return m.is_object() && !m["pending"].empty();
      },
      10s));
  EXPECT_EQ(find_member(members_of(net.nodes()[0].admin_url), e.name), nullptr);
  approve(approve_with, id, net, 2, genesis_key(net, "hospital-c"));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(
        wait_until([&] { return find_member(members_of(net.nodes()[i].admin_url), e.name); }, 20s))
        << net.nodes()[i].name << " never admitted " << e.name;
  }

  // The newcomer's batond: the genesis, its own key, the members' addresses.
  fs::create_directories(e.dir / "data");
  testing::write_text(e.dir / "node.toml",
                      "name = \"" + e.name + "\"\nkey_file = \"" + e.key_file().string() +
                          "\"\ngenesis_file = \"" + genesis.string() + "\"\ndata_dir = \"" +
                          (e.dir / "data").string() + "\"\np2p_listen = \"" + e.p2p() +
                          "\"\nadmin_listen = \"127.0.0.1:" + std::to_string(e.admin_port) +
                          "\"\nlog_level = \"info\"\nlog_file = \"batond.log\"\n\n"
                          "[consensus]\ntimeout_propose_ms = 300\ntimeout_prevote_ms = 200\n"
                          "timeout_precommit_ms = 200\ntimeout_delta_ms = 100\n"
                          "timeout_commit_ms = 0\nempty_block_interval_ms = 300\n"
                          "idle_block_interval_ms = 300\n");
  fs::permissions(e.dir / "data", fs::perms::owner_all);
  e.batond = std::make_unique<testing::ChildProcess>(
      testing::bin_path("batond"),
      std::vector<std::string>{"--config", (e.dir / "node.toml").string()}, e.dir / "stdout.log");
  ASSERT_TRUE(wait_until([&] { return testing::port_open(e.admin_port); }, 20s))
      << testing::read_text(e.dir / "stdout.log");
  e.client = std::move(api::HttpClient::connect_to(e.admin_url()).value());
  // It syncs the chain and becomes a peer of all four.
  ASSERT_TRUE(wait_until([&] { return e.height() + 2 >= net.height(0) && e.height() > 0; }, 30s));
  ASSERT_TRUE(wait_until(
      [&] {
        const json s = e.status();
        if (!s.is_object()) return false;
        int connected = 0;
        for (const auto& p : s["peers"]) connected += p.value("connected", false) ? 1 : 0;
        return connected == 4;
      },
      20s));

  // Its power counts: with hospital-d down, a, b, c alone (3 of 5) cannot
  // commit; with the newcomer (4 of 5) they do, and it signs the commits.
  ASSERT_TRUE(net.stop(3));
  const std::uint64_t before = net.height(0);
  ASSERT_TRUE(wait_until([&] { return net.height(0) >= before + 3; }, 20s))
      << "no commits without hospital-d: the newcomer's power does not count";
  {
    auto r = e.client->get("/block/" + std::to_string(before + 2));
    ASSERT_TRUE(r && r->status == 200);
    const json block = json::parse(r->body);
    const auto& signers = block["commit"]["signers"];
    EXPECT_NE(std::find(signers.begin(), signers.end(), pub["ed25519_public"]), signers.end())
        << "the newcomer did not sign a commit that needed it";
  }
  ASSERT_TRUE(net.start(3));

  // hospital-b rotates its key, then restarts with the new key file.
  const fs::path new_key = net.dir() / "hospital-b.new.key";
  const auto rotated =
      run_baton({"member", "rotate-key", "--new-key-file", new_key.string(), "--genesis",
                 genesis.string(), "--key", genesis_key(net, "hospital-b").string(), "--node",
                 net.nodes()[1].admin_url, "--json"},
                30s);
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  const std::string new_ed25519 = json::parse(rotated.out)["new_ed25519"].get<std::string>();
  ASSERT_TRUE(wait_until(
      [&] {
        const json all = members_of(net.nodes()[0].admin_url);  // b points into it
        const json* b = find_member(all, "hospital-b");
        return b && (*b)["ed25519"] == new_ed25519;
      },
      20s));
  ASSERT_TRUE(net.stop(1));
  fs::copy_file(new_key, genesis_key(net, "hospital-b"), fs::copy_options::overwrite_existing);
  ASSERT_TRUE(net.start(1));

  // hospital-d is removed by vote: a, b (its new key), c and the newcomer
  // approve (4 of 5 validators).
  const auto removal =
      run_baton({"member", "remove", "--name", "hospital-d", "--expires-in", "2000", "--genesis",
                 genesis.string(), "--key", genesis_key(net, "hospital-a").string(), "--node",
                 net.nodes()[0].admin_url, "--json"},
                30s);
  ASSERT_EQ(removal.exit_code, 0) << removal.err;
  const json removing = json::parse(removal.out);
  const auto remove_with = words(removing["approve_with"].get<std::string>());
  const std::string remove_id = removing["id"].get<std::string>();
  approve(remove_with, remove_id, net, 1, genesis_key(net, "hospital-b"));
  approve(remove_with, remove_id, net, 2, genesis_key(net, "hospital-c"));
  {
    std::vector<std::string> args(remove_with.begin() + 1, remove_with.end());
    for (const std::string& extra :
         {std::string("--genesis"), genesis.string(), std::string("--key"), e.key_file().string(),
          std::string("--node"), e.admin_url()}) {
      args.push_back(extra);
    }
    const auto r = run_baton(args, 30s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ASSERT_TRUE(wait_until(
      [&] { return find_member(members_of(net.nodes()[0].admin_url), "hospital-d") == nullptr; },
      20s))
      << members_of(net.nodes()[0].admin_url).dump() << "\nnewcomer: " << e.status().dump();
  // The four that remain keep committing without hospital-d.
  ASSERT_TRUE(net.stop(3));
  const std::uint64_t after_removal = net.height(0);
  ASSERT_TRUE(wait_until([&] { return net.height(0) >= after_removal + 3; }, 20s));
  const std::uint64_t tip = after_removal + 3;
  ASSERT_TRUE(wait_until(
      [&] { return net.height(1) >= tip && net.height(2) >= tip && e.height() >= tip; }, 20s));
  const std::string tip_id = net.block_id(0, tip);
  EXPECT_EQ(net.block_id(1, tip), tip_id);
  EXPECT_EQ(net.block_id(2, tip), tip_id);
  {
    auto r = e.client->get("/block/" + std::to_string(tip));
    ASSERT_TRUE(r && r->status == 200);
    EXPECT_EQ(json::parse(r->body)["block_id"], tip_id);
  }

  // Every ledger verifies from genesis.
  ASSERT_EQ(e.batond->terminate(), 0);
  ASSERT_TRUE(net.down());
  std::vector<fs::path> ledgers;
  for (int i = 0; i < 4; ++i) ledgers.push_back(net.nodes()[i].data_dir / "ledger");
  ledgers.push_back(e.dir / "data" / "ledger");
  for (const auto& ledger : ledgers) {
    const auto v = run_baton({"ledger", "verify", "--data-dir", ledger.string()}, 60s);
    EXPECT_EQ(v.exit_code, 0) << ledger << ": " << v.out << v.err;
  }
}

}  // namespace
}  // namespace baton::integration

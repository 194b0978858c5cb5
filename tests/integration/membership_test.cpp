// Membership by vote on a running network (issue 18): four hospitals admit a
// fifth with `baton member add` (3 of 4 approve), its batond starts from the
// genesis, syncs and becomes a validator whose power the commits need; then
// hospital-b rotates its key and restarts with the new key file, and a
// member is removed by vote. The chain keeps committing; the ledgers are
// identical and verify.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "tests/integration/members.h"
#include "tests/integration/testnet.h"

namespace baton::integration {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::run_baton;
using testing::wait_until;
namespace fs = std::filesystem;

TEST(Membership, AFifthHospitalJoinsByVoteThenAKeyRotatesAndAMemberLeaves) {
  TestnetOptions options;
  options.names = {"hospital-a", "hospital-b", "hospital-c", "hospital-d"};
  options.empty_block_ms = 300;
  Testnet net(options);
  ASSERT_TRUE(net.ok()) << net.error();
  const fs::path genesis = net.net_dir() / "genesis.json";

  // The new hospital makes its keys; a, b and c admit it (3 of 4).
  Newcomer e;
  e.dir = net.dir() / "newcomer";
  std::string why;
  ASSERT_TRUE(e.keygen(&why)) << why;
  ASSERT_NO_FATAL_FAILURE(admit_by_vote(net, e));

  // The newcomer's batond: the genesis, its own key, the members' addresses.
  e.write_node_config(genesis, 300);
  ASSERT_TRUE(e.start_batond()) << testing::read_text(e.dir / "stdout.log");
  // It syncs the chain and becomes a peer of all four.
  ASSERT_TRUE(wait_until([&] { return e.height() + 2 >= net.height(0) && e.height() > 0; }, 30s));
  ASSERT_TRUE(wait_until([&] { return e.connected_peers() == 4; }, 20s));

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
    EXPECT_NE(std::find(signers.begin(), signers.end(), e.pub["ed25519_public"]), signers.end())
        << "the newcomer did not sign a commit that needed it";
  }
  {
    // `baton status` says why a peer is down.
    const auto st = run_baton({"status", "--node", net.nodes()[0].admin_url});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    const auto at = st.out.find("peer      hospital-d");
    ASSERT_NE(at, std::string::npos) << st.out;
    const std::string line = st.out.substr(at, st.out.find('\n', at) - at);
    EXPECT_NE(line.find("disconnected ("), std::string::npos) << line;
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

  // The ledger views name members by the ledger's state, not the genesis:
  // the members now (d removed, e admitted), the newcomer's transactions and
  // commit signatures, and hospital-b's under its old and its new key.
  const auto shown = run_baton({"ledger", "show", "--json", "--data-dir", ledgers[0].string()});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  std::vector<std::string> now;
  const json shown_json = json::parse(shown.out);
  for (const auto& m : shown_json["members"]) now.push_back(m["name"]);
  EXPECT_EQ(now, (std::vector<std::string>{"hospital-a", "hospital-b", "hospital-c", "hospital-e"}))
      << shown.out.substr(0, 400);
  const fs::path exported = e.dir / "export.jsonl";
  const auto x = run_baton(
      {"ledger", "export", "--data-dir", ledgers[0].string(), "--out", exported.string()});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  std::set<std::string> b_keys, senders, signers;
  std::istringstream lines(testing::read_text(exported));
  for (std::string line; std::getline(lines, line);) {
    const json block = json::parse(line);
    for (const auto& tx : block["transactions"]) {
      senders.insert(tx["sender_name"].get<std::string>());
      if (tx["sender_name"] == "hospital-b") b_keys.insert(tx["sender"].get<std::string>());
    }
    for (const auto& sig : block["commit"]["signatures"]) signers.insert(sig["name"]);
  }
  EXPECT_TRUE(senders.contains("hospital-e")) << x.out;
  EXPECT_TRUE(signers.contains("hospital-e"));
  EXPECT_EQ(b_keys.size(), 2u) << "hospital-b's transactions under its old and new key";
  for (const auto& name : senders) EXPECT_TRUE(name.starts_with("hospital-")) << name;
  for (const auto& name : signers) EXPECT_TRUE(name.starts_with("hospital-")) << name;
}

}  // namespace
}  // namespace baton::integration

// The agent follows the ledger's members (issue 18): the node's GET /members
// answer read with every bound checked (a malformed answer is an error,
// never an empty list), NodeLink asking a small fake node for it, and a
// partner agent that seals for the current members, votes only while it is
// one, and waits while its node cannot say.
#include "agent/node_members.h"

#include <gtest/gtest.h>

#include <mutex>

#include <nlohmann/json.hpp>

#include "agent/node_link.h"
#include "api/http_server.h"
#include "chain/keys.h"
#include "tests/agent/agent_network.h"

namespace baton::agent {
namespace {

using nlohmann::json;

json member_json(const chain::GenesisMember& m) {
  return {{"name", m.name},           {"ed25519", m.ed25519.hex()},
          {"x25519", m.x25519.hex()}, {"p2p_address", m.p2p_address},
          {"power", m.power},         {"roles", m.roles}};
}

chain::GenesisMember make_member(const std::string& name, std::uint64_t power = 1) {
  const auto keys = chain::generate_member_keys(name);
  chain::GenesisMember m;
  m.name = name;
  m.ed25519 = keys.signing.public_key();
  m.x25519 = keys.x25519.public_key();
  m.p2p_address = "10.0.0.1:26656";
  m.power = power;
  m.roles = power > 0 ? std::vector<std::string>{"validator", "partner"}
                      : std::vector<std::string>{"partner"};
  return m;
}

json answer_of(const std::vector<chain::GenesisMember>& members, std::uint64_t height = 42) {
  json list = json::array();
  for (const auto& m : members) list.push_back(member_json(m));
  return {{"height", height}, {"members", list}, {"pending", json::array()}};
}

TEST(NodeMembers, ReadsTheNodesAnswer) {
  const auto a = make_member("alice"), b = make_member("bob", 0);
  auto parsed = parse_node_members(answer_of({a, b}, 17).dump());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->height, 17u);
  ASSERT_EQ(parsed->members.size(), 2u);
  EXPECT_EQ(parsed->members[0].name, "alice");
  EXPECT_EQ(parsed->members[0].ed25519, a.ed25519);
  EXPECT_EQ(parsed->members[0].x25519, a.x25519);
  EXPECT_EQ(parsed->members[0].power, 1u);
  EXPECT_EQ(parsed->members[1].name, "bob");
  EXPECT_EQ(parsed->members[1].power, 0u);
  EXPECT_EQ(parsed->members[1].roles, std::vector<std::string>{"partner"});
}

// A node (or whatever answers in its place) that sends something malformed
// gets an error: the agent must not seal for an empty or partial list.
TEST(NodeMembers, AMalformedAnswerIsAnErrorNotAnEmptyList) {
  const auto a = make_member("alice"), b = make_member("bob");
  const json good = answer_of({a, b});
  std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "{\"height\":"},
      {"an array", "[]"},
      {"no height", json{{"members", good["members"]}}.dump()},
      {"negative height", json{{"height", -1}, {"members", good["members"]}}.dump()},
      {"no members", json{{"height", 1}}.dump()},
      {"empty members", json{{"height", 1}, {"members", json::array()}}.dump()},
      {"members not an array", json{{"height", 1}, {"members", "alice"}}.dump()},
  };
  auto with = [&](const std::string& what, auto change) {
    json j = good;
    change(j["members"][1]);
    cases.emplace_back(what, j.dump());
  };
  with("a bad name", [](json& m) { m["name"] = "bob smith/../"; });
  with("an empty name", [](json& m) { m["name"] = ""; });
  with("a short key", [](json& m) { m["ed25519"] = "abcd"; });
  with("a key not hex", [](json& m) { m["x25519"] = std::string(64, 'z'); });
  with("a key that is a number", [](json& m) { m["ed25519"] = 7; });
  with("no p2p address", [](json& m) { m.erase("p2p_address"); });
  with("a bad p2p address", [](json& m) { m["p2p_address"] = "nowhere"; });
  with("a negative power", [](json& m) { m["power"] = -3; });
  with("a fractional power", [](json& m) { m["power"] = 1.5; });
  with("an unknown role", [](json& m) { m["roles"] = {"validator", "king"}; });
  with("a role twice", [](json& m) { m["roles"] = {"validator", "validator"}; });
  with("too many roles", [](json& m) {
    m["roles"] = {"validator", "partner", "admin", "sponsor", "partner"};
  });
  with("power without the validator role", [](json& m) { m["roles"] = {"partner"}; });
  with("the same name twice", [&](json& m) { m["name"] = "alice"; });
  with("another member's key", [&](json& m) { m["ed25519"] = a.ed25519.hex(); });
  with("another member's x25519 key", [&](json& m) { m["x25519"] = a.x25519.hex(); });
  for (const auto& [what, body] : cases) {
    auto parsed = parse_node_members(body);
    EXPECT_FALSE(parsed.ok()) << what << " was taken: " << body;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().message.find("malformed"), std::string::npos)
          << what << ": " << parsed.error().message;
    }
  }
}

TEST(NodeMembers, TakesAtMost256MembersAndAMegabyte) {
  std::vector<chain::GenesisMember> members;
  for (std::size_t i = 0; i < kMaxNodeMembers; ++i)
    members.push_back(make_member("h" + std::to_string(i)));
  auto at_limit = parse_node_members(answer_of(members).dump());
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message;
  EXPECT_EQ(at_limit->members.size(), kMaxNodeMembers);
  members.push_back(make_member("one-more"));
  EXPECT_FALSE(parse_node_members(answer_of(members).dump()).ok());
  // Padding past the size bound is refused before it is parsed.
  json padded = answer_of({make_member("alice")});
  padded["pending"] = std::string(kMaxNodeMembersBytes, ' ');
  EXPECT_FALSE(parse_node_members(padded.dump()).ok());
}

// A small fake node: answers GET /members with whatever the test sets, and
// only to its token.
class FakeNode {
 public:
  FakeNode()
      : server_(api::HttpServerOptions{}, [this](const api::HttpRequest& r) -> api::HttpAnswer {
          std::lock_guard lock(mutex_);
          ++requests_;
          if (r.authorization != "Bearer " + std::string(64, 'a'))
            return api::HttpResponse{401, "application/json", R"({"error":"token"})"};
          if (r.target != "/members")
            return api::HttpResponse{404, "application/json", R"({"error":"no such endpoint"})"};
          return answer_;
        }) {
    EXPECT_TRUE(server_.start().ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  void answer(int status, std::string body) {
    std::lock_guard lock(mutex_);
    answer_ = api::HttpResponse{status, "application/json", std::move(body)};
  }
  int requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  std::mutex mutex_;
  api::HttpResponse answer_;
  int requests_ = 0;
  api::HttpServer server_;
};

TEST(NodeLinkMembers, AsksTheNodeAndRefusesWhatItCannotUse) {
  FakeNode node;
  chain::Genesis genesis;
  genesis.members = {make_member("alice"), make_member("bob")};
  auto link = NodeLink::open(node.url(), std::string(64, 'a'), "", genesis);
  ASSERT_TRUE(link.ok()) << link.error().message;

  const std::vector<chain::GenesisMember> now = {genesis.members[1], make_member("carol")};
  node.answer(200, answer_of(now, 99).dump());
  auto got = (*link)->current_members();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->height, 99u);
  ASSERT_EQ(got->members.size(), 2u);
  EXPECT_EQ(got->members[0].name, "bob");
  EXPECT_EQ(got->members[1].name, "carol");
  EXPECT_EQ(got->members[1].x25519, now[1].x25519);

  node.answer(200, R"({"height":1,"members":[]})");
  EXPECT_FALSE((*link)->current_members().ok()) << "an empty list is malformed";
  node.answer(503, R"({"error":"the node is starting"})");
  auto refused = (*link)->current_members();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("the node is starting"), std::string::npos)
      << refused.error().message;
  // A node from before membership by vote has no /members: its members are
  // the genesis'.
  node.answer(404, R"({"error":"no such endpoint: /members"})");
  auto old_node = (*link)->current_members();
  ASSERT_TRUE(old_node.ok()) << old_node.error().message;
  ASSERT_EQ(old_node->members.size(), 2u);
  EXPECT_EQ(old_node->members[0].name, "alice");
  // No node at all: an error, not a list.
  auto nowhere = NodeLink::open("http://127.0.0.1:1", std::string(64, 'a'), "", genesis);
  ASSERT_TRUE(nowhere.ok()) << nowhere.error().message;
  EXPECT_FALSE((*nowhere)->current_members().ok());
}

// A MemberSource the test controls: an error until it is given a list.
class TestMembers final : public MemberSource {
 public:
  Result<NodeMembers> current_members() override {
    ++asked;
    if (!members) return make_error("the node did not answer");
    return NodeMembers{7, *members};
  }
  std::optional<std::vector<chain::GenesisMember>> members;
  int asked = 0;
};

TEST(PartnerAgentMembers, SealsForTheCurrentMembersVotesOnlyAsOneAndWaitsForTheNode) {
  using namespace agent_test;
  testing::TempDir dir("agent-members-test");
  Network net(dir);
  TestMembers source;
  for (auto& a : net.agents_) a->follow_members(source);
  net.start_run(breast_cancer_plan());
  // The node cannot say who the members are: nobody acts on the run.
  for (int b = 0; b < 3; ++b) net.commit_and_step();
  EXPECT_GE(source.asked, 4);
  for (const auto& sink : net.sinks_) EXPECT_TRUE(sink->submitted.empty());

  // The ledger's members now: dave has been removed.
  std::vector<chain::GenesisMember> now = net.chain.spec.genesis.members;
  now.erase(std::remove_if(now.begin(), now.end(), [](const auto& m) { return m.name == "dave"; }),
            now.end());
  ASSERT_EQ(now.size(), 3u);
  source.members = now;
  auto first_turn = [&]() -> const chain::Turn* {
    return net.run().turns.empty() ? nullptr : &net.run().turns[0];
  };
  ASSERT_TRUE(net.run_until([&] {
    const chain::Turn* t = first_turn();
    return t != nullptr && t->phase == chain::TurnPhase::done;
  }));
  ASSERT_TRUE(first_turn()->save_request_id.has_value());
  const chain::SaveRecord* save = chain::find_save(net.run(), *first_turn()->save_request_id);
  ASSERT_NE(save, nullptr);
  std::vector<std::string> recipients;
  for (const auto& [name, key] : save->wrapped_keys) recipients.push_back(name);
  EXPECT_EQ(recipients, (std::vector<std::string>{"alice", "bob", "carol"}));
  for (const auto& [type, payload] : net.sinks_[3]->submitted) {
    EXPECT_NE(type, chain::pb::TX_MODEL_VOTE) << "dave voted though no longer a member";
    EXPECT_NE(type, chain::pb::TX_LOAD_APPROVAL) << "dave voted though no longer a member";
  }
}

// An agent acts only once the ledger lists its name with its own X25519 key
// (a newcomer before its admission, or an agent left with a rotated-away key
// file): a member list that gives bob another key keeps bob's agent silent
// while the others go on; the right key lets it act.
TEST(PartnerAgentMembers, ActsOnlyOnceTheLedgerListsItsNameWithItsKey) {
  using namespace agent_test;
  testing::TempDir dir("agent-identity-test");
  Network net(dir);
  TestMembers source;
  for (auto& a : net.agents_) a->follow_members(source);
  std::vector<chain::GenesisMember> wrong = net.chain.spec.genesis.members;
  ASSERT_EQ(wrong[1].name, "bob");
  wrong[1].x25519 = make_member("bob-rotated").x25519;
  source.members = wrong;
  net.start_run(breast_cancer_plan());
  for (int b = 0; b < 6; ++b) net.commit_and_step();
  EXPECT_TRUE(net.sinks_[1]->submitted.empty()) << "bob acted under a key the ledger does not hold";
  EXPECT_FALSE(net.sinks_[0]->submitted.empty()) << "alice, listed with her key, did nothing";

  source.members = net.chain.spec.genesis.members;
  ASSERT_TRUE(net.run_until([&] { return !net.sinks_[1]->submitted.empty(); }));
}

}  // namespace
}  // namespace baton::agent

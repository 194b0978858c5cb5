// The final model's key for the sponsor (issue 13, agent/key_grant.h): the
// decision table, the grant built with real libsodium sealed boxes, and the
// agent that sends it once, journaled, after the sponsor's release only.
#include "agent/key_grant.h"

#include <gtest/gtest.h>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "agent/agent.h"
#include "agent/agent_api.h"
#include "chain/proto/ledger.pb.h"
#include "storage/envelope.h"
#include "storage/memory_object_store.h"
#include "storage/vault.h"
#include "tests/chain/chain_fixture.h"
#include "tests/support/test_support.h"

namespace baton::agent {
namespace {

namespace fs = std::filesystem;
using chain::testing::fixed_member;

chain::Hash id(std::uint8_t b) {
  chain::Hash h;
  h.bytes.fill(b);
  return h;
}

chain::GenesisMember member_of(const chain::MemberSecretKeys& k, std::vector<std::string> roles,
                               std::uint64_t power) {
  chain::GenesisMember m;
  m.name = k.name;
  m.ed25519 = k.signing.public_key();
  m.x25519 = k.x25519.public_key();
  m.p2p_address = "127.0.0.1:1";
  m.power = power;
  m.roles = std::move(roles);
  return m;
}

// alice and bob train and vote, sam sponsors, eve is a partner named as a
// sponsor by a bad plan. The final model's key is wrapped for alice and bob.
struct Released {
  chain::MemberSecretKeys alice = fixed_member("alice", 0);
  chain::MemberSecretKeys bob = fixed_member("bob", 1);
  chain::MemberSecretKeys sam = fixed_member("sam", 2);
  chain::MemberSecretKeys eve = fixed_member("eve", 3);
  std::vector<chain::GenesisMember> members{member_of(alice, {"admin", "validator", "partner"}, 1),
                                            member_of(bob, {"validator", "partner"}, 1),
                                            member_of(sam, {"sponsor"}, 0),
                                            member_of(eve, {"validator", "partner"}, 1)};
  storage::DataKey key = storage::DataKey::generate();
  chain::TrainingState state;

  Released() {
    chain::Run run;
    run.plan.run_id = "run-1";
    run.plan.partners = {"alice", "bob"};
    run.plan.sponsor = "sam";
    run.status = chain::RunStatus::finished;
    chain::Turn t;
    t.index = 0;
    t.partner = "alice";
    t.phase = chain::TurnPhase::done;
    t.outcome = chain::TurnOutcome::approved;
    t.save_request_id = id(7);
    t.save_token_id = id(7);
    chain::SaveRecord save;
    save.object_key = "runs/run-1/models/turn-0.blob";
    save.ciphertext_sha256 = id(1);
    save.model_sha256 = id(2);
    const auto commitment = key.commitment();
    std::copy(commitment.begin(), commitment.end(), save.key_commitment.bytes.begin());
    for (const auto* k : {&alice, &bob}) {
      const auto w = storage::wrap_key_for(key, k->name, k->x25519.public_key());
      save.wrapped_keys[k->name] =
          std::string(reinterpret_cast<const char*>(w.sealed.data()), w.sealed.size());
    }
    t.save = save;
    run.turns.push_back(t);
    run.head = id(7);
    chain::ModelRecord m;
    m.id = id(7);
    m.contributor = "alice";
    m.object_key = save.object_key;
    m.ciphertext_sha256 = save.ciphertext_sha256;
    m.model_sha256 = save.model_sha256;
    run.models.push_back(m);
    run.escrow = chain::Escrow{};
    run.escrow->funded = 100;
    run.escrow->state = chain::EscrowState::released;
    state.runs["run-1"] = run;
  }
  chain::Run& run() { return state.runs.at("run-1"); }
};

GrantStep step_for(Released& r, const std::string& me, bool journaled = false) {
  return key_grant_step(r.run(), r.members, me, journaled);
}

GrantStep nothing(GrantWait why) { return GrantNothing{why}; }

TEST(KeyGrantStep, GrantsOnlyAfterTheSponsorsReleaseAndOnlyToTheSponsor) {
  struct Row {
    const char* situation;
    std::function<void(Released&)> change;
    std::string me;
    GrantStep expected;
  };
  const Row rows[] = {
      {"released, alice holds the key", [](Released&) {}, "alice", Grant{id(7), "sam", false}},
      {"released, bob holds it too", [](Released&) {}, "bob", Grant{id(7), "sam", false}},
      {"no sponsor in the plan",
       [](Released& r) {
         r.run().plan.sponsor.clear();
         r.run().escrow.reset();
       },
       "alice", nothing(GrantWait::not_sponsored)},
      {"escrow still open", [](Released& r) { r.run().escrow->state = chain::EscrowState::open; },
       "alice", nothing(GrantWait::not_released)},
      {"paid at the deadline: the sponsor never released",
       [](Released& r) { r.run().escrow->state = chain::EscrowState::paid_at_deadline; }, "alice",
       nothing(GrantWait::not_released)},
      {"refunded", [](Released& r) { r.run().escrow->state = chain::EscrowState::refunded; },
       "alice", nothing(GrantWait::not_released)},
      {"no approved model", [](Released& r) { r.run().head.reset(); }, "alice",
       nothing(GrantWait::no_final_model)},
      {"the plan names a partner as its sponsor", [](Released& r) { r.run().plan.sponsor = "eve"; },
       "alice", nothing(GrantWait::not_a_sponsor)},
      {"the plan names no genesis member", [](Released& r) { r.run().plan.sponsor = "mallory"; },
       "alice", nothing(GrantWait::not_a_sponsor)},
      {"eve holds no wrapped key", [](Released&) {}, "eve", nothing(GrantWait::not_key_holder)},
      {"alice's grant is on the ledger",
       [](Released& r) { r.run().escrow->key_grants["alice"] = std::string(80, 'x'); }, "alice",
       nothing(GrantWait::granted)},
      {"bob's grant does not stop alice's",
       [](Released& r) { r.run().escrow->key_grants["bob"] = std::string(80, 'x'); }, "alice",
       Grant{id(7), "sam", false}},
      {"alice's grant was refused",
       [](Released& r) {
         chain::Refusal f;
         f.sender = "alice";
         f.type = chain::pb::TX_KEY_GRANT;
         f.reason = chain::ProtocolRejected::key_commitment_mismatch;
         f.run_id = "run-1";
         r.run().refusals.record(f);
       },
       "alice", nothing(GrantWait::refused)},
      {"a refused vote of alice's is not a refused grant",
       [](Released& r) {
         chain::Refusal f;
         f.sender = "alice";
         f.type = chain::pb::TX_MODEL_VOTE;
         r.run().refusals.record(f);
       },
       "alice", Grant{id(7), "sam", false}},
  };
  for (const Row& row : rows) {
    Released r;
    row.change(r);
    EXPECT_EQ(step_for(r, row.me), row.expected) << row.situation;
  }
  Released r;
  EXPECT_EQ(step_for(r, "alice", true), (GrantStep{Grant{id(7), "sam", true}}));
}

// Opens a sealed box with `secret` against the commitment, as a sponsor would.
Result<storage::DataKey> open_for(const std::string& sealed, const chain::X25519SecretKey& secret,
                                  const chain::Hash& commitment) {
  storage::Envelope e;
  std::copy(commitment.bytes.begin(), commitment.bytes.end(), e.key_commitment.begin());
  storage::WrappedKey w;
  w.recipient = secret.public_key();
  if (sealed.size() != w.sealed.size()) return make_error("not a sealed box");
  std::copy(sealed.begin(), sealed.end(), w.sealed.begin());
  e.recipients.push_back(w);
  return storage::unwrap(e, secret);
}

TEST(KeyGrant, TheSponsorOpensTheGrantToTheCommittedKeyAndNothingBeforeIt) {
  Released r;
  const chain::SaveRecord& save = *r.run().turns[0].save;
  // Before: none of the SaveRequest's wrapped keys opens with the sponsor's secret.
  for (const auto& [name, sealed] : save.wrapped_keys)
    EXPECT_FALSE(open_for(sealed, r.sam.x25519, save.key_commitment).ok()) << name;

  auto payload = make_key_grant(r.run(), "alice", r.alice.x25519, r.members[2]);
  ASSERT_TRUE(payload.ok()) << payload.error().message;
  chain::pb::KeyGrant g;
  ASSERT_TRUE(g.ParseFromString(*payload));
  EXPECT_EQ(g.run_id(), "run-1");
  EXPECT_EQ(g.recipient(), "sam");
  EXPECT_EQ(g.model_id(), std::string(32, '\x07'));
  EXPECT_EQ(g.key_commitment(),
            std::string(reinterpret_cast<const char*>(save.key_commitment.bytes.data()), 32));
  ASSERT_EQ(g.wrapped_key().size(), chain::kWrappedKeyBytes);
  auto opened = open_for(g.wrapped_key(), r.sam.x25519, save.key_commitment);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_TRUE(std::equal(opened->bytes().begin(), opened->bytes().end(), r.key.bytes().begin()));
  // Sealed to the sponsor alone: bob's and eve's secrets do not open it.
  EXPECT_FALSE(open_for(g.wrapped_key(), r.bob.x25519, save.key_commitment).ok());
  EXPECT_FALSE(open_for(g.wrapped_key(), r.eve.x25519, save.key_commitment).ok());
}

TEST(KeyGrant, AMemberWithoutTheKeyOrWithTheWrongSecretMakesNoGrant) {
  Released r;
  EXPECT_FALSE(make_key_grant(r.run(), "eve", r.eve.x25519, r.members[2]).ok());
  // alice's name with eve's secret: her wrapped key does not open.
  EXPECT_FALSE(make_key_grant(r.run(), "alice", r.eve.x25519, r.members[2]).ok());
  // A wrapped key that opens to another key than the committed one.
  r.run().turns[0].save->key_commitment = id(9);
  EXPECT_FALSE(make_key_grant(r.run(), "alice", r.alice.x25519, r.members[2]).ok());
}

class CollectingSink final : public AgentTxSink {
 public:
  AgentSubmitResult submit(chain::pb::TxType type, std::string payload) override {
    submitted.emplace_back(type, payload);
    chain::Hash h;
    h.bytes[0] = static_cast<std::uint8_t>(submitted.size());
    return {true, h, {}};
  }
  std::vector<std::pair<chain::pb::TxType, std::string>> submitted;
};

struct GrantingAgent {
  testing::TempDir dir{"agent-grant"};
  Released r;
  CollectingSink sink;
  std::shared_ptr<spdlog::logger> log = std::make_shared<spdlog::logger>(
      "grant-test", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  std::unique_ptr<PartnerAgent> agent;

  GrantingAgent() {
    log->set_level(spdlog::level::off);
    open();
  }
  void open() {
    agent.reset();
    AgentOptions o;
    o.chain_id = chain::testing::kChainId;
    o.member_name = "alice";
    o.x25519 = r.alice.x25519;
    o.members = r.members;
    o.training.work_dir = dir.path() / "agent-alice";
    o.model_cache.enabled = false;
    auto a =
        PartnerAgent::open(std::move(o), std::make_unique<storage::MemoryObjectStore>(), sink, log);
    ASSERT_TRUE(a.ok()) << a.error().message;
    agent = std::move(*a);
  }
  std::size_t grants() const {
    std::size_t n = 0;
    for (const auto& [type, payload] : sink.submitted) n += type == chain::pb::TX_KEY_GRANT;
    return n;
  }
};

TEST(PartnerAgentGrant, GrantsOnceAfterTheReleaseAndResendsTheJournalsBytesAfterARestart) {
  GrantingAgent g;
  g.r.run().escrow->state = chain::EscrowState::open;
  g.agent->step(10, g.r.state);
  EXPECT_EQ(g.grants(), 0u);  // not before the release

  g.r.run().escrow->state = chain::EscrowState::released;
  g.agent->step(11, g.r.state);
  ASSERT_EQ(g.grants(), 1u);
  const std::string first = g.sink.submitted.back().second;
  chain::pb::KeyGrant kg;
  ASSERT_TRUE(kg.ParseFromString(first));
  EXPECT_EQ(kg.recipient(), "sam");
  g.agent->step(12, g.r.state);  // not on the ledger yet: not sent again at once
  EXPECT_EQ(g.grants(), 1u);
  g.agent->step(16, g.r.state);  // resubmit_after_blocks later: the same bytes again
  ASSERT_EQ(g.grants(), 2u);
  EXPECT_EQ(g.sink.submitted.back().second, first);

  g.open();  // a restart: the journal's grant, byte for byte, not a fresh sealing
  g.agent->step(17, g.r.state);
  ASSERT_EQ(g.grants(), 3u);
  EXPECT_EQ(g.sink.submitted.back().second, first);

  g.r.run().escrow->key_grants["alice"] = kg.wrapped_key();  // committed
  g.agent->step(30, g.r.state);
  g.open();
  g.agent->step(40, g.r.state);
  EXPECT_EQ(g.grants(), 3u);
}

TEST(PartnerAgentGrant, NeverGrantsAfterADeadlinePayoutOrToAPlanSponsorWithoutTheRole) {
  GrantingAgent g;
  g.r.run().escrow->state = chain::EscrowState::paid_at_deadline;
  g.agent->step(10, g.r.state);
  g.r.run().escrow->state = chain::EscrowState::released;
  g.r.run().plan.sponsor = "eve";  // a partner, not a sponsor: no key leaves for her
  g.agent->step(11, g.r.state);
  EXPECT_EQ(g.grants(), 0u);
}

TEST(PartnerAgentGrant, ARefusedGrantIsNotSentAgain) {
  GrantingAgent g;
  g.agent->step(10, g.r.state);
  ASSERT_EQ(g.grants(), 1u);
  chain::Refusal f;
  f.height = 11;
  f.sender = "alice";
  f.type = chain::pb::TX_KEY_GRANT;
  f.reason = chain::ProtocolRejected::not_key_holder;
  f.run_id = "run-1";
  g.r.run().refusals.record(f);
  for (std::uint64_t h = 11; h < 40; ++h) g.agent->step(h, g.r.state);
  g.open();
  g.agent->step(41, g.r.state);
  EXPECT_EQ(g.grants(), 1u);
}

// Not a grant, but the same agent: its /models/check names the run's status
// as the ledger does, not "finished" for every run that is not active.
TEST(AgentApi, ModelsCheckNamesEveryRunStatus) {
  GrantingAgent g;
  auto view = std::make_shared<chain::TrainingState>(g.r.state);
  AgentApi api(*g.agent, "alice", "http://127.0.0.1:1", "token", [&] {
    return AgentView{10, view};
  });
  api::HttpRequest get;
  get.method = "GET";
  get.target = "/models/check?run=run-1";
  for (auto [status, name] : {std::pair{chain::RunStatus::active, "active"},
                              {chain::RunStatus::finished, "finished"},
                              {chain::RunStatus::awaiting_funding, "awaiting_funding"},
                              {chain::RunStatus::unfunded, "unfunded"}}) {
    view->runs.at("run-1").status = status;
    view->runs.at("run-1").head.reset();  // no model to check in the store
    const api::HttpResponse r = api.handle(get);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find(std::string("\"run_status\":\"") + name + "\""), std::string::npos)
        << r.body;
  }
}

}  // namespace
}  // namespace baton::agent

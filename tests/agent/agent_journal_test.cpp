// The partner agent's journal: durable, read back exactly, and a damaged one
// stops the node instead of letting it forget what it submitted.
#include "agent/agent_journal.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/test_support.h"

namespace baton::agent {
namespace {

namespace fs = std::filesystem;

chain::Hash id(std::uint8_t b) {
  chain::Hash h;
  h.bytes.fill(b);
  return h;
}

TEST(AgentJournal, ReadsBackWhatWasRecordedAfterReopening) {
  testing::TempDir dir("agent-journal");
  const fs::path file = dir / "journal.json";
  {
    auto j = AgentJournal::open(file);
    ASSERT_TRUE(j.ok()) << j.error().message;
    EXPECT_EQ(j->candidate("run-1", 0), nullptr);
    JournalCandidate c;
    c.run_id = "run-1";
    c.turn = 4;
    c.object_key = "runs/run-1/models/turn-4.blob";
    c.ciphertext_sha256 = id(1).hex();
    c.model_sha256 = id(2).hex();
    c.envelope_json = "{}";
    c.train_samples = 107;
    c.metrics_json = R"({"validation_auc":0.97})";
    c.payload = std::string("\x00\x01\xff payload", 11);  // arbitrary bytes
    ASSERT_TRUE(j->put_candidate(c).ok());
    ASSERT_TRUE(j->put_vote(id(7), {"save", "run-1", 3, false, std::string("\x08\x00", 2)}).ok());
    ASSERT_TRUE(j->mark_deleted("runs/run-1/models/turn-3.blob").ok());
  }
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
  auto j = AgentJournal::open(file);
  ASSERT_TRUE(j.ok()) << j.error().message;
  const JournalCandidate* c = j->candidate("run-1", 4);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->payload, std::string("\x00\x01\xff payload", 11));
  EXPECT_EQ(c->train_samples, 107u);
  EXPECT_EQ(c->metrics_json, R"({"validation_auc":0.97})");
  const JournalVote* v = j->vote(id(7));
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->kind, "save");
  EXPECT_EQ(v->turn, 3u);
  EXPECT_FALSE(v->approve);
  EXPECT_EQ(v->payload, std::string("\x08\x00", 2));
  EXPECT_EQ(j->vote(id(8)), nullptr);
  EXPECT_TRUE(j->deleted("runs/run-1/models/turn-3.blob"));
  EXPECT_FALSE(j->deleted("runs/run-1/models/turn-4.blob"));
}

TEST(AgentJournal, KeepsAKeyGrantAndReadsAJournalWrittenBeforeGrants) {
  testing::TempDir dir("agent-journal");
  const fs::path file = dir / "journal.json";
  {
    auto j = AgentJournal::open(file);
    ASSERT_TRUE(j.ok()) << j.error().message;
    EXPECT_EQ(j->grant("run-1"), nullptr);
    ASSERT_TRUE(j->put_grant({"run-1", id(7).hex(), "sam", std::string("\x0a\x00\xff", 3)}).ok());
  }
  auto j = AgentJournal::open(file);
  ASSERT_TRUE(j.ok()) << j.error().message;
  const JournalGrant* g = j->grant("run-1");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->model_id, id(7).hex());
  EXPECT_EQ(g->recipient, "sam");
  EXPECT_EQ(g->payload, std::string("\x0a\x00\xff", 3));
  EXPECT_EQ(j->grant("run-2"), nullptr);
  // A journal of an agent from before issue 13 has no "grants".
  std::ofstream(file) << R"({"format":"baton-agent-journal/1","candidates":{},"votes":{},)"
                      << R"("deleted":[]})";
  auto old = AgentJournal::open(file);
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_EQ(old->grant("run-1"), nullptr);
}

TEST(AgentJournal, KeepsEachRoundTransactionByRunRoundAndKind) {
  testing::TempDir dir("agent-journal");
  const fs::path file = dir / "journal.json";
  {
    auto j = AgentJournal::open(file);
    ASSERT_TRUE(j.ok()) << j.error().message;
    ASSERT_TRUE(j->put_round({"share", "fed", 2, "", std::string("\x0a\x00share", 7)}).ok());
    ASSERT_TRUE(
        j->put_round({"upload", "fed", 2, "runs/fed/rounds/2/a.masked", "upload bytes"}).ok());
  }
  auto j = AgentJournal::open(file);
  ASSERT_TRUE(j.ok()) << j.error().message;
  const JournalRound* share = j->round("fed", 2, "share");
  ASSERT_NE(share, nullptr);
  EXPECT_EQ(share->payload, std::string("\x0a\x00share", 7));
  const JournalRound* upload = j->round("fed", 2, "upload");
  ASSERT_NE(upload, nullptr);
  EXPECT_EQ(upload->object_key, "runs/fed/rounds/2/a.masked");
  EXPECT_EQ(j->round("fed", 2, "unmask"), nullptr);
  EXPECT_EQ(j->round("fed", 3, "share"), nullptr);
  // A round entry filed under another key than its own is damage, not data.
  std::string text = testing::read_text(file);
  const auto at = text.find("\"fed/2/share\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 13, "\"fed/9/share\"");
  testing::write_text(file, text);
  EXPECT_FALSE(AgentJournal::open(file).ok());
}

TEST(AgentJournal, ADamagedJournalIsAnErrorNotAFreshStart) {
  testing::TempDir dir("agent-journal");
  const fs::path file = dir / "journal.json";
  for (const char* text :
       {"{\"format\":\"baton-agent-journal/1\",\"candidates\":", "{\"format\":\"other\"}",
        "{\"format\":\"baton-agent-journal/1\",\"candidates\":{},\"votes\":{}}"}) {
    std::ofstream(file) << text;
    auto j = AgentJournal::open(file);
    ASSERT_FALSE(j.ok()) << text;
    EXPECT_NE(j.error().message.find("damaged"), std::string::npos) << j.error().message;
  }
}

}  // namespace
}  // namespace baton::agent

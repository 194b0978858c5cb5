// The reproducibility record of a SaveRequest (fields 15..22, issue 16,
// docs/PROTOCOL.md §18.1, §18.4): bounded against a hostile partner, kept in
// the SaveRecord and the state bytes, and absent from the state bytes of a
// save without one (so every earlier chain's state hash is unchanged).
#include <gtest/gtest.h>

#include "chain/protocol.h"
#include "chain/training_decode.h"
#include "audit_fixture.h"
#include "protocol_fixture.h"

namespace baton::chain::testing {
namespace {

// An honest partner's record.
void set_record(pb::SaveRequest& r) {
  r.set_train_seed(42);
  r.set_torch_threads(2);
  r.set_baton_version("0.1.0");
  r.set_baton_commit(std::string(40, 'a'));
  r.set_libtorch_version("1.13.1");
  r.set_device("cpu");
  r.set_train_rows_sha256(hash_bytes(fake_hash(0x11)));
  r.set_schema_sha256(hash_bytes(fake_hash(0x22)));
}

// Alice's SaveRequest for turn 0, after her load token; `edit` changes it.
template <typename Edit>
pb::Transaction edited_save(ProtocolChain& p, Edit edit) {
  pb::Transaction tx = p.save_request(0, 0, std::nullopt);
  pb::SaveRequest r;
  EXPECT_TRUE(r.ParseFromString(tx.payload()));
  edit(r);
  return p.tx(0, pb::TX_SAVE_REQUEST, r);
}

ProtocolChain chain_at_save() {
  ProtocolChain p;
  TrainingPlan plan = test_plan(4);
  plan.save_deadline_blocks = 50;  // every refused attempt takes a block
  p.commit(p.start(0, plan));
  p.grant_load(0, {1, 2});
  return p;
}

TEST(ReproRecord, ASaveRequestsRecordIsKeptAndRoundTripsThroughTheStateBytes) {
  ProtocolChain p = chain_at_save();
  p.commit(edited_save(p, set_record));
  ASSERT_TRUE(p.turn().save.has_value());
  ASSERT_TRUE(p.turn().save->repro.has_value());
  const ReproRecord& rec = *p.turn().save->repro;
  EXPECT_EQ(rec.train_seed, 42u);
  EXPECT_EQ(rec.torch_threads, 2u);
  EXPECT_EQ(rec.baton_commit, std::string(40, 'a'));
  EXPECT_EQ(rec.device, "cpu");
  EXPECT_EQ(rec.train_rows_sha256, fake_hash(0x11));
  EXPECT_EQ(rec.schema_sha256, fake_hash(0x22));
  auto decoded = decode_training_state(training_encoding(p.training()), p.chain.spec.genesis);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, p.training());
  // The agent's own encoder writes the record the ledger stores.
  const pb::SaveRequest again = save_request_to_proto("run-1", 0, *p.turn().save);
  EXPECT_EQ(again.train_seed(), 42u);
  EXPECT_EQ(again.schema_sha256(), hash_bytes(fake_hash(0x22)));
}

TEST(ReproRecord, AnImageModelsRecordWithoutSchemaHashIsAccepted) {
  ProtocolChain p = chain_at_save();
  p.commit(edited_save(p, [](pb::SaveRequest& r) {
    set_record(r);
    r.clear_schema_sha256();
  }));
  ASSERT_TRUE(p.turn().save && p.turn().save->repro);
  EXPECT_EQ(p.turn().save->repro->schema_sha256, std::nullopt);
}

TEST(ReproRecord, AHostileRecordIsRefusedAsMalformed) {
  ProtocolChain p = chain_at_save();
  const std::vector<std::pair<std::string, void (*)(pb::SaveRequest&)>> attacks = {
      {"oversized version",
       [](pb::SaveRequest& r) { r.set_baton_version(std::string(kMaxReproTextBytes + 1, '1')); }},
      {"oversized commit",
       [](pb::SaveRequest& r) { r.set_baton_commit(std::string(4 * kMaxReproTextBytes, 'f')); }},
      {"31-byte rows hash",
       [](pb::SaveRequest& r) { r.set_train_rows_sha256(std::string(31, '\x01')); }},
      {"33-byte schema hash",
       [](pb::SaveRequest& r) { r.set_schema_sha256(std::string(33, '\x01')); }},
      {"newline in device", [](pb::SaveRequest& r) { r.set_device("cpu\n"); }},
      {"escape in libtorch", [](pb::SaveRequest& r) { r.set_libtorch_version("\x1b[2J1.13"); }},
      {"non-ASCII version", [](pb::SaveRequest& r) { r.set_baton_version("0.1\xc3\xa9"); }},
      {"NUL in commit", [](pb::SaveRequest& r) { r.set_baton_commit(std::string("ab\0cd", 5)); }},
      {"threads", [](pb::SaveRequest& r) { r.set_torch_threads(kMaxReproThreads + 1); }},
  };
  for (const auto& [what, attack] : attacks) {
    SCOPED_TRACE(what);
    const pb::Transaction tx = edited_save(p, [&](pb::SaveRequest& r) {
      set_record(r);
      attack(r);
    });
    EXPECT_EQ(p.commit_refused(tx), ProtocolRejected::malformed_request);
    EXPECT_FALSE(p.turn().save.has_value());
  }
  // The longest strings and the most threads are accepted.
  p.commit(edited_save(p, [](pb::SaveRequest& r) {
    set_record(r);
    r.set_baton_version(std::string(kMaxReproTextBytes, '~'));
    r.set_device(std::string(kMaxReproTextBytes, ' '));
    r.set_torch_threads(kMaxReproThreads);
  }));
  ASSERT_TRUE(p.turn().save && p.turn().save->repro);
  EXPECT_EQ(p.turn().save->repro->baton_version.size(), kMaxReproTextBytes);
}

// The state of `p` with the record of turn 0's save taken out.
TrainingState without_record(const ProtocolChain& p) {
  TrainingState s = p.training();
  s.runs.at("run-1").turns.at(0).save->repro.reset();
  return s;
}

TEST(ReproRecord, ASaveWithoutRecordEncodesAsBeforeAndOneWithARecordDoesNot) {
  // An all-zero record is no record.
  ProtocolChain zero = chain_at_save();
  zero.commit(edited_save(zero, [](pb::SaveRequest& r) { r.set_train_seed(0); }));
  EXPECT_FALSE(zero.turn().save->repro.has_value());

  ProtocolChain recorded = chain_at_save();
  recorded.commit(edited_save(recorded, set_record));
  const Bytes with = training_encoding(recorded.training());
  const Bytes plain = training_encoding(without_record(recorded));
  // The save's presence byte says 2 where a record follows; the rest of the
  // state is the same bytes, the record after the save's metrics.
  ASSERT_GT(with.size(), plain.size());
  std::size_t at = 0;
  while (at < plain.size() && plain[at] == with[at]) ++at;
  ASSERT_LT(at, plain.size());
  EXPECT_EQ(plain[at], 1);
  EXPECT_EQ(with[at], 2);
  const std::size_t record_bytes = with.size() - plain.size();
  // seed, threads, four strings, two present hashes.
  EXPECT_EQ(record_bytes, 8u + 4 + (4 + 5) + (4 + 40) + (4 + 6) + (4 + 3) + 2 * 33);
}

TEST(ReproRecord, ADamagedPresenceByteIsRefusedByTheDecoder) {
  ProtocolChain p = chain_at_save();
  p.commit(edited_save(p, set_record));
  const Bytes good = training_encoding(p.training());
  const Bytes plain = training_encoding(without_record(p));
  std::size_t at = 0;
  while (good[at] == plain[at]) ++at;
  Bytes bad = good;
  bad[at] = 3;
  EXPECT_TRUE(decode_training_state(good, p.chain.spec.genesis).ok());
  EXPECT_FALSE(decode_training_state(bad, p.chain.spec.genesis).ok());
}

TEST(ReproRecord, TheAuditorReplaysSavesWithRecordsAndRefusesAHostileOne) {
  ProtocolChain p = chain_at_save();
  EXPECT_EQ(p.commit_refused(edited_save(p,
                                         [](pb::SaveRequest& r) {
                                           set_record(r);
                                           r.set_train_rows_sha256(std::string(31, '\x01'));
                                         })),
            ProtocolRejected::malformed_request);
  const Hash save0 = p.commit(edited_save(p, set_record));
  p.commit(p.model_vote(1, save0, true, 800000, 700000));
  p.commit(p.model_vote(2, save0, true, 800000, 700000));
  EXPECT_EQ(p.run().turns[0].outcome, TurnOutcome::approved);
  expect_audit_agrees(p);
}

}  // namespace
}  // namespace baton::chain::testing

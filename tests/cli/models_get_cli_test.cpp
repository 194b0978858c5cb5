// `baton models get` (issue 13) as a real process, with real crypto: a ledger
// made in-process by the real state machine (a sponsored run of one approved
// turn whose blob is sealed with AES-256-GCM and whose data key is wrapped
// with libsodium sealed boxes for the partners only), written to a RocksDB
// ledger, and a file:// store holding the blob. The sponsor's key opens
// nothing before the release and a member's grant, a grant that seals the
// wrong key is passed over, and after a real grant the model opens and its
// hash is the ledger's.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "chain/keys.h"
#include "storage/envelope.h"
#include "storage/ledger_store.h"
#include "storage/vault.h"
#include "tests/chain/protocol_fixture.h"
#include "tests/cli/cli_fixture.h"

namespace baton::chain::testing {
namespace {

namespace fs = std::filesystem;
using baton::testing::expect_one_sentence_failure;
using baton::testing::read_text;
using baton::testing::run_baton;
using baton::testing::RunResult;
using baton::testing::TempDir;
using baton::testing::write_text;
using nlohmann::json;

constexpr std::size_t kAlice = 0, kBob = 1, kCarol = 2, kDave = 3;  // dave: the sponsor

std::string raw(const std::array<std::uint8_t, 32>& a) {
  return std::string(reinterpret_cast<const char*>(a.data()), a.size());
}
std::string raw(const std::array<std::uint8_t, storage::kWrappedKeySize>& a) {
  return std::string(reinterpret_cast<const char*>(a.data()), a.size());
}

// Writes member i's fixed secret keys to DIR/NAME.key (mode 0600).
std::string write_key(const fs::path& dir, std::size_t i) {
  const MemberSecretKeys k = fixed_member(member_name(i), static_cast<std::uint8_t>(i));
  const fs::path file = dir / (k.name + ".key");
  write_text(file, encode_secret_keys(k));
  ::chmod(file.c_str(), 0600);
  return file.string();
}

struct SponsoredLedger {
  TempDir dir{"models-get"};
  ProtocolChain p;
  std::unique_ptr<storage::LedgerStore> ledger;
  std::size_t written = 0;  // blocks of p.blocks in the ledger
  storage::DataKey key = storage::DataKey::generate();
  std::string model;  // the plaintext
  Hash head, commitment;

  fs::path ledger_dir() const { return dir.path() / "ledger"; }
  fs::path store_dir() const { return dir.path() / "store"; }

  SponsoredLedger() {
    Genesis g = fixed_genesis({1, 1, 1, 0});
    g.members[kDave].roles = {"sponsor"};
    g.members[kDave].balance = 1000;
    p.chain.genesis_text = encode_genesis(g);
    p.chain.spec = load_chain_spec(p.chain.genesis_text).value();
    p.chain.state = initial_state(p.chain.spec.genesis_hash);
    p.empty_blocks(1);
    auto opened = storage::LedgerStore::open_writer(
        {ledger_dir(), p.chain.spec.genesis_hash, p.chain.genesis_text});
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    ledger = std::move(*opened);

    TrainingPlan plan = test_plan(3);
    plan.partners = {"alice"};
    plan.sponsor = "dave";
    plan.release_deadline_blocks = 20;
    p.commit(p.start(kAlice, plan));
    pb::FundRun f;
    f.set_run_id("run-1");
    f.set_amount(100);
    p.commit(p.tx(kDave, pb::TX_FUND_RUN, f));

    // Alice's turn: a real sealed blob in the store, its key for the partners.
    const Hash load = p.grant_load(kAlice, {kBob, kCarol});
    (void)load;
    for (int i = 0; i < 5000; ++i) model.push_back(static_cast<char>((i * 131) % 251));
    const std::string object_key = "runs/run-1/models/turn-0.blob";
    fs::create_directories((store_dir() / object_key).parent_path());
    write_text(dir.path() / "model.plain", model);
    const Bytes ad = storage::model_associated_data(kChainId, "run-1/turn-0", "");
    auto sealed =
        storage::seal_file(dir.path() / "model.plain", store_dir() / object_key, key, ByteView(ad));
    EXPECT_TRUE(sealed.ok()) << sealed.error().message;
    fs::remove(dir.path() / "model.plain");
    pb::SaveRequest r;
    r.set_run_id("run-1");
    r.set_turn(0);
    r.set_object_key(object_key);
    r.set_ciphertext_sha256(hash_bytes(sealed->blob_sha256));
    r.set_model_sha256(hash_bytes(sha256(as_bytes(model))));
    for (std::size_t m : {kAlice, kBob, kCarol}) {
      const auto k = fixed_member(member_name(m), static_cast<std::uint8_t>(m));
      r.add_key_recipients(k.name);
      r.add_wrapped_keys(raw(storage::wrap_key_for(key, k.name, k.x25519.public_key()).sealed));
    }
    r.set_train_samples(100);
    r.set_key_commitment(raw(key.commitment()));
    const Hash save = p.commit(p.tx(kAlice, pb::TX_SAVE_REQUEST, r));
    p.commit(p.model_vote(kBob, save, true, 700000, 500000));
    p.commit(p.model_vote(kCarol, save, true, 690000, 500000));
    p.empty_blocks(5);  // past the vote deadline: the gain settles
    EXPECT_EQ(p.run().status, RunStatus::finished);
    EXPECT_TRUE(gains_settled(p.run()));
    head = *p.run().head;
    commitment = find_save(p.run(), head)->key_commitment;
    sync();
  }

  // Writes the blocks appended since the last call to the on-disk ledger.
  void sync() {
    for (; written < p.blocks.size(); ++written)
      ASSERT_TRUE(ledger->append(p.blocks[written]).ok());
  }

  void grant(std::size_t from, const storage::DataKey& granted) {
    const auto sponsor = fixed_member("dave", kDave);
    pb::KeyGrant g;
    g.set_run_id("run-1");
    g.set_model_id(hash_bytes(head));
    g.set_recipient("dave");
    g.set_wrapped_key(
        raw(storage::wrap_key_for(granted, "dave", sponsor.x25519.public_key()).sealed));
    g.set_key_commitment(hash_bytes(commitment));
    p.commit(p.tx(from, pb::TX_KEY_GRANT, g));
    sync();
  }

  RunResult get(std::size_t member, const std::string& out, const std::string& model = "final") {
    return run_baton({"models", "get", "--data-dir", ledger_dir().string(), "--store",
                      "file://" + store_dir().string(), "--key", write_key(dir.path(), member),
                      "--run", "run-1", "--model", model, "--out", out, "--json"});
  }
};

TEST(ModelsGetCli, TheSponsorOpensTheFinalModelOnlyAfterItsReleaseAndAGrant) {
  SponsoredLedger l;
  const std::string out = (l.dir.path() / "final.model").string();
  // Nothing the sponsor holds opens the blob: no wrapped key in the SaveRequest is its.
  const auto dave = fixed_member("dave", kDave);
  for (const auto& [name, sealed] : find_save(l.p.run(), l.head)->wrapped_keys) {
    storage::Envelope e;
    std::copy(l.commitment.bytes.begin(), l.commitment.bytes.end(), e.key_commitment.begin());
    storage::WrappedKey w;
    w.recipient = dave.x25519.public_key();
    std::copy(sealed.begin(), sealed.end(), w.sealed.begin());
    e.recipients.push_back(w);
    EXPECT_FALSE(storage::unwrap(e, dave.x25519).ok()) << name;
  }
  expect_one_sentence_failure(l.get(kDave, out), 1, "escrow is not released yet");
  EXPECT_FALSE(fs::exists(out));

  pb::ReleaseEscrow rel;
  rel.set_run_id("run-1");
  l.p.commit(l.p.tx(kDave, pb::TX_RELEASE_ESCROW, rel));
  l.sync();
  expect_one_sentence_failure(l.get(kDave, out), 1, "no member has granted");
  EXPECT_FALSE(fs::exists(out));

  // Carol seals another key: the ledger cannot tell, the sponsor's client can.
  l.grant(kCarol, storage::DataKey::generate());
  const RunResult bad = l.get(kDave, out);
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
  EXPECT_NE(bad.err.find("none of the 1 key grants"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(out));

  l.grant(kAlice, l.key);
  const RunResult good = l.get(kDave, out);
  ASSERT_EQ(good.exit_code, 0) << good.err;
  const json j = json::parse(good.out);
  EXPECT_EQ(j["key"], "granted by alice");
  EXPECT_EQ(j["model_sha256"], sha256(as_bytes(l.model)).hex());
  EXPECT_EQ(read_text(out), l.model);

  // A partner opens it with its own wrapped key; an existing file is kept.
  expect_one_sentence_failure(l.get(kBob, out), 1, "--overwrite");
  const std::string bobs = (l.dir.path() / "bob.model").string();
  const RunResult b = l.get(kBob, bobs);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(json::parse(b.out)["key"], "own");
  EXPECT_EQ(read_text(bobs), l.model);
}

TEST(ModelsGetCli, ABlobSwappedInTheStoreIsRefusedAndNothingIsWritten) {
  SponsoredLedger l;
  pb::ReleaseEscrow rel;
  rel.set_run_id("run-1");
  l.p.commit(l.p.tx(kDave, pb::TX_RELEASE_ESCROW, rel));
  l.grant(kAlice, l.key);
  // Another blob under the same key, sealed with the same key: not the ledger's.
  const fs::path blob = l.store_dir() / "runs/run-1/models/turn-0.blob";
  write_text(l.dir.path() / "other.plain", "another model");
  fs::remove(blob);
  const Bytes ad = storage::model_associated_data(kChainId, "run-1/turn-0", "");
  ASSERT_TRUE(storage::seal_file(l.dir.path() / "other.plain", blob, l.key, ByteView(ad)).ok());
  const std::string out = (l.dir.path() / "final.model").string();
  const RunResult r = l.get(kDave, out);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

// --model ID reads the ledger on disk (--data-dir) and opens one model of the
// run by its id, for a member its SaveRequest wraps a key for.
TEST(ModelsGetCli, AModelByItsIdFromTheLedgerOnDisk) {
  SponsoredLedger l;
  const std::string out = (l.dir.path() / "by-id.model").string();
  const RunResult r = l.get(kCarol, out, l.head.hex());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["model_id"], l.head.hex());
  EXPECT_EQ(j["key"], "own");
  EXPECT_EQ(read_text(out), l.model);

  const std::string other = (l.dir.path() / "other.model").string();
  expect_one_sentence_failure(l.get(kCarol, other, std::string(64, 'a')), 1, "has no model");
  expect_one_sentence_failure(l.get(kCarol, other, "latest"), 2, "--model");
  // The sponsor's grants are for the final model only, and it has no wrapped key.
  expect_one_sentence_failure(l.get(kDave, other, l.head.hex()), 1, "not sealed for dave");
  EXPECT_FALSE(fs::exists(other));

  // A blob swapped in the store: exit 3 and nothing written.
  const fs::path blob = l.store_dir() / "runs/run-1/models/turn-0.blob";
  write_text(l.dir.path() / "swap.plain", "another model");
  fs::remove(blob);
  const Bytes ad = storage::model_associated_data(kChainId, "run-1/turn-0", "");
  ASSERT_TRUE(storage::seal_file(l.dir.path() / "swap.plain", blob, l.key, ByteView(ad)).ok());
  const RunResult swapped = l.get(kCarol, other, l.head.hex());
  EXPECT_EQ(swapped.exit_code, 3) << swapped.err;
  EXPECT_FALSE(fs::exists(other));
}

}  // namespace
}  // namespace baton::chain::testing

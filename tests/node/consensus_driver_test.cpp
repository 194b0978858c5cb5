// The consensus driver carries an engine output out in engine.h's order: the
// signer's record (and the checkpoint) written before any vote or proposal
// it covers is sent; a record that cannot be written stops consensus with
// nothing sent. One validator with all the power, so the engine proposes,
// votes and decides by itself.
#include "node/consensus_driver.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "tests/consensus/harness.h"
#include "tests/support/test_support.h"

namespace baton::node {
namespace {

using consensus::testing::kChain;
using consensus::testing::key_for;

// Every event the driver causes, in order.
struct Journal {
  std::vector<std::string> events;
  std::vector<std::optional<consensus::pb::SignerState>> written_at_send;  // per send
};

class RecordingStore final : public consensus::SignerStateStore {
 public:
  explicit RecordingStore(Journal& journal) : journal_(journal) {}
  Result<std::optional<consensus::pb::SignerState>> load() override { return inner_.load(); }
  Status save(const consensus::pb::SignerState& state) override {
    journal_.events.push_back("write signer record");
    return inner_.save(state);
  }
  void set_fail_saves(bool fail) { inner_.set_fail_saves(fail); }

 private:
  Journal& journal_;
  consensus::MemorySignerStateStore inner_;
};

class RecordingHost final : public ConsensusHost {
 public:
  RecordingHost(Journal& journal, RecordingStore& store, consensus::sim::ChainApp& app)
      : journal_(journal), store_(store), app_(app) {}
  Status commit_decision(const consensus::Decision& d) override {
    journal_.events.push_back("commit");
    if (!app_.append({d.block_id, d.block, d.commit})) return make_error("does not extend");
    return {};
  }
  void broadcast(const consensus::pb::ConsensusMessage&) override {
    journal_.events.push_back("send");
    journal_.written_at_send.push_back(store_.load().value());
  }
  bool has_pending_work() const override { return false; }
  bool needs_clock() const override { return clock; }
  bool clock = true;  // what needs_clock answers
  void halt(const std::string& why) override {
    journal_.events.push_back("halt");
    halted = why;
  }
  void storage_failed(StorageArea area, const std::string& why) override {
    journal_.events.push_back("storage failed");
    failed_area = area;
    halted = why;
  }
  void note(const std::string&) override {}
  std::optional<std::string> halted;
  std::optional<StorageArea> failed_area;

 private:
  Journal& journal_;
  RecordingStore& store_;
  consensus::sim::ChainApp& app_;
};

struct OneValidator {
  OneValidator()
      : store(journal), app(kChain, key_for(0).public_key()), host(journal, store, app) {}

  std::unique_ptr<ConsensusDriver> driver(std::uint32_t empty_ms = 60'000,
                                          std::uint32_t idle_ms = 60'000) {
    ConsensusDriverOptions options;
    options.engine = consensus::testing::test_options();
    options.checkpoint_file = dir / "consensus_checkpoint";
    options.empty_block_interval_ms = empty_ms;  // default: no second height
    options.idle_block_interval_ms = idle_ms;
    auto signer = consensus::Signer::open(key_for(0), kChain, store).value();
    return std::make_unique<ConsensusDriver>(loop, options,
                                             consensus::testing::make_validators({1}), app, host,
                                             std::move(signer), &store);
  }

  testing::TempDir dir{"driver-test"};
  boost::asio::io_context loop;
  Journal journal;
  RecordingStore store;
  consensus::sim::ChainApp app;
  RecordingHost host;
};

TEST(ConsensusDriver, WritesTheSignerRecordBeforeItSendsWhatItCovers) {
  OneValidator v;
  auto driver = v.driver();
  ASSERT_TRUE(driver->start(1));
  ASSERT_EQ(v.app.height(), 1u) << "the lone validator decided height 1";
  ASSERT_FALSE(v.host.halted);
  // Proposal, prevote and precommit of height 1: each sent only once a
  // written record covered it.
  ASSERT_EQ(v.journal.written_at_send.size(), 3u);
  std::size_t sends = 0;
  for (std::size_t i = 0; i < v.journal.events.size(); ++i) {
    if (v.journal.events[i] != "send") continue;
    EXPECT_TRUE(v.journal.written_at_send[sends].has_value()) << "send " << sends;
    ++sends;
  }
  EXPECT_EQ(v.journal.events.front(), "write signer record");
  EXPECT_TRUE(std::filesystem::exists(v.dir / "consensus_checkpoint"));
  const auto written = v.store.load().value();
  ASSERT_TRUE(written);
  EXPECT_EQ(written->height(), 1u);
  EXPECT_EQ(written->step(), static_cast<std::uint32_t>(consensus::SignStep::precommit));
  driver->stop();
}

TEST(ConsensusDriver, SendsNothingAndHaltsWhenTheSignerRecordCannotBeWritten) {
  OneValidator v;
  v.store.set_fail_saves(true);
  auto driver = v.driver();
  ASSERT_TRUE(driver->start(1));
  ASSERT_TRUE(v.host.halted);
  EXPECT_EQ(v.host.failed_area, StorageArea::signer_state);
  EXPECT_NE(v.host.halted->find("set to fail"), std::string::npos) << *v.host.halted;
  EXPECT_EQ(std::count(v.journal.events.begin(), v.journal.events.end(), "send"), 0);
  EXPECT_EQ(v.app.height(), 0u) << "nothing of the output was carried out";
  EXPECT_FALSE(driver->running());
  EXPECT_FALSE(std::filesystem::exists(v.dir / "consensus_checkpoint"));
}

// Empty blocks follow the ledger's clock (issue 18): every empty_block
// interval while the host needs the clock (a run's deadlines count blocks),
// none at all while idle with idle_block_interval_ms = 0.
TEST(ConsensusDriver, MakesEmptyBlocksOnlyWhileTheLedgerNeedsTheClock) {
  OneValidator v;
  v.host.clock = false;
  auto driver = v.driver(/*empty_ms=*/20, /*idle_ms=*/0);
  ASSERT_TRUE(driver->start(1));
  ASSERT_EQ(v.app.height(), 1u);
  v.loop.run_for(std::chrono::milliseconds(400));  // 20 intervals: idle, nothing comes
  EXPECT_EQ(v.app.height(), 1u) << "an idle ledger made empty blocks";
  v.host.clock = true;  // say a run started: the next poke finds the clock needed
  driver->poke();
  v.loop.restart();
  v.loop.run_for(std::chrono::milliseconds(400));
  EXPECT_GE(v.app.height(), 3u) << "no heartbeat while the ledger counts blocks";
  driver->stop();
}

}  // namespace
}  // namespace baton::node

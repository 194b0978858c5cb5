// The fixture of the partner agent's in-process tests (agent_test.cpp,
// agent_privacy_test.cpp): four agents (alice, bob, carol, dave) against a
// real in-process ledger, sharing a file:// object store in a temporary
// directory and each hospital's slice of data/breast_cancer.csv. Their
// transactions go to a fake mempool that the test commits in real blocks
// (propose_block + validate_block), and every agent steps on each committed
// state, on the test's thread. No sockets, no threads.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "agent/agent.h"
#include "chain/protocol.h"
#include "storage/file_store.h"
#include "tests/agent/counting_store.h"
#include "tests/chain/chain_fixture.h"
#include "tests/support/test_support.h"

namespace baton::agent::agent_test {

namespace fs = std::filesystem;
using chain::testing::kChainId;
using chain::testing::TestChain;

inline constexpr std::size_t kMembers = 4;

// Splits the breast cancer rows over four hospitals: row r goes to hospital
// r % 4; of each hospital's rows, every fourth is validation.
inline void write_hospital_csvs(const fs::path& dir) {
  std::ifstream in(testing::source_dir() / "data" / "breast_cancer.csv");
  ASSERT_TRUE(in) << "data/breast_cancer.csv is missing";
  std::string header;
  std::getline(in, header);
  std::vector<std::ofstream> train, validation;
  for (std::size_t h = 0; h < kMembers; ++h) {
    train.emplace_back(dir / ("train-" + std::to_string(h) + ".csv"));
    validation.emplace_back(dir / ("validation-" + std::to_string(h) + ".csv"));
    train.back() << header << "\n";
    validation.back() << header << "\n";
  }
  std::string line;
  for (std::size_t r = 0; std::getline(in, line); ++r) {
    if (line.empty()) continue;
    const std::size_t h = r % kMembers;
    ((r / kMembers) % 4 == 3 ? validation[h] : train[h]) << line << "\n";
  }
}

inline std::vector<std::string> csv_header_without_label() {
  std::ifstream in(testing::source_dir() / "data" / "breast_cancer.csv");
  std::string header;
  std::getline(in, header);
  if (!header.empty() && header.back() == '\r') header.pop_back();  // the file has CRLF lines
  std::vector<std::string> cols;
  std::stringstream ss(header);
  for (std::string c; std::getline(ss, c, ',');)
    if (c != "malignant") cols.push_back(c);
  return cols;
}

inline chain::TrainingPlan breast_cancer_plan() {
  chain::TrainingPlan p;
  p.run_id = "run-1";
  p.model_spec = R"({"architecture":"mlp","hidden":[8],"input_shape":[30],"num_classes":2})";
  p.model_spec_hash = chain::sha256(p.model_spec);
  p.feature_columns = csv_header_without_label();
  p.label_column = "malignant";
  p.positive_value = "1";
  p.partners = {"alice", "bob", "carol", "dave"};
  p.cycles = 1;
  p.epochs = 5;
  p.batch_size = 16;
  p.optimizer = "adam";
  p.learning_rate_nano = 10'000'000;  // 0.01
  p.seed = 3;
  p.vote_policy = chain::VotePolicyKind::strict;
  p.quorum_num = 1;
  p.quorum_den = 2;
  p.load_deadline_blocks = 10;
  p.save_deadline_blocks = 10;
  p.vote_deadline_blocks = 10;
  return p;
}

class Network;

// The fake node side of one agent: signs with the member's key and the next
// nonce counting what waits in the test's mempool.
class FakeSink final : public AgentTxSink {
 public:
  FakeSink(Network& net, std::size_t member) : net_(net), member_(member) {}
  AgentSubmitResult submit(chain::pb::TxType type, std::string payload) override;
  std::vector<std::pair<chain::pb::TxType, std::string>> submitted;

 private:
  Network& net_;
  std::size_t member_;
};

class Network {
 public:
  explicit Network(const testing::TempDir& dir, std::set<std::size_t> malicious = {})
      : dir_(dir), store_dir_(dir.path() / "store") {
    write_hospital_csvs(dir.path());
    // Warnings and errors show in the test output; info lines only with BATON_AGENT_TEST_LOG.
    log_ = std::make_shared<spdlog::logger>("agent-test",
                                            std::make_shared<spdlog::sinks::stderr_sink_mt>());
    log_->set_level(std::getenv("BATON_AGENT_TEST_LOG") ? spdlog::level::info
                                                        : spdlog::level::warn);
    for (std::size_t i = 0; i < kMembers; ++i) {
      sinks_.push_back(std::make_unique<FakeSink>(*this, i));
      agents_.push_back(nullptr);
      open_agent(i, malicious.contains(i));
    }
  }

  // (Re)creates member i's agent on its work directory, as a restart would.
  // `store`: another object store than the shared one (e.g. an unreachable one).
  void open_agent(std::size_t i, bool malicious = false,
                  std::unique_ptr<storage::ObjectStore> store = nullptr) {
    AgentOptions o;
    o.chain_id = kChainId;
    o.member_name = chain.members[i].name;
    o.x25519 = chain.members[i].x25519;
    o.members = chain.spec.genesis.members;
    o.training.train_csv = dir_.path() / ("train-" + std::to_string(i) + ".csv");
    o.training.validation_csv = dir_.path() / ("validation-" + std::to_string(i) + ".csv");
    o.training.work_dir = dir_.path() / ("agent-" + o.member_name);
    o.training.malicious_label_flip = malicious;
    o.training.malicious_ignore_privacy_budget = overspend.contains(i);
    if (evaluation_budget) o.evaluation_budget = *evaluation_budget;
    agents_[i].reset();
    if (!store) store = std::make_unique<storage::FileObjectStore>(store_dir_);
    auto counting = std::make_unique<test_doubles::CountingStore>(std::move(store));
    if (stores_.size() <= i) stores_.resize(i + 1);
    stores_[i] = counting.get();
    auto a = PartnerAgent::open(std::move(o), std::move(counting), *sinks_[i], log_);
    ASSERT_TRUE(a.ok()) << a.error().message;
    agents_[i] = std::move(*a);
  }

  void start_run(const chain::TrainingPlan& plan) {
    chain.append({chain::encode_transaction(chain::make_transaction(
        chain.spec.network(), chain.key(0), chain.state.next_nonce(chain.key(0).public_key()),
        chain::pb::TX_START_RUN, chain::plan_to_proto(plan).SerializeAsString()))});
  }

  // Commits what waits in the mempool, then lets every agent see the state.
  void commit_and_step() {
    std::vector<std::string> txs;
    txs.swap(mempool);
    chain.append(std::move(txs));
    for (auto& a : agents_) a->step(chain.state.height, chain.state.training);
  }

  // Steps until `done` or `max_blocks` blocks.
  template <class Pred>
  bool run_until(Pred done, int max_blocks = 200) {
    for (int b = 0; b < max_blocks; ++b) {
      if (done()) return true;
      commit_and_step();
    }
    return done();
  }

  const chain::Run& run() const { return *chain.state.training.find_run("run-1"); }
  bool finished() const {
    const chain::Run* r = chain.state.training.find_run("run-1");
    return r != nullptr && r->status == chain::RunStatus::finished;
  }
  const chain::Turn* turn() const { return run().current_turn(); }

  std::uint64_t next_nonce(std::size_t member) const {
    const chain::PublicKey key = chain.key(member).public_key();
    std::uint64_t n = chain.state.next_nonce(key);
    for (const std::string& t : mempool) {
      chain::pb::Transaction tx;
      tx.ParseFromString(t);
      if (tx.sender() == std::string(reinterpret_cast<const char*>(key.bytes.data()), 32)) ++n;
    }
    return n;
  }

  fs::path blob_path(const std::string& key) const { return store_dir_ / key; }
  fs::path work_dir(std::size_t i) const {
    return dir_.path() / ("agent-" + chain.members[i].name);
  }
  // Member i's own copies of models (agent/model_cache.h), laid out like the store.
  fs::path copy_path(std::size_t i, const std::string& key) const {
    return work_dir(i) / "model_cache" / key;
  }

  TestChain chain;
  std::vector<std::string> mempool;
  std::vector<std::unique_ptr<FakeSink>> sinks_;
  std::vector<std::unique_ptr<PartnerAgent>> agents_;
  std::vector<test_doubles::CountingStore*> stores_;  // each agent's, owned by it
  std::optional<EvaluationBudget> evaluation_budget;  // for agents opened from now on
  std::set<std::size_t>
      overspend;  // malicious_ignore_privacy_budget, for agents opened from now on

 private:
  const testing::TempDir& dir_;
  fs::path store_dir_;
  std::shared_ptr<spdlog::logger> log_;
};

inline AgentSubmitResult FakeSink::submit(chain::pb::TxType type, std::string payload) {
  submitted.emplace_back(type, payload);
  const std::string bytes = chain::encode_transaction(
      chain::make_transaction(net_.chain.spec.network(), net_.chain.key(member_),
                              net_.next_nonce(member_), type, std::move(payload)));
  net_.mempool.push_back(bytes);
  return {true, chain::tx_hash(bytes), {}};
}

inline std::size_t count_lines_with(const fs::path& file, const std::string& needle) {
  std::ifstream in(file);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

}  // namespace baton::agent::agent_test

// PartnerAgent: one hospital's part in a C-DistriM training run (issue 6).
// It watches the committed training state and acts through transactions:
//
//   my turn, awaiting_load_request  -> LoadRequest naming the current head
//   my turn, training (token mine)  -> fetch + check + open the head (or build
//                                      the plan's initial model), train on the
//                                      local training file, seal + upload,
//                                      journal the candidate, SaveRequest
//   another's LoadRequest open      -> LoadApproval (the ledger already checks
//                                      the schedule and the head)
//   another's turn, training        -> (voters, while idle) load the local
//                                      data and measure the head, if its
//                                      measure is not kept yet
//   another's SaveRequest open      -> fetch + check + open the candidate,
//                                      measure it (and the head, unless its
//                                      measure is kept) on the local
//                                      validation file, consensus::decide(),
//                                      ModelVote with both AUCs (a blob that
//                                      fails a check: reject, reason = the
//                                      hand-off error, e.g. "hash_mismatch: ...";
//                                      the plan's spec bounds the work: a blob
//                                      of another stored size is refused before
//                                      it is downloaded, "wrong_size: ...", a
//                                      model of another spec before anything is
//                                      built, "wrong_architecture: ...", and
//                                      scoring past the evaluation budget,
//                                      "over_budget: ..."; each is journaled
//                                      like any vote, so never retried)
//   a turn ended rejected/expired   -> delete its candidate blob (idempotent;
//                                      only at the turn's own object key and
//                                      never an approved model's blob; a
//                                      SaveRequest naming another key is
//                                      rejected: "wrong_object_key: ...")
//
// Models. Turn i's candidate has model id "turn-<i>" in its blob binding and
// object key runs/RUN/models/turn-<i>.blob; its parent is the hex of the head
// model id (the head's SaveRequest tx hash), empty before the first approved
// save. Before the first approved save the head is the plan's initial model,
// learning::Model::create(model_spec, plan.seed), which every node builds
// bit-identically; voters measure it like any head. Training uses the plan's
// epochs, batch size, optimizer, learning rate and weight decay, with batch
// order seed = plan.seed + turn index.
//
// Restarts. Every transaction the agent makes is first written to its journal
// (node/agent_journal.h) with its exact payload bytes; a restarted agent
// resubmits those bytes and never builds a second candidate or vote for the
// same turn or request. A request that is still awaited is resubmitted after
// `resubmit_after_blocks` blocks without effect (the mempool may have lost it);
// the ledger records a duplicate as a refusal.
//
// What is kept between steps, so that a model is fetched, opened, loaded and
// measured once per node: the local validation measure of the current head
// and of the last candidate this node measured (keyed by run and model
// SHA-256: the same bytes on the same data score the same), and one model,
// the last this node opened as a voter or trained itself, which is what it
// trains on when that model became the head and this node's turn comes next
// (the nodes take turns, so the next partner has just voted on the head).
// The trainer does not measure its own candidate: it does not vote on it, and
// its self-reported metrics are its training figures (rows, losses).
//
// Threads. on_committed() may be called from any thread (the node's loop); it
// only stores the latest view. One worker thread does all the work (training
// and evaluation block for seconds) and calls the AgentTxSink from there.
//
// Files in work_dir: journal.json, timings.jsonl (one JSON line per hand-off
// step, docs/OPERATIONS.md), tmp/ (blob streaming).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "chain/genesis.h"
#include "chain/keys.h"
#include "chain/proto/ledger.pb.h"
#include "chain/result.h"
#include "chain/training.h"
#include "learning/model.h"
#include "node/agent_data.h"
#include "node/agent_journal.h"
#include "node/agent_sink.h"
#include "node/config.h"
#include "node/model_handoff.h"
#include "storage/object_store.h"

namespace baton::node {

struct AgentOptions {
  std::string chain_id;
  std::string member_name;                       // this node's genesis name
  std::optional<chain::X25519SecretKey> x25519;  // required: unwraps this member's data keys
  std::vector<chain::GenesisMember> members;     // genesis members: recipients and voters
  TrainingConfig training;                       // files, work_dir, threads, label flip
  std::uint64_t resubmit_after_blocks = 5;
  // How long a candidate's scoring may take before this voter rejects it
  // (over_budget); see node/model_handoff.h.
  EvaluationBudget evaluation_budget;
};

class PartnerAgent {
 public:
  // Creates work_dir and reads the journal (a damaged journal is an error).
  // `store` is where blobs go; `sink` must outlive the agent.
  static Result<std::unique_ptr<PartnerAgent>> open(AgentOptions options,
                                                    std::unique_ptr<storage::ObjectStore> store,
                                                    AgentTxSink& sink,
                                                    std::shared_ptr<spdlog::logger> log);
  ~PartnerAgent();
  PartnerAgent(const PartnerAgent&) = delete;
  PartnerAgent& operator=(const PartnerAgent&) = delete;

  // Sets LibTorch's threads and starts the worker thread.
  void start();
  // Idempotent. Waits for the step in progress (a training is not interrupted;
  // the journal makes stopping at any point safe).
  void stop();

  // The ledger committed `height`; `state` is the training state after it.
  // Any thread; cheap. Only the latest view is kept.
  void on_committed(std::uint64_t height, chain::TrainingState state);

  // Runs one step on the caller's thread against `state` (for tests; do not
  // mix with start()).
  void step(std::uint64_t height, const chain::TrainingState& state);

  const std::filesystem::path& work_dir() const { return options_.training.work_dir; }

 private:
  PartnerAgent(AgentOptions options, std::unique_ptr<storage::ObjectStore> store, AgentTxSink& sink,
               std::shared_ptr<spdlog::logger> log, AgentJournal journal);

  struct Step;  // one view being processed
  void run_worker();
  void process(std::uint64_t height, const chain::TrainingState& state);
  void my_turn(const Step& s);
  void vote_on_load(const Step& s);
  void vote_on_save(const Step& s);
  void train_and_save(const Step& s);
  void delete_refused_candidates(const chain::TrainingState& state);
  void report_finished_turns(const chain::TrainingState& state);

  // Local data for a run's plan (cached per run id); nullptr after logging why.
  const LocalData* local_data(const chain::TrainingPlan& plan);
  // What getting a model cost (zeros when it was kept in memory).
  struct LoadTimings {
    HandoffTimings fetch;      // store and crypto
    double deserialize_s = 0;  // bytes -> model
    bool kept = false;         // the model was in memory: nothing fetched
  };
  // The head model of `run` (or the plan's initial model). Takes the kept
  // model when it is the head (it is kept no longer), else fetches it.
  Result<learning::Model> load_head(const chain::Run& run, LoadTimings* timings);
  // The kept model when it is `run`'s head, else nullptr.
  const learning::Model* kept_head(const chain::Run& run) const;
  // The head's evaluation on the local validation file (kept per head).
  // Adds what loading and measuring the head cost to `timings` / `eval_s`
  // (nothing when its measure was kept).
  const Evaluation* head_evaluation(const chain::Run& run, LoadTimings* timings, double* eval_s);
  // Keeps `evaluation` of the model `model_sha256` of `run`, with the current
  // head's (dropping any other).
  void keep_evaluation(const chain::Run& run, const chain::Hash& model_sha256,
                       Evaluation evaluation);
  // What the ledger says about a saved model, with this member's key entry.
  Result<LedgerModelRef> ledger_ref(const chain::SaveRecord& save) const;
  ModelBinding binding_for(const chain::Run& run, std::uint64_t turn,
                           const std::optional<chain::Hash>& parent) const;

  // Submits unless the same intent was submitted less than
  // resubmit_after_blocks ago. `what` names it in logs.
  void submit(const Step& s, const std::string& intent, chain::pb::TxType type,
              const std::string& payload, const std::string& what, bool log_first = true);
  bool is_voter() const;
  void log_once(const std::string& key, spdlog::level::level_enum level, const std::string& text);
  void append_timing(const std::string& json_line);
  std::uint64_t commit_ms(std::uint64_t height) const;
  std::uint64_t latest_height() const;  // the newest height on_committed() was given

  AgentOptions options_;
  std::unique_ptr<storage::ObjectStore> store_;
  AgentTxSink& sink_;
  std::shared_ptr<spdlog::logger> log_;
  HandoffOptions handoff_;

  // Worker-thread state.
  AgentJournal journal_;
  std::map<std::string, LocalData> data_;  // run id -> local data
  std::set<std::string> data_failed_;      // run ids whose data did not load
  // "run/model sha256 hex" ("run/initial") -> measure on the local validation
  // file: the current head's and the last measured candidate's, at most.
  std::map<std::string, Evaluation> evals_;
  struct KeptModel {
    std::string run_id;
    chain::Hash model_sha256;
    std::string object_key;
    learning::Model model;
  };
  std::optional<KeptModel> kept_;  // one model (see the file comment)
  struct Submitted {
    std::uint64_t height = 0;  // of the view that sent it
    chain::Hash hash;          // the transaction sent
  };
  std::map<std::string, Submitted> submitted_at_;  // intent -> last submission
  std::set<std::string> logged_;                   // log_once keys
  std::set<std::string> reported_turns_;           // "run/turn" already in timings
  bool first_view_ = true;

  // Shared with on_committed().
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<std::pair<std::uint64_t, chain::TrainingState>> pending_;
  std::map<std::uint64_t, std::uint64_t> commit_ms_;  // height -> wall ms this node saw it
  std::uint64_t latest_height_ = 0;
  bool stop_requested_ = false;
  std::atomic<bool> stopping_{false};
  std::thread worker_;
};

}  // namespace baton::node

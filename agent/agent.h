// PartnerAgent: one hospital's part in a C-DistriM training run (issue 6).
// It watches the committed training state and acts through transactions.
//
// Decide, then do (issue 12). What to do on each view is decided by a pure
// core, next_step() (agent/next_step.h: the committed state, this member's
// identity, what the journal and this process remember -> request, vote,
// train, submit, abandon or wait); this class carries the answer out (fetch,
// open, train, seal, upload, journal, submit) and records what happened. A
// vote on a candidate is measure (here), decide (agent/save_vote.h, pure),
// record (journal, then submit). A run's plan is parsed once, when the run is
// first seen (agent/run_plan.h). In short:
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
// (agent/agent_journal.h) with its exact payload bytes; a restarted agent
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
// Copies and failures (issue 11). Every model this node verified as a voter,
// loaded as the head, or made as the trainer is also kept in its model cache
// (agent/model_cache.h, [model_cache] in node.toml). The agent looks after the
// object store's copies of the models it keeps: on each new head, at a run's
// end, after a turn abandoned because of the head, and every
// check_interval_s, it checks the store's copy against the ledger's hash
// (hashing it when at most full_check_max_bytes, else by size; always in full
// after an abandoned turn) and puts its own verified copy back when the
// store's is missing or wrong. When the head does not load from the store,
// it is loaded from this node's copy (and the store repaired from it). When
// the partner still cannot load the head (no copy of its own), or its local
// data do not load, or the store stays unreachable for 3 attempts, or
// training fails, it gives up its turn at once with a TurnAbandon naming the
// reason (docs/PROTOCOL.md §18), instead of letting the deadline pass. The
// others see that on the ledger and restore the head from their copies before
// the next partner loads it.
//
// Threads. on_committed() may be called from any thread (the node's loop); it
// only stores the latest view. One worker thread does all the work (training
// and evaluation block for seconds) and calls the AgentTxSink from there.
//
// Files in work_dir: journal.json, timings.jsonl (one JSON line per hand-off
// step, docs/OPERATIONS.md), tmp/ (blob streaming).
#pragma once

#include <atomic>
#include <chrono>
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
#include "chain/secagg_shares.h"
#include "chain/training.h"
#include "learning/model.h"
#include "agent/agent_data.h"
#include "agent/agent_journal.h"
#include "agent/agent_metrics.h"
#include "agent/agent_sink.h"
#include "api/config.h"
#include "agent/model_cache.h"
#include "agent/model_handoff.h"
#include "agent/next_step.h"
#include "agent/node_members.h"
#include "agent/run_plan.h"
#include "agent/save_vote.h"
#include "storage/model_copies.h"
#include "storage/object_store.h"

namespace baton::agent {

using storage::CopyCheck;
using storage::ModelRepair;

struct AgentOptions {
  std::string chain_id;
  std::string member_name;                       // this node's genesis name
  std::optional<chain::X25519SecretKey> x25519;  // required: unwraps this member's data keys
  // Genesis members: the recipients and voters, unless the agent follows its
  // node's current members (PartnerAgent::follow_members, issue 18).
  std::vector<chain::GenesisMember> members;
  TrainingConfig training;  // files, work_dir, threads, label flip
  // agent.toml: its datasets are read again at each run's start (issue 17,
  // agent/agent_datasets.h). Empty: `training`'s files are the only dataset.
  std::filesystem::path config_path;
  ModelCacheConfig model_cache;  // dir empty: training.work_dir / "model_cache"
  std::uint64_t resubmit_after_blocks = 5;
  // How long a candidate's scoring may take before this voter rejects it
  // (over_budget); see agent/model_handoff.h.
  EvaluationBudget evaluation_budget;
  // Failed attempts (one per block) to reach the store before a partner gives
  // up its turn with store_unreachable.
  std::uint32_t store_attempts = 3;
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

  // Takes the recipients of the data keys it seals and whether it votes from
  // `source`, the ledger's current members (agent/node_members.h), asked
  // when a run starts and before each seal and vote; while `source` fails,
  // that step waits for the next view (never the genesis list instead).
  // Without it: options.members. Call before start(); `source` must outlive
  // the agent.
  void follow_members(MemberSource& source) { member_source_ = &source; }

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

  // What it is doing, how long its steps took, its last AUCs and errors
  // (agent/agent_metrics.h), for the reporter that sends them to the node.
  // Thread-safe.
  AgentMetrics& metrics() { return metrics_; }

  // The height of the last view the worker finished a step on (0 before the
  // first): everything that view asked for (votes, checks of the store's
  // copies, deletions) is done or journaled. Any thread.
  std::uint64_t processed_height() const { return processed_height_.load(); }

  // The object store's copy of `run`'s head (for a finished run: its final
  // model) checked against the ledger, hashed when at most
  // full_check_max_bytes (else by size against this node's copy, when it has
  // one). nullopt when the run has no approved model. Any thread.
  std::optional<CopyCheck> check_head_copy(const chain::Run& run);
  // Checks every approved model of `run` in the object store (hashing each)
  // and puts back this node's verified copy of any that is missing or wrong
  // (storage/model_copies.h). Any thread.
  std::vector<ModelRepair> repair_run(const chain::Run& run);

  // repair_run() on a thread of its own, so that the admin API stays
  // responsive while large blobs are checked. False when a repair is running.
  struct RepairJob {
    std::string run_id;
    bool running = true;
    std::vector<ModelRepair> models;  // when done
  };
  bool start_repair(chain::Run run);
  // The last repair started (running or done), if any.
  std::optional<RepairJob> last_repair() const;

  // ---- Reproducibility (issue 16, agent/agent_replay.cpp) ----
  // For `baton models replay` and `check-vote`, on an agent opened for them
  // (its own work_dir, never started: these run on the caller's thread).
  struct Replay {
    chain::Hash ledger_model_sha256;
    chain::Hash model_sha256;  // of the retrained model
    bool bit_identical = false;
    std::optional<chain::ReproRecord> ledger;  // the SaveRequest's record, if it has one
    chain::ReproRecord here;                   // what this replay used
    std::vector<std::string> differences;      // agent/repro.h: repro_differences
  };
  // Retrains turn `turn` of `run`, which this member trained, exactly as
  // train_and_save() did: from the SaveRequest's parent (fetched, checked and
  // opened; the plan's initial model when it has none) on this node's local
  // training data, with the turn's seed and the recorded threads. An error
  // when the turn has no SaveRequest, another member trained it, it is a
  // federated round's aggregate, or the head or the data do not load.
  Result<Replay> replay_turn(const chain::Run& run, std::uint64_t turn);

  struct VoteCheck {
    SaveVote ledger;                       // this member's ModelVote on the turn's candidate
    SaveVote here;                         // the vote measure + decide give now
    std::vector<std::string> differences;  // "auc_candidate_ppm: ledger 812345, here 812001"
  };
  // Measures turn `turn`'s candidate and the head it was voted against on
  // this node's validation data and decides the vote with the agent's own
  // code (measure_candidate, decide_save_vote); compares it with this
  // member's ModelVote. An error when there is no such vote or the candidate
  // cannot be measured now (the store unreachable).
  Result<VoteCheck> check_vote(std::uint64_t height, const chain::TrainingState& state,
                               const chain::Run& run, std::uint64_t turn);

 private:
  PartnerAgent(AgentOptions options, std::unique_ptr<storage::ObjectStore> store, AgentTxSink& sink,
               std::shared_ptr<spdlog::logger> log, AgentJournal journal);

  struct Step;  // one view being processed
  // What a step's action came to: done (or nothing to do), or a failure that
  // was recorded (the core is asked again at once: it may give the turn up).
  enum class Acted { done, failed };
  void run_worker();
  void process(std::uint64_t height, const chain::TrainingState& state);
  // The decision core's answer for `s` (agent/next_step.h), from what the
  // journal and this process remember.
  NextStep decide(const Step& s);
  AgentMemory recall(const Step& s);
  Acted act(const Step& s, const NextStep& next);
  Acted request_load(const Step& s);
  void vote_on_load(const Step& s, const VoteOnLoad& v);
  // A ModelVote in three steps: measure (I/O), decide (agent/save_vote.h,
  // pure), record (journal, then submit).
  Acted vote_on_save(const Step& s, const VoteOnSave& v);
  struct Measured;  // a measurement and what taking it cost
  std::optional<Measured> measure_candidate(const Step& s, const RunPlan& plan);
  void record_save_vote(const Step& s, const SaveVote& vote, const Measured& m);
  Acted train_and_save(const Step& s);
  // The settings of turn `turn` of `run` on this node: the plan's, `epochs`
  // epochs, the turn's seed (plan.seed + turn, or under DP-SGD the seed from
  // this hospital's key) and [training] torch_threads.
  learning::TrainSettings turn_settings(const chain::Run& run, std::uint64_t turn,
                                        const RunPlan& parsed, std::uint64_t epochs) const;
  // The device the record names ([training] device; "cpu").
  std::string training_device() const;
  // agent_round.cpp: a federated round's steps (agent/round_step.h).
  Acted share_round(const Step& s);
  Acted train_round(const Step& s);
  Acted reveal_shares(const Step& s);
  Acted aggregate_round(const Step& s);
  void complain(const Step& s, const Complain& c);
  // The round's aggregate as anyone computes it from the ledger and the
  // store: the head plus the unmasked FedAvg of U2's updates. Error code 1
  // when an upload is missing or fails its hash or size (upload_unusable),
  // 2 when the store could not be read.
  struct RoundAggregate {
    chain::Bytes model_bytes;
    std::uint64_t upload_bytes = 0;
    double fetch_s = 0;
    double unmask_s = 0;
  };
  Result<RoundAggregate> compute_round_aggregate(const Step& s);
  chain::RoundBinding round_binding(const chain::Run& run, std::uint64_t round) const;
  // The plan's partners' genesis X25519 keys, in rank order.
  Result<std::vector<chain::X25519PublicKey>> partner_keys(const chain::TrainingPlan& plan) const;
  void delete_refused_candidates(const chain::TrainingState& state);
  // agent_repair.cpp: the model cache and the store's copies.
  void look_after_models(const chain::TrainingState& state);
  // Checks the store's copy of `key` and restores this node's copy when it
  // is wrong; `full`: hash it whatever its size. Quiet when all is well.
  void check_and_restore(const std::string& run_id, const std::string& key,
                         const chain::Hash& ciphertext_sha256, bool full, const std::string& why);
  // handoff_ that also keeps a verified blob in the model cache.
  HandoffOptions keeping_handoff() const;
  // `run`'s plan as this agent uses it (agent/run_plan.h), parsed the first
  // time the run is seen and kept; nullptr when this build cannot use it
  // (`why`, when given, says why). Any thread.
  std::shared_ptr<const RunPlan> run_plan(const chain::TrainingPlan& plan,
                                          std::string* why = nullptr) const;
  // The size a model of `run`'s plan seals to (nullopt: a plan this build
  // cannot use).
  std::optional<std::uint64_t> sealed_size(const chain::Run& run) const;
  // The head from this node's own copy, after the store's failed with
  // `store_error`; restores the store's copy from it. The store's error when
  // there is no usable copy.
  Result<OpenedModel> open_from_copy(const chain::Run& run, const LedgerModelRef& ref,
                                     const ModelBinding& binding, const Error& store_error);
  // Gives up this node's turn: TurnAbandon with the core's reason and detail
  // (kept: resent as is).
  void abandon_turn(const Step& s, const Abandon& a);
  // A failed load of the head (or store trouble) on this node's turn, recorded
  // for the core (transient store failures count towards store_attempts).
  void head_load_failed(const Step& s, const Error& e);
  void report_finished_turns(const chain::TrainingState& state);
  // agent_grant.cpp: the final model's key for the sponsor of every run whose
  // escrow the sponsor released (agent/key_grant.h), journaled, then sent.
  void grant_released_models(std::uint64_t height, const chain::TrainingState& state);
  // agent_ready.cpp: this partner's RunReady for a preparing run (issue 17):
  // the plan checked against its local data and the store, sent until the
  // ledger holds an answer of it.
  void post_readiness(std::uint64_t height, const chain::TrainingState& state,
                      const chain::Run& run);

  // Local data for a run's plan (cached per run id); nullptr after logging why
  // (data_failed_ says why, unless the plan itself is unusable).
  const LocalData* local_data(const chain::TrainingPlan& plan);
  // What getting a model cost (zeros when it was kept in memory).
  struct LoadTimings {
    HandoffTimings fetch;      // store and crypto
    double deserialize_s = 0;  // bytes -> model
    bool kept = false;         // the model was in memory: nothing fetched
  };
  // What measure_candidate() found, and what it cost (for timings.jsonl).
  struct Measured {
    CandidateMeasure measure;
    std::uint64_t t_start_ms = 0;
    LoadTimings load;  // the head's, when it had to be fetched, then the candidate's
    double eval_s = 0;
    bool head_measured = false;  // the head was measured in this step
  };
  // A model fetched and opened (nothing when it was kept in memory), in
  // metrics_: steps fetch and open.
  void record_load(const LoadTimings& load);
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
  // The binding of turn `turn`'s candidate, made by `author` (the turn's
  // partner; a federated round's aggregator) from `parent`.
  ModelBinding binding_for(const chain::Run& run, std::uint64_t turn, const std::string& author,
                           const std::optional<chain::Hash>& parent) const;

  // Submits unless the same intent was submitted less than
  // resubmit_after_blocks ago. `what` names it in logs.
  void submit(const Step& s, const std::string& intent, chain::pb::TxType type,
              const std::string& payload, const std::string& what, bool log_first = true);
  // The same for a view with no current turn (`height`, `state`).
  void submit(std::uint64_t height, const chain::TrainingState& state, const std::string& intent,
              chain::pb::TxType type, const std::string& payload, const std::string& what,
              bool log_first = true);
  // Asks member_source_ for the current members (before `what`, for the
  // log); false after logging why when it cannot be had. True without a source.
  bool refresh_members(const std::string& what);
  bool is_voter() const;
  // True once the ledger's members (asked again while false) hold this
  // agent's name with its X25519 key: a newcomer admitted by vote, or a
  // member whose keys rotated, is not in the genesis as it is now. Until
  // then the agent neither seals, opens nor votes.
  bool confirm_identity();
  AgentIdentity identity() const { return {options_.member_name, is_voter()}; }
  void log_once(const std::string& key, spdlog::level::level_enum level, const std::string& text);
  // A failed journal write: counted (errors_total.journal), logged once.
  void journal_failed(const std::string& text);
  void append_timing(const std::string& json_line);
  std::uint64_t commit_ms(std::uint64_t height) const;
  std::uint64_t latest_height() const;  // the newest height on_committed() was given

  AgentOptions options_;
  std::unique_ptr<storage::ObjectStore> store_;
  AgentTxSink& sink_;
  std::shared_ptr<spdlog::logger> log_;
  HandoffOptions handoff_;
  AgentMetrics metrics_;  // thread-safe (the worker writes, the reporter reads)

  // Worker-thread state.
  AgentJournal journal_;
  MemberSource* member_source_ = nullptr;
  std::vector<chain::GenesisMember> members_;         // the last list: recipients and voters
  std::uint64_t members_height_ = 0;                  // the block members_ holds after
  std::set<std::string> members_asked_;               // run ids whose start asked for members
  bool identity_confirmed_ = false;                   // see confirm_identity()
  std::map<std::string, LocalData> data_;             // run id -> local data
  std::map<std::string, std::string> data_failed_;    // run id -> why its data did not load
  std::map<std::string, std::string> ready_answers_;  // run id -> its RunReady payload
  // Run id -> the consortium schema its plan's schema_id derives (issue 17),
  // taken from the ledger when the run is first seen (frozen by its start).
  std::map<std::string, std::optional<std::string>> consortium_schemas_;
  // Run id -> the reason its RunReady gives for data_failed_ (agent_data.h
  // data_failure: set where the check failed, never read from the text).
  std::map<std::string, chain::ReadinessFailure> data_failure_;
  // "run/model sha256 hex" ("run/initial") -> measure on the local validation
  // file: the current head's and the last measured candidate's, at most.
  std::map<std::string, Evaluation> evals_;
  struct KeptModel {
    std::string run_id;
    chain::Hash model_sha256;
    std::string object_key;
    learning::Model model;
  };
  std::optional<KeptModel> kept_;                        // one model (see the file comment)
  std::unique_ptr<ModelCache> cache_;                    // null when [model_cache] enabled = false
  std::string retained_for_;                             // the state summary retain() last ran on
  std::map<std::string, std::string> checked_heads_;     // run id -> head (or "final/...") checked
  std::set<std::string> handled_abandons_;               // "run/turn" whose head was checked
  std::chrono::steady_clock::time_point next_check_{};   // the periodic check of kept copies
  std::map<std::string, Abandon> abandoned_;             // "run/turn" -> the TurnAbandon sent
  std::map<std::string, std::uint32_t> store_failures_;  // "what/run/turn" -> failed attempts
  std::map<std::string, TurnFailure> failures_;          // "run/turn" -> the last failure in it
  std::map<std::string, Abandon> complained_;            // "run/round" -> the complaint sent
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
  std::atomic<std::uint64_t> processed_height_{0};
  std::thread worker_;
  // Run id -> its parsed plan (or why it is unusable), with the model spec's
  // hash it was parsed from.
  struct ParsedPlan {
    chain::Hash model_spec_hash;
    std::shared_ptr<const RunPlan> plan;
    std::string why;
  };
  mutable std::mutex plans_mutex_;
  mutable std::map<std::string, ParsedPlan> plans_;  // guarded by plans_mutex_
  mutable std::mutex repair_mutex_;
  std::optional<RepairJob> repair_job_;  // guarded by repair_mutex_
  std::thread repair_thread_;
};

}  // namespace baton::agent

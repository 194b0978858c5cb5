// The C-DistriM training protocol's state: runs, turns, requests, votes,
// tokens, lineage and contributivity, as the ledger has decided them.
// docs/PROTOCOL.md, "Training protocol".
//
// Plain data plus read-only queries. The transitions (which transactions are
// accepted, quorum, deadlines) live in chain/protocol.h. Deterministic: only
// ordered containers and integers; AUCs are parts per million (ppm, u32).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/accounts.h"
#include "chain/consortium_schema.h"
#include "chain/crypto.h"
#include "chain/privacy_budget.h"
#include "chain/proto/ledger.pb.h"
#include "chain/vote_policy.h"

namespace baton::chain {

// Why the ledger refused a protocol transaction. The numbers are part of the
// state hash (docs/PROTOCOL.md, "Refused transactions"); never renumber.
enum class ProtocolRejected : std::uint8_t {
  not_admin = 1,             // StartRun from a member without role "admin"
  run_active = 2,            // StartRun while another run is active
  duplicate_run_id = 3,      // StartRun reusing a run id
  invalid_plan = 4,          // StartRun whose plan fails validate_plan
  wrong_run = 5,             // the run id is not the active run
  run_not_active = 6,        // no run is active
  out_of_turn = 7,           // LoadRequest/SaveRequest/TurnAbandon from a partner whose turn
                             //   it is not, or naming another turn index
  wrong_phase = 8,           // the turn is not in the phase this transaction needs
  wrong_head = 9,            // LoadRequest/SaveRequest naming another head than the current one
  no_open_request = 10,      // a vote for a request id that is not open
  vote_after_deadline = 11,  // a vote for a request that expired, or for an approved
                             //   candidate whose vote deadline has passed (gain settled)
  duplicate_vote = 12,       // the member already voted on this request
  not_a_voter = 13,          // the voter has no voting power
  own_request = 14,          // the requester voting on its own request
  malformed_request = 15,    // fields out of range: hash or key lengths, recipients,
                             //   empty object key, AUC or p above 1000000 ppm, an unknown
                             //   abandon reason or a detail over kMaxAbandonDetailBytes
  // A ModelVote whose approve is not what the plan's vote policy gives for
  // its own AUCs and p (chain/vote_policy.h, vote_follows_policy).
  vote_contradicts_policy = 16,
  // A SaveRequest whose model_sha256 is that of a candidate already submitted
  // in the run (the head, an earlier approved model, or a rejected or
  // expired candidate): a copy, or a re-seal of another's model, is no
  // contribution (issue 13).
  duplicate_model = 17,
  // 18..29: accounts, escrow and the model release (issue 13, chain/accounts.h).
  insufficient_balance = 18,  // the sender's balance does not hold the amount (overdraft)
  unknown_recipient = 19,     // a Transfer to a name that is not a genesis member
  zero_amount = 20,           // a Transfer (or funding) of 0 credits
  not_sponsor = 21,           // FundRun/ReleaseEscrow from a member that is not the run's sponsor
                              //   (or for a run whose plan names none)
  run_finished = 22,          // FundRun for a run that finished (or ended unfunded)
  run_not_finished = 23,      // ReleaseEscrow before the run finished
  already_released = 24,      // a second ReleaseEscrow, or one after the deadline payout or refund
  not_released = 25,          // a KeyGrant before the sponsor's release committed (or after a
                              //   deadline payout: the sponsor then gets no model)
  key_commitment_mismatch = 26,  // a KeyGrant claiming another key commitment than the final
                                 //   model's SaveRequest
  not_key_holder = 27,        // a KeyGrant from a member that received no wrapped key of the final
                              //   model, or naming another model than the run's final one
  grant_to_non_sponsor = 28,  // a KeyGrant whose recipient is not the run's sponsor
  gains_not_settled = 29,     // ReleaseEscrow before every approved turn's vote deadline passed
                              //   (gains_settled: late votes could still move the tokens)
  // 30..39: deposits (issue 13, docs/PROTOCOL.md §19.9).
  cannot_afford_stake = 30,  // a LoadRequest from a partner whose balance is below the plan's
                             //   submission cost + its required deposit
  below_min_balance = 31,    // a LoadRequest from a partner whose balance is below min_balance
  // 40..49: the privacy budget (issue 14, docs/PROTOCOL.md §20.2).
  // A SaveRequest whose ε is consistent (privacy_spend_mismatch passed) but
  // whose epsilon_total_micro passes the plan's budget_micro: it trained more
  // epochs than its budget allows.
  privacy_budget_exceeded = 40,
  // A SaveRequest whose fields 12..14 are not next_privacy_spend(plan, e,
  // its last accepted spend) for an e in [1, plan.epochs] (dp_sgd: e from the
  // steps, a whole number of epochs; local: e = plan.epochs; no DP: all 0):
  // a tampered ε, too low or too high, or tampered steps.
  privacy_spend_mismatch = 41,
  // 50..59: federated rounds with secure aggregation (issue 15, docs/PROTOCOL.md §21).
  wrong_round = 50,       // a RoundShare/RoundUpload/RoundUnmask/SaveRequest naming a round
                          //   other than the current one (an upload for another round)
  not_federated = 51,     // a round transaction for a chained run, or a LoadRequest in a
                          //   federated one
  already_shared = 52,    // a second RoundShare from the same partner in a round
  not_a_sharer = 53,      // a RoundUpload or RoundUnmask from a partner not in the round's U1
  already_uploaded = 54,  // a second RoundUpload from the same partner in a round
  already_unmasked = 55,  // a second RoundUnmask from the same partner in a round
  // A RoundUnmask share that is not the one its dealer committed to for this
  // recipient (chain/secagg_shares.h, share_commitment), or a missing or
  // extra share: the whole transaction is refused.
  wrong_share = 56,
  // 57..63: run control (issue 17, docs/PROTOCOL.md §22).
  not_preparing = 57,     // a RunReady for a run that is not in its readiness phase (it began
                          //   turn 0, awaits its funding, or ended)
  not_a_partner = 58,     // a RunReady from a member the plan does not name as a partner
  already_answered = 59,  // a second RunReady from the same partner
  run_ended = 60,         // a CancelRun for a run that already ended (finished, unfunded,
                          //   cancelled, not_ready)
  // 64..69: the consortium schema (issue 17, docs/PROTOCOL.md §23).
  malformed_summary = 64,        // a DataSummary out of its bounds or inconsistent
                                 //   (chain/consortium_schema.h, summary_from_proto)
  not_a_data_holder = 65,        // a DataSummary from a member without role "partner"
  schema_frozen = 66,            // a DataSummary for a schema id a started run names
  summary_layout_mismatch = 67,  // a DataSummary whose positive value, NA tokens, column names,
                                 //   order or kinds differ from another member's for the id
  too_many_summaries = 68,       // the member holds summaries for kMaxSummariesPerMember ids
  // A StartRun whose schema_id has no summary, whose summaries derive no
  // schema, or whose feature columns or positive value are not the schema's.
  unknown_schema = 69,
  // Run control, continued (issue 17, docs/PROTOCOL.md §22.2).
  // A ready RunReady, for a plan with a schema_id, whose schema_sha256 is not
  // the SHA-256 of the schema that id derives (§23.3): it does not count.
  wrong_schema_hash = 70,
  // Membership and keys (issue 18, docs/PROTOCOL.md §25.6).
  not_validator = 71,           // a MemberChange from a member without voting power
  unknown_member = 72,          // the change names no current member
  name_taken = 73,              // ADD: the name is a member's or was ever retired
  key_taken = 74,               // a new key is a member's or was ever retired
  last_validator = 75,          // the change would leave no voting power (or the set empty)
  bad_rotation_signature = 76,  // KeyRotation: the new key's signature does not verify
  change_expired = 77,          // expires_at_height not in (H, H + kMaxChangeLifetime], or passed
  too_many_pending = 78,    // kMaxPendingChanges in all, or kMaxPendingPerProposer by the sender
  bad_member_fields = 79,   // a field out of bounds, or set for a kind that takes none
  too_many_members = 80,    // ADD beyond kMaxMembers
  already_approved = 81,    // the validator already sent this change: it counts once
  too_many_rotations = 82,  // the member made kMaxRotationsPerMember KeyRotations already
  already_rotating = 83,    // a second KeyRotation of the member in one block
  too_many_grants = 84,     // kMaxMemberGrants (model, recipient) pairs granted already
};

// A sentence, e.g. "the member already voted on this request".
std::string_view to_string(ProtocolRejected reason);

// How a turn's votes become its tokens (plan field token_mode, issue 13).
// Stored as the protobuf's u32; never renumber.
enum class TokenMode : std::uint8_t {
  delta_auc = 0,   // the settled median of auc_candidate_ppm - auc_head_ppm
  delta_loss = 1,  // the settled median of loss_head_micro - loss_candidate_micro
};
// The partners' order in each cycle (plan field turn_order, issue 13).
enum class TurnOrder : std::uint8_t {
  fixed = 0,     // turn i: partners[i mod n]
  rotating = 1,  // cycle c starts at partners[(seed + c) mod n]: every partner goes first in
                 //   turn in n consecutive cycles, and the seed picks who goes first overall
};
// How a run trains (plan field mode, issue 15). Never renumber.
enum class TrainingMode : std::uint8_t {
  chained = 0,    // one partner at a time, turn after turn (C-DistriM)
  federated = 1,  // every partner at once, rounds of securely aggregated updates (§21)
};
std::string_view to_string(TrainingMode mode);  // "chained", "federated"
std::string_view to_string(TokenMode mode);     // "delta_auc", "delta_loss"
std::string_view to_string(TurnOrder order);    // "fixed", "rotating"

// The typed plan (pb::TrainingPlan decoded and checked; chain/training_plan.h).
struct TrainingPlan {
  std::string run_id;
  std::string model_spec;  // opaque bytes (learning's JSON architecture spec)
  Hash model_spec_hash;    // SHA-256 of model_spec
  std::vector<std::string> feature_columns;
  std::string label_column;
  std::string positive_value;
  std::vector<std::string> partners;  // member names; turn i: turn_partner(plan, i)
  std::uint32_t cycles = 1;
  std::uint32_t epochs = 1;
  std::uint32_t batch_size = 32;
  std::string optimizer = "adam";
  std::uint64_t learning_rate_nano = 1'000'000;  // 1e-3
  std::uint64_t weight_decay_nano = 0;
  std::uint64_t seed = 0;
  VotePolicyKind vote_policy = VotePolicyKind::strict;
  std::uint32_t vote_param_ppm = 0;  // tolerance: epsilon in AUC ppm; delong: alpha in ppm
  std::uint32_t quorum_num = 1;      // decided when power > num/den of the eligible power
  std::uint32_t quorum_den = 2;
  std::uint64_t load_deadline_blocks = 20;
  std::uint64_t save_deadline_blocks = 200;
  std::uint64_t vote_deadline_blocks = 20;
  TokenMode token_mode = TokenMode::delta_auc;
  TurnOrder turn_order = TurnOrder::fixed;
  // A partner whose turns were rejected this many times in a row (no approval
  // between) is suspended: its later turns are skipped. 0: never.
  std::uint32_t suspend_after = 0;
  // Escrow (issue 13, docs/PROTOCOL.md §19.6): empty sponsor = no escrow, and
  // then the three numbers are 0.
  std::string sponsor;                        // a member with role "sponsor"
  std::uint64_t min_escrow = 0;               // credits needed before turn 0 begins
  std::uint64_t funding_deadline_blocks = 0;  // > 0 exactly when min_escrow > 0
  std::uint64_t release_deadline_blocks = 0;  // > 0 exactly when a sponsor is named
  // Deposits (issue 13, docs/PROTOCOL.md §19.9): all 0 = no deposits.
  std::uint64_t submission_cost = 0;  // paid by each SaveRequest into the escrow (needs a sponsor)
  std::uint64_t deposit = 0;          // locked at a LoadRequest; x deposit_factor per rejection
  std::uint32_t deposit_factor = 0;   // 1..kMaxDepositFactor when deposit > 0, else 0
  std::uint64_t min_balance = 0;      // a partner holding less when its turn begins is skipped
  // Differential privacy (issue 14, docs/PROTOCOL.md §20.2): mechanism none = off.
  PrivacyPlan privacy;
  // Federated rounds (issue 15, docs/PROTOCOL.md §21). federated: `cycles` is
  // the number of rounds, `epochs` each partner's local epochs per round, and
  // every round is one Turn; the two numbers below are in [2, partners]. They
  // are 0 for a chained run.
  TrainingMode mode = TrainingMode::chained;
  std::uint32_t min_partners = 0;      // uploads a round needs (with at least t of them)
  std::uint32_t secagg_threshold = 0;  // Shamir threshold t: shares that reveal a secret
  // Run control (issue 17, docs/PROTOCOL.md §22): 0 = no readiness phase
  // (every plan before issue 17); > 0 = blocks the partners have to post
  // their RunReady before turn 0.
  std::uint64_t readiness_deadline_blocks = 0;
  // Datasets and the consortium schema (issue 17, docs/PROTOCOL.md §23).
  std::string dataset;    // the partners' local dataset by name; empty: "default"
  std::string schema_id;  // encode with the schema derived from its DataSummaries; empty: none

  // A turn locks credits (a deposit or a submission cost).
  bool has_stakes() const { return submission_cost > 0 || deposit > 0; }

  bool federated() const { return mode == TrainingMode::federated; }
  // Chained: cycles x partners turns. Federated: one turn per round (cycles).
  std::uint64_t total_turns() const {
    return federated() ? cycles : static_cast<std::uint64_t>(cycles) * partners.size();
  }
  bool operator==(const TrainingPlan&) const = default;
};

// The partner of turn `index`: partners[(index + offset) mod n] with offset 0
// (fixed) or (seed + cycle) mod n (rotating), cycle = index / n. Pre: partners
// is not empty (a validated plan).
const std::string& turn_partner(const TrainingPlan& plan, std::uint64_t index);

enum class TurnPhase : std::uint8_t {
  awaiting_load_request = 1,  // the scheduled partner may send LoadRequest
  load_voting = 2,            // LoadApprovals being collected
  training = 3,               // load token granted; SaveRequest expected
  save_voting = 4,            // ModelVotes being collected
  done = 5,                   // outcome is set
  // Federated rounds (§21): sharing -> uploading -> unmasking -> aggregating
  // -> save_voting -> done.
  round_sharing = 6,      // partners send RoundShare (this round's U1)
  round_uploading = 7,    // partners of U1 train and send RoundUpload (U2)
  round_unmasking = 8,    // partners of U1 send RoundUnmask until t have
  round_aggregating = 9,  // any partner sends the aggregate as a SaveRequest
};

enum class TurnOutcome : std::uint8_t {
  pending = 0,
  approved = 1,   // save token granted; the candidate became the head
  rejected = 2,   // a quorum refused the load or the save
  expired = 3,    // a deadline passed first
  abandoned = 4,  // the partner gave up its turn (TurnAbandon): Turn::abandon says why
  // Skipped when it began: its partner's candidates or loads were rejected
  // plan.suspend_after times in a row (issue 13; partner_suspended).
  suspended = 5,
  // Skipped when it began: its partner's balance was below the plan's
  // min_balance or below submission_cost + its required deposit
  // (partner_can_pay; docs/PROTOCOL.md §19.9). Nobody trains for nothing.
  cannot_pay = 6,
  // Skipped when it began: not even one more epoch of its partner's training
  // fits within the plan's privacy budget (max_epochs_within_budget == 0,
  // docs/PROTOCOL.md §20.2). Once so, every later turn of that partner too.
  budget_spent = 7,
  // A federated round whose unmasking reconstructed a secret that is not the
  // one its dealer committed to (RoundRecord::failed_dealer): the dealer
  // dealt inconsistent shares, and the aggregate cannot be computed.
  round_failed = 8,
  // Its partner was removed from the consortium (MemberChange REMOVE, issue
  // 18, docs/PROTOCOL.md §25.3): ended (or skipped when it began) at once.
  removed = 9,
};

// Why a partner gave up its turn (TurnAbandon.reason). Stored in the state
// hash; never renumber.
enum class LoadFailure : std::uint8_t {
  head_missing = 1,         // no object under the head's key, and no node's copy restored it
  head_hash_mismatch = 2,   // the stored blob (or its plaintext) is not the ledger's
  head_unusable = 3,        // the blob does not open or load for this partner
  store_unreachable = 4,    // the object store failed past the agent's retries
  local_data_unusable = 5,  // the partner's own training/validation data do not load
  training_failed = 6,      // training or sealing the candidate failed
  // Federated (§21): a masked upload is missing from the store or fails its
  // RoundUpload hash; the TurnAbandon's detail names whose. Recorded as a
  // complaint in the round; it ends nothing (one member's word decides
  // nothing): the round expires at its deadline if nobody can aggregate.
  upload_unusable = 7,
};
inline constexpr std::uint8_t kMaxLoadFailure = 7;
// A TurnAbandon's detail is at most this many bytes.
inline constexpr std::size_t kMaxAbandonDetailBytes = 256;

std::string_view to_string(TurnPhase phase);
std::string_view to_string(TurnOutcome outcome);
// "head_missing", ... (the stable name used in JSON and docs).
std::string_view to_string(LoadFailure reason);

struct ApprovalRecord {  // one LoadApproval
  bool approve = false;
  std::string reason;
  std::uint64_t height = 0;
  bool operator==(const ApprovalRecord&) const = default;
};

struct ModelVoteRecord {  // one ModelVote
  bool approve = false;
  std::uint32_t auc_candidate_ppm = 0;
  std::uint32_t auc_head_ppm = 0;
  std::uint64_t validation_size = 0;
  std::uint32_t p_worse_ppm = 0;
  std::string reason;
  std::uint64_t height = 0;
  std::uint64_t loss_candidate_micro = 0;  // mean validation BCE x 1e6 (delta_loss runs)
  std::uint64_t loss_head_micro = 0;

  std::int64_t gain_ppm() const {
    return static_cast<std::int64_t>(auc_candidate_ppm) - static_cast<std::int64_t>(auc_head_ppm);
  }
  // The loss decrease, in millionths (bounded: both losses are at most kMaxLossMicro).
  std::int64_t loss_gain_micro() const {
    return static_cast<std::int64_t>(loss_head_micro) -
           static_cast<std::int64_t>(loss_candidate_micro);
  }
  // The voter measured the candidate (a vote on 0 rows claims no gain).
  bool measured() const { return validation_size > 0; }
  bool operator==(const ModelVoteRecord&) const = default;
};

// Bytes of one wrapped data key: a libsodium sealed box (48) of the 32-byte
// key (storage::kWrappedKeySize; chain does not link storage).
inline constexpr std::size_t kWrappedKeyBytes = 80;

struct AbandonRecord {  // a TurnAbandon's content
  LoadFailure reason = LoadFailure::head_missing;
  std::string detail;
  bool operator==(const AbandonRecord&) const = default;
};

// A SaveRequest's reproducibility record (fields 15..22, issue 16,
// docs/PROTOCOL.md §18.1): what its partner needs to retrain the model bit
// for bit. Opaque to the ledger beyond its bounds; nothing is decided on it.
inline constexpr std::size_t kMaxReproTextBytes = 64;  // each string, printable ASCII
inline constexpr std::uint32_t kMaxReproThreads = 1024;
struct ReproRecord {
  std::uint64_t train_seed = 0;
  std::uint32_t torch_threads = 0;
  std::string baton_version;
  std::string baton_commit;
  std::string libtorch_version;
  std::string device;
  std::optional<Hash> train_rows_sha256;
  std::optional<Hash> schema_sha256;
  bool operator==(const ReproRecord&) const = default;
};

struct SaveRecord {  // the SaveRequest's content
  std::optional<Hash> parent_model_id;
  std::string object_key;
  Hash ciphertext_sha256;
  Hash model_sha256;
  // The blob header's commitment to its data key (storage::DataKey::commitment()).
  // Every member that unwraps its wrapped key checks the key against it, so all
  // members that accept the blob hold the same key.
  Hash key_commitment;
  // Recipient member name -> its kWrappedKeyBytes sealed box of the data key.
  std::map<std::string, std::string> wrapped_keys;
  std::uint64_t train_samples = 0;
  std::string metrics_json;
  // Fields 12..14 (docs/PROTOCOL.md §20.2): what this model spent of its
  // partner's privacy budget. All zero, and not encoded, without DP.
  PrivacySpend privacy;
  // Fields 15..22: set when any of them is (not encoded otherwise, so the
  // state of a chain without records encodes as before).
  std::optional<ReproRecord> repro;
  bool operator==(const SaveRecord&) const = default;
};

// ---- Federated rounds (issue 15, docs/PROTOCOL.md §21) ----

// At most this many partners in a federated plan (each RoundShare carries a
// box and two commitments per partner; the fixed-point bound of
// secagg/secagg.h counts on it).
inline constexpr std::size_t kMaxFederatedPartners = 64;
// A RoundShare's sealed box of a dealer's two 32-byte shares for one
// recipient: crypto_box_SEALBYTES (48) + 64.
inline constexpr std::size_t kShareBoxBytes = 112;
// A RoundUpload's weight is in [1, kMaxRoundWeight] (training rows).
inline constexpr std::uint64_t kMaxRoundWeight = 1u << 20;

struct RoundShareRecord {  // a RoundShare's content
  Hash ephemeral_public;   // X25519 public key (32 bytes)
  Hash self_seed_commitment;
  std::vector<std::string> share_boxes;      // by recipient rank, kShareBoxBytes each
  std::vector<Hash> self_share_commitments;  // by recipient rank
  std::vector<Hash> key_share_commitments;   // by recipient rank
  std::uint64_t height = 0;
  bool operator==(const RoundShareRecord&) const = default;
};

struct RoundUploadRecord {  // a RoundUpload's content
  std::optional<Hash> head_model_id;
  std::string object_key;
  Hash masked_sha256;
  std::uint64_t weight = 0;
  std::uint64_t height = 0;
  bool operator==(const RoundUploadRecord&) const = default;
};

struct RoundUnmaskRecord {          // a RoundUnmask's content
  std::vector<std::string> shares;  // by dealer rank: 32 bytes for a dealer in U1, else empty
  std::uint64_t height = 0;
  bool operator==(const RoundUnmaskRecord&) const = default;
};

// What a federated round's turn holds besides the candidate and its votes.
struct RoundRecord {
  std::map<std::string, RoundShareRecord> shares;    // U1: partner -> its RoundShare
  std::map<std::string, RoundUploadRecord> uploads;  // U2: partner -> its RoundUpload
  std::map<std::string, RoundUnmaskRecord> unmasks;  // partner -> its RoundUnmask
  // Set when unmasking ends (the t-th RoundUnmask): the secrets the ledger
  // reconstructed from the revealed shares, public from then on. Never both
  // for one dealer: a dealer in U2 reveals its self-mask seed, a dealer in
  // U1 \ U2 its ephemeral secret key.
  std::map<std::string, Hash> self_seeds;         // dealer in U2 -> its self-mask seed
  std::map<std::string, Hash> ephemeral_secrets;  // dealer in U1 \ U2 -> its X25519 secret
  std::string failed_dealer;  // outcome round_failed: whose shares did not reconstruct
  // TurnAbandons of this round (a partner that could not take part, or an
  // aggregator that found an upload unusable): partner -> what it said.
  std::map<std::string, AbandonRecord> complaints;
  // Sum of U2's weights (fixed when unmasking begins).
  std::uint64_t total_weight() const;
  bool operator==(const RoundRecord&) const = default;
};

// What a turn of a plan with stakes (TrainingPlan::has_stakes) locked and
// where it went (docs/PROTOCOL.md §19.9). Locked at the LoadRequest; settled
// once, when the turn ends.
struct Stake {
  std::uint64_t deposit = 0;  // credits locked as the deposit (required_deposit at the LoadRequest)
  std::uint64_t cost = 0;     // the submission cost locked with it
  bool settled = false;       // the turn ended and everything below is final
  std::uint64_t refunded = 0;  // credits back to the partner
  std::uint64_t escrowed = 0;  // credits paid into the run's escrow (the cost at the SaveRequest)
  std::map<std::string, std::uint64_t> forfeits;  // voter -> its share of a forfeit (> 0 only)

  // Credits the turn holds now: neither paid back, nor escrowed, nor forfeited.
  std::uint64_t locked() const;
  bool operator==(const Stake&) const = default;
};

struct Turn {
  std::uint64_t index = 0;
  std::uint64_t cycle = 0;
  std::string partner;
  std::uint64_t start_height = 0;  // the height at which the turn began
  TurnPhase phase = TurnPhase::awaiting_load_request;
  std::uint64_t deadline_height = 0;  // the current phase's last block; expires at its end
  TurnOutcome outcome = TurnOutcome::pending;
  std::uint64_t end_height = 0;  // when outcome was decided

  std::optional<Hash> load_request_id;  // tx hash of the LoadRequest
  std::uint64_t load_request_height = 0;
  std::map<std::string, ApprovalRecord> load_approvals;  // voter name -> approval
  std::optional<Hash> load_token_id;                     // = load_request_id once granted
  std::uint64_t load_token_height = 0;

  std::optional<Hash> save_request_id;  // tx hash of the SaveRequest = candidate model id
  std::uint64_t save_request_height = 0;
  std::optional<SaveRecord> save;
  std::map<std::string, ModelVoteRecord> model_votes;  // voter name -> vote
  std::optional<Hash> save_token_id;                   // = save_request_id once granted
  std::uint64_t save_token_height = 0;

  std::optional<Hash> head_before;  // the head when the turn began
  // Set exactly when outcome == abandoned (at end_height).
  std::optional<AbandonRecord> abandon;
  // Its plan has stakes: what it locked (zero until its LoadRequest).
  Stake stake;
  // Federated runs only: the round's shares, uploads and unmasking. A round's
  // `partner` is empty until its SaveRequest, then the aggregator's name.
  std::optional<RoundRecord> round;
  bool operator==(const Turn&) const = default;
};

// One approved model: a node of the lineage.
struct ModelRecord {
  Hash id;  // = the SaveRequest's tx hash (= its save token id)
  std::optional<Hash> parent;
  std::string contributor;
  std::uint64_t turn = 0;
  std::uint64_t height = 0;  // save token height
  Hash load_token_id;
  std::string object_key;
  Hash ciphertext_sha256;
  Hash model_sha256;
  // The turn's gain (settled_gain_ppm of every vote recorded until the vote
  // deadline); 0 until gain_settled.
  std::int64_t median_gain_ppm = 0;
  // Set at the end of the block at the SaveRequest's vote deadline
  // (save_request_height + vote_deadline_blocks): from then on the turn's
  // votes, its gain and its contributor's contributivity are final.
  bool gain_settled = false;
  // Federated: the partners whose updates the aggregate holds (U2), in name
  // order; each gets an equal share of the settled gain. Empty when chained.
  std::vector<std::string> contributors;
  bool operator==(const ModelRecord&) const = default;
};

// A protocol transaction that a block included but the state refused: its
// sender's nonce was consumed and nothing else changed.
struct Refusal {
  std::uint64_t height = 0;  // the block that included it
  Hash tx_hash;
  std::string sender;  // member name
  pb::TxType type = pb::TX_UNKNOWN;
  ProtocolRejected reason = ProtocolRejected::malformed_request;
  std::string run_id;  // the run id the transaction names (a StartRun: its plan's)
  // The turn it names (LoadRequest, SaveRequest), or of the request it votes
  // on (LoadApproval, ModelVote) when that request exists; else empty.
  std::optional<std::uint64_t> turn;
  bool operator==(const Refusal&) const = default;
};

// How many refusals a log keeps: the most recent ones. The blocks keep every
// refused transaction; the bound keeps a member that floods refused
// transactions from growing the state (and its hash input) without limit.
inline constexpr std::size_t kMaxRefusalsKept = 256;

struct RefusalLog {
  std::uint64_t total = 0;      // refusals ever recorded in this log
  std::vector<Refusal> recent;  // the last min(total, kMaxRefusalsKept), oldest first

  void record(Refusal refusal);  // appends; drops the oldest beyond kMaxRefusalsKept
  bool operator==(const RefusalLog&) const = default;
};

enum class RunStatus : std::uint8_t {
  active = 1,
  finished = 2,
  awaiting_funding = 3,  // the plan's min_escrow is not reached yet: no turn has begun
  unfunded = 4,          // the funding deadline passed first: ended without a turn
  // Run control (issue 17, docs/PROTOCOL.md §22).
  preparing = 5,  // waiting for the partners' RunReady: no turn has begun
  cancelled = 6,  // an admin's CancelRun ended it (Run::stop says who and why)
  not_ready = 7,  // it never began: a refusal, a schema mismatch or the readiness deadline
};
std::string_view to_string(RunStatus status);  // "active", "finished", ...
// The run ended: finished, unfunded, cancelled or not_ready.
bool run_ended(RunStatus status);

// Why a partner refused a run in its RunReady (docs/PROTOCOL.md §22). Stored
// in the state hash; never renumber.
enum class ReadinessFailure : std::uint8_t {
  columns_missing = 1,    // a feature or label column of the plan is not in its data
  width_mismatch = 2,     // its data encode to another width than the model's input size
  model_unbuildable = 3,  // the plan's model spec does not build in its agent
  optimizer_unknown = 4,  // the plan's optimizer is not one its agent supports
  store_unreachable = 5,  // the object store does not answer
  data_unusable = 6,      // its data do not load for another reason (the detail says which)
};
inline constexpr std::uint8_t kMaxReadinessFailure = 6;
// A RunReady's detail and a CancelRun's reason are at most this many bytes.
inline constexpr std::size_t kMaxRunControlTextBytes = 256;
std::string_view to_string(ReadinessFailure reason);  // "columns_missing", ...

// One partner's RunReady.
struct ReadinessRecord {
  bool ready = false;
  std::optional<Hash> schema_sha256;  // absent: no feature schema (images, local fit)
  std::uint64_t train_rows = 0;
  std::uint8_t reason = 0;  // ReadinessFailure when !ready, else 0
  std::string detail;
  std::uint64_t height = 0;
  bool operator==(const ReadinessRecord&) const = default;
};

// Why a run ended before its plan did (status cancelled or not_ready). Never
// renumber.
enum class RunStopCause : std::uint8_t {
  cancelled = 1,          // an admin's CancelRun: member = the admin, reason = its text
  partner_refused = 2,    // a partner's refusing RunReady: member = it, reason = its detail
  schema_mismatch = 3,    // member = the partner whose schema hash differs from earlier ones
  readiness_expired = 4,  // the readiness deadline passed: member = "", reason names who
                          //   did not answer
};
std::string_view to_string(RunStopCause cause);  // "cancelled", "partner_refused", ...

struct RunStop {
  RunStopCause cause = RunStopCause::cancelled;
  std::string member;
  std::string reason;  // at most kMaxRunControlTextBytes + a sentence of the ledger's own
  bool operator==(const RunStop&) const = default;
};

// What became of a run's escrow (issue 13). Stored in the state; never renumber.
enum class EscrowState : std::uint8_t {
  open = 1,              // funds may come in (until the run finishes) and wait for the release
  released = 2,          // the sponsor released it: partners paid, the model may be granted
  paid_at_deadline = 3,  // the release deadline passed: partners paid, no model for the sponsor
  refunded = 4,          // the run ended unfunded: everything went back to the sponsor
};
std::string_view to_string(EscrowState state);

struct Escrow {
  std::uint64_t funded = 0;  // credits the sponsor put in, plus the submission costs (§19.9)
  EscrowState state = EscrowState::open;
  std::uint64_t settled_height = 0;  // when it left `open`
  // Member -> credits paid out when it settled (partners by their tokens, the
  // sponsor the remainder or the refund); non-zero amounts only.
  std::map<std::string, std::uint64_t> payouts;
  // Granter member -> its kWrappedKeyBytes sealed box of the final model's
  // data key for the sponsor (KeyGrant, after a release); a later grant from
  // the same member replaces its earlier one.
  std::map<std::string, std::string> key_grants;
  bool operator==(const Escrow&) const = default;
};

struct Run {
  TrainingPlan plan;
  std::string started_by;  // member name, or "genesis"
  std::uint64_t start_height = 0;
  RunStatus status = RunStatus::active;
  std::uint64_t end_height = 0;
  std::vector<Turn> turns;          // every turn begun so far; the last is current while active
  std::optional<Hash> head;         // current head model id; empty before the first approved save
  std::vector<ModelRecord> models;  // approved models in order (the lineage)
  std::map<std::string, std::int64_t>
      contributivity_ppm;        // partner -> sum of its settled gains; every partner listed
  RefusalLog refusals;           // refused transactions naming this run (not StartRuns)
  std::optional<Escrow> escrow;  // present exactly when plan.sponsor is not empty
  // Differential privacy (issue 14, §20.2): partner -> what its last accepted
  // SaveRequest of this run carried; a partner that has shared no model is
  // absent (it has spent nothing). Empty when the plan has no DP.
  std::map<std::string, PrivacySpend> privacy_spent;
  // Run control (§22), only when plan.readiness_deadline_blocks > 0: the
  // height at which the readiness phase began (0 until it began) and each
  // partner's answer.
  std::uint64_t ready_since = 0;
  std::map<std::string, ReadinessRecord> readiness;
  // Set exactly when status is cancelled or not_ready.
  std::optional<RunStop> stop;

  // The current turn while active, else nullptr.
  const Turn* current_turn() const;
  Turn* current_turn();
  const ModelRecord* find_model(const Hash& id) const;
  bool operator==(const Run&) const = default;
};

struct TrainingState {
  std::map<std::string, Run> runs;  // every run ever started, by run id
  std::optional<std::string> active_run;
  RefusalLog refusals;  // refused StartRuns, and refusals naming no run that exists
  Accounts accounts;    // credit balances (issue 13)
  // Schema id -> its members' DataSummaries (issue 17, §23).
  std::map<std::string, ConsortiumSchema> schemas;

  // No run, no refusal, no balance and no summary ever: the state hash keeps its v1 form.
  bool empty() const {
    return runs.empty() && refusals.total == 0 && accounts.empty() && schemas.empty();
  }
  const Run* active() const;
  Run* active();
  const Run* find_run(std::string_view run_id) const;
  bool operator==(const TrainingState&) const = default;
};

// Canonical bytes of the training state (appended to the ledger state
// encoding under "baton/state/v2", or "baton/state/v3" when the accounts are
// not empty: then append_accounts_encoding's bytes follow the refusal log;
// docs/PROTOCOL.md lays out every byte).
Bytes training_encoding(const TrainingState& state);

// ---- Queries (what a partner agent and `baton run status` ask) ----

// A request that is waiting for votes.
struct OpenRequest {
  enum class Kind : std::uint8_t { load = 1, save = 2 } kind;
  std::string run_id;
  std::uint64_t turn = 0;
  std::string requester;
  Hash request_id;
  std::uint64_t deadline_height = 0;
};

// Whose turn is it: the active run's current turn, or nullopt if no run is active.
struct TurnView {
  std::string run_id;
  std::uint64_t turn = 0;
  std::uint64_t cycle = 0;
  std::string partner;
  TurnPhase phase;
  std::uint64_t deadline_height = 0;
  std::optional<Hash> head;
};
std::optional<TurnView> whose_turn(const TrainingState& state);

// The current head of `run_id` (nullopt: no approved model yet, or no such run).
std::optional<Hash> head_model(const TrainingState& state, std::string_view run_id);

// Requests of the active run waiting for votes (at most one: turns are sequential).
std::vector<OpenRequest> open_requests(const TrainingState& state);

// The SaveRequest content of the turn whose save request id is `model_id`
// (a candidate still being voted on, or an approved model of the lineage),
// or nullptr. A partner agent reads the head's object key, hashes, key
// commitment and its own wrapped key here.
const SaveRecord* find_save(const Run& run, const Hash& model_id);

// The refusal of the transaction with hash `tx_hash`, if it is among the
// kept refusals of any log; nullptr otherwise. A partner agent asks this to
// learn why a transaction it sent took no effect.
const Refusal* find_refusal(const TrainingState& state, const Hash& tx_hash);

// Has `partner` been rejected run.plan.suspend_after times in a row (turns
// rejected by the vote since its last approved one; expired, abandoned and
// suspended turns neither count nor reset)? Always false when suspend_after
// is 0. Once true it stays true: its later turns are suspended, never approved.
bool partner_suspended(const Run& run, std::string_view partner);

// ---- Deposits (docs/PROTOCOL.md §19.9) ----

// Every credit amount of a plan (submission_cost, deposit, min_balance) and
// every required deposit is at most this (10^15): far above what a
// consortium stakes, and cost + deposit + a balance stay far from 2^64.
inline constexpr std::uint64_t kMaxPlanCredits = 1'000'000'000'000'000;
// The deposit grows at most this many times per rejected candidate (SUM
// doubles it for an agent judged malicious).
inline constexpr std::uint32_t kMaxDepositFactor = 16;

// The deposit `partner` must lock at its next LoadRequest:
// min(plan.deposit x plan.deposit_factor^k, kMaxPlanCredits) where k is the
// number of its turns whose candidate (a SaveRequest) was rejected since its
// last approved turn (other outcomes neither count nor reset). 0 without
// deposits. Saturating: never overflows, whatever k.
std::uint64_t required_deposit(const Run& run, std::string_view partner);

// Can `partner`, holding `balance`, take part in a turn: balance >=
// plan.min_balance and balance >= submission_cost + required_deposit?
// nullopt when it can, else why not (below_min_balance, cannot_afford_stake).
std::optional<ProtocolRejected> partner_cannot_pay(const Run& run, std::string_view partner,
                                                   std::uint64_t balance);

// The credits all turns of `run` hold locked now (Stake::locked summed).
std::uint64_t locked_stakes(const Run& run);

// ---- Gains (docs/PROTOCOL.md §18.2, "Gains") ----

// A vote's gain counts at most this much either way: an AUC moves by at most
// 0.5 from chance (0.5) to perfect (1.0), so a larger claim is an outlier.
inline constexpr std::int64_t kMaxVoteGainPpm = 500'000;
// A ModelVote's losses are at most 100 (x 1e6; a larger one is malformed):
// a classifier's mean BCE with probabilities kept in [1e-7, 1 - 1e-7] is at
// most 16.2.
inline constexpr std::uint64_t kMaxLossMicro = 100'000'000;
// delta_loss: a vote's loss decrease counts at most 1.0 either way (a chance
// predictor's loss on balanced classes is ln 2 = 0.69).
inline constexpr std::int64_t kMaxVoteLossGainMicro = 1'000'000;

// A turn's gain from `votes`: the gains of the votes that measured the
// candidate (validation_size > 0) -- delta_auc: candidate - head AUC (ppm),
// each clamped to [-kMaxVoteGainPpm, kMaxVoteGainPpm]; delta_loss: head -
// candidate loss (millionths), clamped to [-kMaxVoteLossGainMicro,
// kMaxVoteLossGainMicro] -- sorted; the median interval is the
// middle value (odd count) or the two middle values [lo, hi] (even count);
// the gain is the point of that interval nearest to zero (0 when lo <= 0 <=
// hi). 0 when no vote measured the candidate. So one vote among honest ones
// cannot move the gain outside [min(0, lowest honest), max(0, highest
// honest)], and with an even count it can only pull the gain towards zero.
std::int64_t settled_gain_ppm(const std::map<std::string, ModelVoteRecord>& votes,
                              TokenMode mode = TokenMode::delta_auc);

// The last block at which a ModelVote on turn `t`'s SaveRequest is accepted
// (save_request_height + vote_deadline_blocks, saturating). At the end of
// that block an approved turn's gain is settled.
std::uint64_t vote_deadline(const Run& run, const Turn& t);

// Every turn of `run` has its final gain: the run is finished and every
// approved turn's vote deadline has passed. Tokens (contributivity_ppm) may
// be paid out only then; before it, late votes still move them.
bool gains_settled(const Run& run);

// ---- The block clock (issue 18) ----

// Does anything in the state wait for a block height to pass? A run in
// progress (its phase deadlines), a finished run whose last gains settle at a
// vote deadline, or an escrow waiting for its release deadline. While true the
// nodes make an empty block every `empty_block_interval_ms` so that deadlines
// counted in blocks keep their meaning in time; while false nothing the ledger
// decides depends on time, and an idle network makes only a rare heartbeat
// (`idle_block_interval_ms`; docs/OPERATIONS.md "Consensus timing and empty
// blocks"). Liveness only: nodes may disagree for a block without harm.
bool needs_block_clock(const TrainingState& state);

}  // namespace baton::chain

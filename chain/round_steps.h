// The transitions of a federated round (issue 15, docs/PROTOCOL.md §21): the
// checks and effects of RoundShare, RoundUpload and RoundUnmask, in the form
// protocol_steps.cpp dispatches on (one overload per payload message), and
// the federated branches of the chained transactions (SaveRequest, ModelVote,
// LoadRequest/LoadApproval, TurnAbandon), of a turn's beginning and of its
// deadlines. Internal to chain/; chain/protocol.h is the public face.
//
// A round is one Turn of a federated run (index = round) holding a
// RoundRecord: round_sharing -> round_uploading -> round_unmasking ->
// round_aggregating -> save_voting -> done. need = max(min_partners, t).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "chain/chain_spec.h"
#include "chain/proto/ledger.pb.h"
#include "chain/protocol_steps.h"
#include "chain/secagg_shares.h"
#include "chain/training.h"
#include "chain/verdict.h"

namespace baton::chain {

// The uploads a round needs to move on: max(min_partners, secagg_threshold).
std::uint32_t round_need(const TrainingPlan& plan);

// A partner's rank (its index in plan.partners), or nullopt for a non-partner.
std::optional<std::uint32_t> partner_rank(const TrainingPlan& plan, std::string_view name);

// The binding of round `round` of `run_id` on the chain `chain_id`. The views
// point into the arguments: they must outlive the binding.
RoundBinding round_binding(const ChainSpec& spec, const Run& run, std::uint64_t round);

// ---- RoundShare ----
// Refused, in this order: run_not_active / wrong_run / wrong_phase (the run
// awaits its funding), not_federated (a chained run), out_of_turn (the sender
// is not a partner of the plan), wrong_round (round is not the current turn
// index), wrong_phase (not round_sharing), already_shared, malformed_request
// (keys and commitments not 32 bytes, not exactly n boxes of kShareBoxBytes,
// not n + n commitments).
Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::RoundShare& s);
// Adds the sender to U1; when every partner has shared, uploading begins.
void apply_round_share(const ChainSpec& spec, TrainingState& ts, const ProtocolSender& sender,
                       const pb::RoundShare& s, std::uint64_t height);

// ---- RoundUpload ----
// Refused, in this order: the run checks of RoundShare (run_not_active,
// wrong_run, wrong_phase, not_federated), wrong_round, wrong_phase (not
// round_uploading), not_a_sharer (the sender is not in U1), already_uploaded,
// malformed_request (head not empty or 32 bytes, object key empty or over
// kMaxRoundObjectKeyBytes, masked_sha256 not 32 bytes, weight outside
// [1, kMaxRoundWeight]), wrong_head (not the round's head_before).
Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::RoundUpload& u);
// Adds the sender to U2; when every partner of U1 has uploaded, unmasking begins.
void apply_round_upload(TrainingState& ts, const ProtocolSender& sender, const pb::RoundUpload& u,
                        std::uint64_t height);

// A RoundUpload's object key is at most this many bytes.
inline constexpr std::size_t kMaxRoundObjectKeyBytes = 1024;

// ---- RoundUnmask ----
// Refused, in this order: the run checks, wrong_round, wrong_phase (not
// round_unmasking), not_a_sharer, already_unmasked, malformed_request (not
// exactly n entries, or an entry neither empty nor 32 bytes), wrong_share (an
// empty entry for a dealer in U1, a share for a dealer not in U1, or a share
// whose share_commitment is not the one its dealer committed to for the
// sender: of the self-mask seed for a dealer in U2, of the ephemeral key for
// one in U1 \ U2).
Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::RoundUnmask& u);
// Records the shares; the t-th RoundUnmask reconstructs every dealer's secret
// (§21.2): all match their commitments -> round_aggregating; else the round
// ends round_failed naming the first failing dealer by rank, and the next
// round begins at `height`.
void apply_round_unmask(const ChainSpec& spec, TrainingState& ts, const ProtocolSender& sender,
                        const pb::RoundUnmask& u, std::uint64_t height);

// ---- The federated branches of the chained transactions ----

// SaveRequest in a federated run (the run checks passed): wrong_round,
// out_of_turn (not a partner), wrong_phase (not round_aggregating), then
// save_record_from_proto's checks, wrong_head (parent is not head_before),
// malformed_request (train_samples is not the round's total weight), the
// privacy fields (a federated plan has no DP: all zero), duplicate_model.
Verdict<CheckedTx, ProtocolRejected> check_round_save(const ChainSpec& spec, const Run& run,
                                                      const ProtocolSender& sender,
                                                      const pb::SaveRequest& r);
// The sender becomes the round's aggregator (Turn::partner); voting begins.
void apply_round_save(Run& run, const ProtocolSender& sender, SaveRecord save, const Hash& tx_id,
                      std::uint64_t height);

// TurnAbandon in a federated run (the run checks passed): out_of_turn (not a
// partner), wrong_round, malformed_request (as chained), wrong_head. A
// complaint: recorded in the round (a later one of the same partner replaces
// it), it ends nothing.
Verdict<CheckedTx, ProtocolRejected> check_round_abandon(const Run& run,
                                                         const ProtocolSender& sender,
                                                         const pb::TurnAbandon& a);
void apply_round_abandon(Run& run, const ProtocolSender& sender, const pb::TurnAbandon& a);

// Begins round `index` of a federated run at `height`: phase round_sharing
// (deadline load_deadline_blocks), partner "", an empty RoundRecord, the head
// as head_before.
void begin_round(Run& run, std::uint64_t index, std::uint64_t height);

// The current round's phase deadline passed (deadline_height <= height):
// sharing or uploading with at least round_need partners moves on (true);
// otherwise false, and the caller ends the round expired.
bool round_moves_on_at_deadline(Run& run, std::uint64_t height);

// The settled gain of an approved round split among its contributors:
// gain / |contributors| each (rounded towards zero; the remainder goes to
// nobody). Pre: contributors is not empty.
void credit_round_gain(Run& run, const ModelRecord& m);

}  // namespace baton::chain

// The partner agent's decision core (issue 12): given the committed training
// state, who this agent is and what it remembers of the active run's current
// turn, what it does next, as a value. A pure function: no I/O, no clock but
// the block height, no LibTorch, no threads. PartnerAgent (agent/agent.h) asks
// it on every view of the ledger, carries the answer out (fetch, open, train,
// seal, upload, journal, submit) and records what happened (the journal,
// failures); when it recorded a failure it asks again at once, and gives the
// turn up in the same view if that is the answer.
//
//   current turn                       this agent                  next step
//   ---------------------------------  --------------------------  -----------------------------
//   no active run, or the run's        anyone                      Wait{no_active_run}
//     status finished
//   height >= the phase's deadline     anyone                      Wait{deadline_passed}
//   any phase, a TurnAbandon decided   the partner                 Abandon (the same, again)
//   awaiting_load_request              the partner                 RequestLoad; Abandon when the
//                                                                  plan or its local data are
//                                                                  unusable; Wait{cannot_pay}
//                                                                  when its balance cannot pay
//                                                                  the plan's stake (§19.9)
//   training                           the partner, candidate      SubmitSave (the journal's
//                                        journaled                   bytes)
//   training                           the partner                 Train; Abandon when the plan or
//                                                                  its data are unusable, or after
//                                                                  a failure past its retries
//   load_voting, save_voting           the partner                 Wait{votes_pending}
//   load_voting                        a voter that has not voted  VoteOnLoad (journaled: resend)
//   save_voting                        a voter that has not voted  VoteOnSave (journaled: resend;
//                                                                  else Wait when it cannot
//                                                                  measure: plan or data)
//   load_voting, save_voting           a voter on the ledger       Wait{already_voted}
//   training                           a voter, head unmeasured    MeasureHead
//   any                                a non-voter, not in turn    Wait{not_a_voter}
//
// "Journaled" is the agent's journal (agent/agent_journal.h), which survives a
// restart, so a restarted agent resends the bytes it recorded and never builds
// a second candidate or vote. A request sent and not yet on the ledger is sent
// again by the acting side's resend rule (every resubmit_after_blocks blocks);
// the core answers the same step until the ledger shows it.
//
// `height` is the newest committed height the agent knows of, which may be
// past the state's (a step on an older view while the node went on). The
// ledger expires a turn at the end of its deadline block, so when height has
// reached the deadline nothing sent now could be in time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "agent/handoff_errc.h"
#include "chain/crypto.h"
#include "chain/training.h"

namespace baton::agent {

// Who this agent is: its member name in the genesis and whether it votes.
struct AgentIdentity {
  std::string member_name;
  bool voter = false;  // genesis power > 0
};

// A failure of this agent's own part in its turn (loading the head, training,
// sealing or uploading the candidate), as the acting side recorded it.
struct TurnFailure {
  chain::LoadFailure reason = chain::LoadFailure::training_failed;  // what a TurnAbandon says
  std::string detail;  // "hash_mismatch: ...", "training failed: ..."
  // May pass by itself (the store was unreachable): tried again at the next
  // view until `attempts` reaches the agent's store_attempts.
  bool retryable = false;
  std::uint32_t attempts = 1;  // failures of this kind on this turn so far
  bool operator==(const TurnFailure&) const = default;
};

// The head did not load on this agent's turn (and no copy of its own helped).
TurnFailure head_load_failure(HandoffErrc code, std::string detail, std::uint32_t attempts);
// Sealing or uploading its candidate failed; always retried.
TurnFailure upload_failure(HandoffErrc code, std::string detail, std::uint32_t attempts);

// A given-up turn: the TurnAbandon's reason and detail (at most
// chain::kMaxAbandonDetailBytes; next_step() clips it).
struct Abandon {
  chain::LoadFailure reason = chain::LoadFailure::training_failed;
  std::string detail;
  bool operator==(const Abandon&) const = default;
};

// An Abandon whose detail is clipped to chain::kMaxAbandonDetailBytes
// (ending in "..." when it was longer).
Abandon clipped(chain::LoadFailure reason, std::string detail);

// What the agent remembers of the active run and its current turn: its
// journal and this process's memory. The acting side fills it from the same
// state it passes to next_step().
struct AgentMemory {
  // Why this build cannot use the run's plan (its model spec, optimizer), as
  // parsed when the run was first seen (agent/run_plan.h); nullopt: usable.
  std::optional<std::string> plan_unusable;
  // Why the local data do not load for the run, once tried; nullopt: loaded
  // or not tried yet.
  std::optional<std::string> data_unusable;
  bool candidate_journaled = false;    // the journal holds this turn's SaveRequest
  bool load_vote_journaled = false;    // ... this agent's LoadApproval on the turn's LoadRequest
  bool save_vote_journaled = false;    // ... this agent's ModelVote on the turn's SaveRequest
  bool head_measured = false;          // the head's measure on local validation data is kept
  std::optional<TurnFailure> failure;  // the last failure of this agent's part in the turn
  std::optional<Abandon> abandoned;    // the TurnAbandon this agent decided for the turn
  // Federated rounds (agent/round_step.h): what the journal holds for the
  // current round, and the complaint this agent sent in it.
  bool share_journaled = false;       // this agent's RoundShare
  bool upload_journaled = false;      // this agent's RoundUpload (the masked update is stored)
  bool unmask_journaled = false;      // this agent's RoundUnmask
  std::optional<Abandon> complained;  // the TurnAbandon (complaint) it sent in this round
};

enum class WaitReason : std::uint8_t {
  no_active_run,    // none started, or the last one finished
  deadline_passed,  // the phase's deadline block is committed: nothing sent now counts
  not_in_turn,      // another partner's turn in a phase that asks nothing of this agent
  votes_pending,    // this agent's request waits for the others' votes
  already_voted,    // the ledger holds this agent's vote on the open request
  not_a_voter,      // no voting power: nothing to do in another's turn
  head_measured,    // idle while the partner trains: the head's measure is kept
  plan_unusable,    // a voter that cannot use the plan abstains
  data_unusable,    // a voter whose local data do not load abstains
  cannot_pay,       // the partner's balance cannot pay the plan's stake: no LoadRequest
  // Federated rounds (agent/round_step.h).
  round_waiting,     // this agent's part in the round's phase is on the ledger
  not_a_partner,     // not a partner of the federated run, and no vote open
  not_a_sharer,      // it did not share in this round (U1), so it neither uploads nor unmasks
  aggregator_first,  // the designated aggregator has the first half of the phase
};
std::string_view to_string(WaitReason why);

struct Wait {
  WaitReason why = WaitReason::no_active_run;
  bool operator==(const Wait&) const = default;
};
// A LoadRequest naming the current head.
struct RequestLoad {
  bool operator==(const RequestLoad&) const = default;
};
// Approve the turn's LoadRequest (the ledger checks the schedule and the
// head). journaled: resend the journal's bytes.
struct VoteOnLoad {
  chain::Hash request_id;
  bool journaled = false;
  bool operator==(const VoteOnLoad&) const = default;
};
// Load the head, train it on the local training file, seal, upload, journal
// the candidate and submit its SaveRequest.
struct Train {
  bool operator==(const Train&) const = default;
};
// Submit the journal's SaveRequest for this turn, byte for byte.
struct SubmitSave {
  bool operator==(const SubmitSave&) const = default;
};
// Measure the candidate (and the head) on the local validation file, decide
// by the plan's policy (agent/save_vote.h), journal and submit the ModelVote.
// journaled: resend the journal's bytes.
struct VoteOnSave {
  chain::Hash request_id;
  bool journaled = false;
  bool operator==(const VoteOnSave&) const = default;
};
// While the partner trains: load the local data and measure the head now,
// so that the vote on the candidate only measures the candidate.
struct MeasureHead {
  bool operator==(const MeasureHead&) const = default;
};

// ---- Federated rounds (agent/round_step.h, docs/PROTOCOL.md §21) ----
// Derive this round's secrets, deal the shares and send the RoundShare
// (journaled: resend the journal's bytes).
struct ShareRound {
  bool journaled = false;
  bool operator==(const ShareRound&) const = default;
};
// Load the round's head, train the plan's epochs on the local data, encode and
// mask the update, store it and send the RoundUpload (journaled: resend).
struct TrainRound {
  bool journaled = false;
  bool operator==(const TrainRound&) const = default;
};
// Open the boxes dealt to this agent and reveal one share per dealer of U1
// (journaled: resend).
struct RevealShares {
  bool journaled = false;
  bool operator==(const RevealShares&) const = default;
};
// Fetch U2's masked uploads, unmask their sum with the ledger's secrets, build,
// seal and store the aggregate and send it as the round's SaveRequest
// (journaled: resend, as SubmitSave).
struct AggregateRound {
  bool journaled = false;
  bool operator==(const AggregateRound&) const = default;
};
// Say on the ledger why this agent cannot do its part in the round (a
// TurnAbandon, recorded as a complaint; it ends nothing).
struct Complain {
  Abandon what;
  bool operator==(const Complain&) const = default;
};

using NextStep =
    std::variant<Wait, RequestLoad, VoteOnLoad, Train, SubmitSave, VoteOnSave, MeasureHead, Abandon,
                 ShareRound, TrainRound, RevealShares, AggregateRound, Complain>;

// "wait (deadline_passed)", "vote on save (journaled)", "abandon (head_missing: ...)".
std::string describe(const NextStep& step);

// What this agent does next (the table above). `store_attempts`: failures of
// a retryable kind before the partner gives its turn up (>= 1).
NextStep next_step(std::uint64_t height, const chain::TrainingState& state,
                   const AgentIdentity& self, const AgentMemory& memory,
                   std::uint32_t store_attempts);

}  // namespace baton::agent

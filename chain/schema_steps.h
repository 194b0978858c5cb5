// The consortium schema's transitions (issue 17, docs/PROTOCOL.md §23): the
// check and effect of a DataSummary, and what a StartRun naming a schema id
// must satisfy, in the form protocol_steps.cpp dispatches on. Internal to
// chain/; chain/protocol.h is the public face.
#pragma once

#include <optional>
#include <string>

#include "chain/chain_spec.h"
#include "chain/proto/ledger.pb.h"
#include "chain/protocol_steps.h"
#include "chain/training.h"
#include "chain/verdict.h"

namespace baton::chain {

// Refused, in this order: not_a_data_holder (the sender lacks role
// "partner"), malformed_summary (an invalid schema id, or summary_from_proto
// fails), schema_frozen (a run naming the id has started),
// summary_layout_mismatch (another member's summary for the id has another
// layout), too_many_summaries (a new id for a member that holds
// kMaxSummariesPerMember). The check computes the record (CheckedTx).
Verdict<CheckedTx, ProtocolRejected> check_data_summary(const ChainSpec& spec,
                                                        const TrainingState& ts,
                                                        const ProtocolSender& sender,
                                                        const pb::DataSummary& m);
// Records (or replaces) the sender's summary for the id at `height`.
void apply_data_summary(TrainingState& ts, const ProtocolSender& sender, const pb::DataSummary& m,
                        DataSummaryRecord record, std::uint64_t height);

// A plan naming a schema id may start only when the id's summaries derive a
// schema whose columns are the plan's feature columns (as a set) and whose
// positive value is the plan's: else unknown_schema. nullopt for a plan
// without a schema id.
std::optional<ProtocolRejected> check_plan_schema(const TrainingState& ts,
                                                  const TrainingPlan& plan);

// The 32 raw bytes of the SHA-256 of the schema `schema_id` derives from the
// summaries in `ts` (derive_consortium_schema's bytes, §23.3), as a RunReady's
// schema_sha256 must carry them; empty when the id derives no schema (then no
// ready answer is accepted: the run started with a schema that derives, and
// its summaries are frozen, so this does not happen on a valid chain).
std::string consortium_schema_sha256(const TrainingState& ts, const std::string& schema_id);

// Freezes the plan's schema id (start_run calls it): later summaries are refused.
void freeze_plan_schema(TrainingState& ts, const TrainingPlan& plan);

}  // namespace baton::chain

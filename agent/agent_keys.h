// How a sealed model travels in a SaveRequest and comes back out of the
// ledger's SaveRecord (docs/PROTOCOL.md §18): the recipients' names in
// ascending order, each with its 80-byte sealed box of the data key, and the
// key commitment. From these a voter rebuilds its own storage::Envelope entry
// and calls fetch_and_open().
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chain/crypto.h"
#include "chain/result.h"
#include "chain/genesis.h"
#include "chain/training.h"
#include "agent/agent_journal.h"
#include "agent/model_handoff.h"
#include "storage/envelope.h"

namespace baton::agent {

// Who a candidate is sealed for: every genesis member but a sponsor (it gets
// the final model's key only after its release, agent/key_grant.h, never a
// candidate's), in name order.
std::vector<chain::MemberPublicKeys> candidate_recipients(
    const std::vector<chain::GenesisMember>& members);

// What the journal keeps of a sealed candidate and its SaveRequest `payload`.
JournalCandidate journal_candidate(const std::string& run_id, std::uint64_t turn,
                                   const SealedModel& sealed, std::uint64_t train_samples,
                                   std::string metrics_json, std::string payload);

// The ledger record of a sealed candidate (every recipient of its envelope).
chain::SaveRecord save_record_for(const SealedModel& sealed,
                                  const std::optional<chain::Hash>& parent,
                                  std::uint64_t train_samples, std::string metrics_json);

// The envelope entry of member `name` (whose X25519 public key is `mine`)
// rebuilt from the ledger's record, with the blob hash the ledger names.
// Code HandoffErrc::not_recipient when the record holds no key for `name`,
// cannot_unwrap when the entry is not a sealed box.
Result<storage::Envelope> envelope_for_member(const chain::SaveRecord& save,
                                              const std::string& name,
                                              const chain::X25519PublicKey& mine);

}  // namespace baton::agent

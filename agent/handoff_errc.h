// Why a model hand-off step failed (agent/model_handoff.h carries it in
// Error::code). Its own header so that the agent's decision core
// (agent/next_step.h) maps a failure to a TurnAbandon reason without the
// hand-off's dependencies.
#pragma once

#include <string_view>

namespace baton::agent {

// Why a hand-off step failed; carried in Error::code.
enum class HandoffErrc : int {
  invalid_argument = 1,       // a bad run or model id, no recipients, no work dir
  io = 2,                     // a local temporary file could not be written or read
  store_failed = 3,           // the object store refused or was unreachable (put or get)
  missing_blob = 4,           // no object under the ledger's key
  hash_mismatch = 5,          // the blob's SHA-256 is not the ledger's: tampered or swapped
  not_recipient = 6,          // the envelope holds no key for this member
  cannot_unwrap = 7,          // the envelope entry does not open or fails its commitment
  authentication_failed = 8,  // a chunk failed AES-GCM authentication (other AD, altered)
  model_hash_mismatch = 9,    // the plaintext is not the model the ledger names
  bad_model = 10,             // the plaintext is not a model this build can load
  evaluation_failed = 11,     // predictions or AUC undefined on this validation data
  wrong_size = 12,            // the stored blob's size is not the one the plan's model seals to
  over_budget = 13,           // scoring the validation set took longer than its budget
};

// Short stable name ("hash_mismatch", ...) for votes and logs.
std::string_view handoff_errc_name(HandoffErrc code);

}  // namespace baton::agent

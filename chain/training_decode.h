// The inverse of training_encoding (chain/training.h): the training state
// from its canonical bytes. A partner agent that runs in its own process
// (agent/, `baton-agent`) receives its node's committed training state in
// this form (GET /agent/state, docs/PROTOCOL.md §18.6) and decodes it here.
//
// The bytes come from the agent's own node over an authenticated connection,
// but they are still parsed defensively: every length is checked against the
// bytes left before anything is allocated, every enum against its range, and
// the embedded plan is decoded and validated against the genesis exactly as
// the ledger does (plan_from_proto). The result re-encodes to the same bytes.
#pragma once

#include "chain/crypto.h"
#include "chain/genesis.h"
#include "chain/result.h"
#include "chain/training.h"

namespace baton::chain {

// The state whose training_encoding is `bytes`; an error (one sentence) when
// the bytes are truncated, carry trailing bytes, an out-of-range enum, a plan
// that does not decode or validate against `genesis`, or are not canonical
// (maps out of order, a count that disagrees with its entries).
Result<TrainingState> decode_training_state(ByteView bytes, const Genesis& genesis);

}  // namespace baton::chain

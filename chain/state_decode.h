// The inverse of state_encoding (chain/ledger_state.h): a LedgerState from its
// canonical bytes. A node restarts from a state snapshot (docs/PROTOCOL.md
// §24) by decoding one here, and a node that later takes a snapshot from a
// peer (state sync) will decode untrusted bytes here too, so the bytes are
// parsed defensively: every count is checked against the bytes left before
// anything is allocated, every enum against its range, the training part is
// decoded and validated against the genesis by decode_training_state, and the
// result must re-encode to exactly the same bytes.
//
// Decoding proves only that the bytes are A state; that they are THE state
// after some block is proved by comparing state_hash(chain_id, state) with
// that block's signed app_state_hash (the caller's job: storage/
// state_snapshot.h).
#pragma once

#include "chain/crypto.h"
#include "chain/genesis.h"
#include "chain/ledger_state.h"
#include "chain/result.h"

namespace baton::chain {

// The state whose state_encoding is `bytes`, with height 0 and an all-zero
// last_block_id (they are not part of the encoding: the caller sets them).
// An error (one sentence) when the bytes are truncated, carry trailing bytes,
// a nonce or evidence record out of order or out of range, a training part
// that does not decode against `genesis`, or are not canonical.
Result<LedgerState> decode_state(ByteView bytes, const Genesis& genesis);

}  // namespace baton::chain

// Verifying a whole stored chain from genesis: every block's bytes, hashes,
// Merkle roots, transaction and commit signatures, nonces and state hashes,
// then the store's own records against what the chain says: the tip, the
// nonces, and the secondary indexes (each block's id and each transaction's
// hash must lead back to where it is; a LedgerStore's indexes must hold no
// other entries).
//
// The signature work (chain::check_block_stateless) and the index look-ups
// run on `threads` threads ahead of chain::apply_block, which runs in height
// order on the calling thread meanwhile (storage/checked_blocks.h): at most
// `window_blocks` heights are read ahead. The first bad height is reported,
// exactly as a single-threaded pass would report it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "chain/chain_spec.h"
#include "chain/ledger_state.h"
#include "chain/result.h"
#include "chain/verdict.h"
#include "storage/block_store.h"
#include "storage/ledger_store.h"

namespace baton::storage {

struct VerifyOptions {
  unsigned threads = 2;             // 0 is treated as 1
  std::size_t window_blocks = 256;  // heights read and checked ahead of the state, at most
  // Called on the calling thread every window_blocks heights and at the tip,
  // with the height reached.
  std::function<void(std::uint64_t height)> progress = {};
};

struct VerifiedLedger {
  chain::LedgerState state;        // after the tip
  std::uint64_t transactions = 0;  // over all blocks
  std::uint64_t signatures = 0;    // Ed25519 checks done (transactions + commit signatures)
  std::uint64_t snapshots = 0;     // state snapshots checked (docs/PROTOCOL.md §24)
};

// What is wrong, and where. height 0 means the genesis or the store's own
// records rather than a block.
struct LedgerFault {
  std::uint64_t height = 0;
  std::string what;  // a sentence, without the "height N: " prefix
};

using LedgerVerdict = chain::Verdict<VerifiedLedger, LedgerFault>;

// Verifies blocks 1..store.tip().height. An error means the store could not be
// read (I/O); a fault means it was read and something in it is wrong. Every
// stored state snapshot is checked too: it must be at or below the tip, pass
// storage::restore_snapshot (what a restarting node checks) and hold exactly
// the record of the state this verification reached at its height; a bad one
// is a fault at its height. Index
// entries are checked through height_of and find_tx: a block whose id (or a
// transaction whose hash) the index does not map back to its place is a fault
// at that block's height.
Result<LedgerVerdict> verify_ledger(const BlockStore& store, const chain::ChainSpec& spec,
                                    const VerifyOptions& options = {});

// The same result, the indexes checked by a salted digest (IndexDigest in
// storage/block_store.h) against one scan of each, entries looked up only to
// name a fault; and then the index sizes: the block id index must hold
// exactly one entry per block and the transaction index one per transaction
// (an extra entry is a fault at the tip's height).
Result<LedgerVerdict> verify_ledger(const LedgerStore& store, const chain::ChainSpec& spec,
                                    const VerifyOptions& options = {});

// The ChainSpec from the genesis document stored in the ledger, after
// checking that its SHA-256 is the genesis hash the ledger records. A fault
// (height 0) when the stored document is missing, altered or invalid.
chain::Verdict<chain::ChainSpec, LedgerFault> stored_chain_spec(const LedgerStore& store);

}  // namespace baton::storage

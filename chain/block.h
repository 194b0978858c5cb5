// Blocks: ids, headers, assembly and the stored encoding. docs/PROTOCOL.md,
// "Blocks".
//
// The block id is SHA-256 of the exact serialized header (Block.header); the
// header commits to the transactions and evidence through their RFC 6962
// Merkle roots over the exact stored bytes of each entry.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chain/crypto.h"
#include "chain/proto/ledger.pb.h"
#include "chain/result.h"

namespace baton::chain {

// SHA-256 of block.header (the stored bytes, not a re-encoding).
Hash block_id(const pb::Block& block);

// Parses a serialized header. Refuses bytes that are not the canonical
// encoding, and hash fields (previous, roots, app state) not 32 bytes, and a
// proposer not 32 bytes.
Result<pb::BlockHeader> decode_header(std::string_view header_bytes);

// The fields a proposer chooses; the Merkle roots are computed from the
// entries.
struct HeaderFields {
  std::string chain_id;
  std::uint64_t height = 0;
  std::int64_t time_unix_ms = 0;
  Hash previous_block_hash;
  Hash app_state_hash;
  PublicKey proposer;
};

// Assembles a block: computes tx_merkle_root and evidence_merkle_root over the
// given serialized entries, serializes the header canonically.
pb::Block assemble_block(const HeaderFields& fields, std::vector<std::string> transactions,
                         std::vector<std::string> evidence);

// The stored form of a committed block (canonical protobuf encoding).
std::string encode_committed_block(const pb::CommittedBlock& block);

// Parses stored bytes. Malformed input (truncated, garbage) is an error with a
// sentence, never a crash; so is any encoding but the canonical one
// (docs/PROTOCOL.md §1), nested Block, Commit and CommitSig included, so a
// committed block has one byte string. Field-level checks are
// check_block_stateless's.
Result<pb::CommittedBlock> decode_committed_block(std::string_view stored_bytes);

// A proposed block's bytes (a Proposal's `block`), canonical only, as above.
Result<pb::Block> decode_block(std::string_view block_bytes);

}  // namespace baton::chain

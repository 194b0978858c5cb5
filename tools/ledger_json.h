// How `baton ledger` presents stored blocks: JSON for scripts and export, and
// the human-readable forms built from the same JSON. Decoding never trusts the
// bytes: a block that does not decode becomes {"height", "error", ...}.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "tools/ledger_names.h"

namespace baton::tools {

// height, block_id, time, transactions (count), proposer (member name, or key
// hex when `names` is null or does not know it), commit_signatures (count).
nlohmann::json block_summary_json(const std::string& stored_bytes, std::uint64_t height,
                                  const KeyNames* names);

// Every decoded field: header (hashes in hex, time in RFC 3339 and ms),
// transactions (hash, sender, nonce, type, payload; TX_NOTE text; a
// SaveRequest's privacy spend; a federated round's RoundShare, RoundUpload or
// RoundUnmask decoded under "round", docs/PROTOCOL.md §21.2), evidence,
// commit (round, block id, signers). With `with_stored_hex`, also the exact
// stored bytes of the CommittedBlock, of the header and of every transaction
// (what `baton ledger export` writes so that hashes and signatures can be
// rechecked with other tools).
nlohmann::json block_json(const std::string& stored_bytes, std::uint64_t height,
                          const KeyNames* names, bool with_stored_hex);

void print_block_human(const nlohmann::json& block);
void print_tx_human(const nlohmann::json& tx);

}  // namespace baton::tools

// A committed block and a transaction as JSON, as GET /block/H and GET
// /tx/HASH serve them (node/admin_api.h) and the web console shows them
// (node/console.h). Pure: decodes the stored bytes, no I/O.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace baton::node {

// {"hash", "size", and when it decodes: "sender" (hex), "nonce", "type"
// (TX_...), "note" (a TX_NOTE's text)}.
nlohmann::json tx_json(const std::string& stored);
// {"block_id", "height", "chain_id", "time_unix_ms", "previous_block_hash",
// "tx_merkle_root", "app_state_hash", "proposer", "transactions":
// [tx_json...], "evidence_count", "commit": {"round", "signers": [hex]},
// "stored_hex"}; {"error"} when the bytes do not decode.
nlohmann::json block_json(const std::string& stored);

}  // namespace baton::node

// The genesis file: the consortium's founding document. Every node starts from
// the same file; SHA-256 of its exact bytes (genesis_hash) is the network's
// identity, so `sha256sum genesis.json` prints it. docs/PROTOCOL.md,
// "Genesis file", is the schema.
//
// This header only parses and encodes text; reading the file is the caller's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/crypto.h"
#include "chain/result.h"
#include "chain/training.h"

namespace baton::chain {

// Roles a member can hold. A member with voting power > 0 must hold
// "validator", and a "validator" must have power > 0.
inline constexpr std::string_view kRoleAdmin =
    "admin";  // may start runs, change the plan (issue 6)
inline constexpr std::string_view kRoleValidator = "validator";  // signs consensus votes
inline constexpr std::string_view kRolePartner = "partner";      // trains on its own data
// Funds runs and receives their final model (issue 13): power 0, and neither
// "validator" nor "partner" (it has keys but no data and never votes).
inline constexpr std::string_view kRoleSponsor = "sponsor";

struct GenesisMember {
  std::string name;                // validate_member_name() rules (chain/keys.h)
  PublicKey ed25519;               // signs transactions and votes
  X25519PublicKey x25519;          // receives wrapped data keys
  std::string p2p_address;         // "host:port"
  std::uint64_t power = 1;         // consensus voting power; 0 = not a validator
  std::vector<std::string> roles;  // subset of the kRole* names, no duplicates
  // Credits allocated at genesis (chain/accounts.h), credited at block 1. The
  // file's optional "balance" field; absent = 0, and written only when > 0.
  std::uint64_t balance = 0;

  bool has_role(std::string_view role) const;
};

// Tendermint timeouts (ms) and block limits. Defaults suit a hospital LAN.
// Round r waits timeout_X + r * timeout_X_delta for step X.
struct ConsensusParams {
  std::uint64_t timeout_propose_ms = 3000;
  std::uint64_t timeout_propose_delta_ms = 500;
  std::uint64_t timeout_prevote_ms = 1000;
  std::uint64_t timeout_prevote_delta_ms = 500;
  std::uint64_t timeout_precommit_ms = 1000;
  std::uint64_t timeout_precommit_delta_ms = 500;
  std::uint64_t timeout_commit_ms = 1000;  // pause after a commit: the block interval
  std::uint64_t max_block_txs = 10000;
  std::uint64_t max_block_bytes = 8u << 20;  // serialized Block, header and evidence included
  std::uint64_t max_tx_bytes = 64u << 10;    // one serialized Transaction
  std::uint64_t max_block_evidence = 100;

  bool operator==(const ConsensusParams&) const = default;
};

struct Genesis {
  std::string chain_id;                   // validate_chain_id() rules
  std::int64_t genesis_time_unix_ms = 0;  // written as RFC 3339 UTC, e.g. "2026-11-24T00:00:00Z"
  ConsensusParams consensus;
  std::vector<GenesisMember> members;  // order matters: it is the validator order
  // The run that starts at block 1: the file's "training_plan" ({} is none),
  // decoded once by parse_genesis (chain/training_plan.h) and checked by
  // validate_genesis; nothing downstream sees its JSON.
  std::optional<TrainingPlan> training_plan;
  nlohmann::json object_store = nlohmann::json::object();  // filled by issue 5

  // Linear scan; genesis member lists are small (a consortium, not a crowd).
  const GenesisMember* find_member(const PublicKey& key) const;
  const GenesisMember* find_member(std::string_view name) const;
  std::uint64_t total_power() const;
};

// Chain ids: 1..64 characters of [A-Za-z0-9._-], starting with a letter or digit.
Status validate_chain_id(std::string_view chain_id);

// P2P addresses: "host:port" with a non-empty host and a port 0..65535 (0: not
// assigned yet, as `baton keygen` writes by default).
Status validate_p2p_address(std::string_view address);

// Checks everything a genesis must satisfy, independent of how it was made:
// a valid chain id, at least one member, unique names, unique Ed25519 and
// X25519 keys, valid roles, power/role agreement, total power > 0 (and no
// overflow), genesis balances summing to at most UINT64_MAX, non-zero
// timeouts and limits, and a training plan that passes validate_plan
// (chain/training_plan.h). The error names the member/field.
Status validate_genesis(const Genesis& genesis);

// Parses and validates (validate_genesis) a genesis file. Unknown fields are
// refused so that typos do not silently fall back to defaults; consensus
// fields that are absent take the defaults above. Errors are sentences naming
// the field, e.g. "genesis: members[2] (\"carol\") has the same ed25519_public
// key as members[0] (\"alice\")" or "genesis is not valid JSON: ... at byte 17".
Result<Genesis> parse_genesis(std::string_view json_text);

// Pretty JSON (2-space indent, trailing newline) that parse_genesis accepts and
// that round-trips to an equal Genesis. Precondition: validate_genesis passes.
std::string encode_genesis(const Genesis& genesis);

// SHA-256 of the exact file bytes: what `sha256sum genesis.json` prints. It is
// the previous block hash of block 1 and the network's identity.
Hash genesis_hash(std::string_view exact_file_bytes);

// RFC 3339 UTC times with optional milliseconds ("2026-11-24T08:30:00Z",
// "2026-11-24T08:30:00.250Z", or with a "+HH:MM" offset) <-> unix ms.
Result<std::int64_t> parse_rfc3339_ms(std::string_view text);
std::string format_rfc3339_ms(std::int64_t unix_ms);

}  // namespace baton::chain

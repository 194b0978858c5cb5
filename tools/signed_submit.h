// Signing a transaction with a member's key file and submitting it to a
// node's admin API (POST /tx), for the CLI commands that act as a member
// (`baton account transfer`, `baton run fund|release`). The genesis file
// names the network the signature is bound to; the node must run that very
// genesis (its /status says so), or it would refuse the signature.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/chain_spec.h"
#include "chain/keys.h"
#include "chain/proto/ledger.pb.h"

namespace baton::tools {

struct MemberSigner {
  chain::ChainSpec spec;
  chain::MemberSecretKeys keys;
  std::string member;  // the key's member name in the genesis
};

// A positive number of credits given as `flag` (digits only, 1..2^64-1);
// fails with Exit::usage otherwise (CLI11 would wrap "-3" into a huge u64).
std::uint64_t credits_argument(const std::string& text, const std::string& flag);

// Reads and checks the genesis and key files; fails (CommandError) with a
// sentence when either is unreadable or the key is no member of the genesis.
MemberSigner load_member_signer(const std::string& genesis_file, const std::string& key_file);

// The members the node's ledger holds now (GET /members, issue 18): a
// member admitted by vote or a rotated key is in no genesis. `genesis`'s
// members when the node has no such endpoint (404, an older batond); fails
// when the node cannot be reached or answers something malformed.
std::vector<chain::GenesisMember> node_members(const chain::Genesis& genesis,
                                               const std::string& node_url);
// The same, or nullopt when the node cannot be reached or answers something
// unusable (the caller falls back to what the genesis says).
std::optional<std::vector<chain::GenesisMember>> try_node_members(const chain::Genesis& genesis,
                                                                  const std::string& node_url);

// load_member_signer for the key of a member in `members` (node_members):
// the signer's name is the one the ledger holds for that key now.
MemberSigner load_current_signer(const std::string& genesis_file, const std::string& key_file,
                                 const std::vector<chain::GenesisMember>& members);

// Signs `payload` as a transaction of `type` with the signer's next nonce
// (asked of the node) and submits it. Fails when the node runs another
// genesis, cannot be reached, or refuses the transaction; returns
// {"accepted": true, "hash": HEX, "nonce": N}.
nlohmann::json submit_signed(const MemberSigner& signer, const std::string& node_url,
                             chain::pb::TxType type, const std::string& payload);

}  // namespace baton::tools

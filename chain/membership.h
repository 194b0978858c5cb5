// The consortium's members as the ledger has them after a state's block:
// the genesis members until the first membership change, then the members the
// ledger admitted, changed or removed by vote (issue 18, docs/PROTOCOL.md §25).
//
// Every reader that asks "is this key a member, with what power and roles?"
// asks these functions with the state it is checking against, never the
// genesis: a block at height H + 1 is checked against the state after H.
// Baton's rule for when a change takes effect: a change committed in block H
// holds from block H + 1 (docs/PROTOCOL.md §25 says why not H + 2).
//
// The references stay valid while `spec` and `state` (or a copy of `state`)
// live; they are cheap to call (no allocation).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/genesis.h"
#include "chain/ledger_state.h"
#include "chain/validator_set.h"

namespace baton::chain {

// The members after the state's block, in order: genesis order, then the
// order in which the ledger admitted them. `balance` is unused here.
const std::vector<GenesisMember>& current_members(const ChainSpec& spec, const LedgerState& state);

// The members as a ValidatorSet: what checks the senders of the transactions
// of block state.height + 1, and the commit of that block.
const ValidatorSet& current_validators(const ChainSpec& spec, const LedgerState& state);

// The set that signed the state's own block (height state.height): the set
// before the last change when that change was committed in this very block.
// What a snapshot at height H checks block H's commit against.
const ValidatorSet& signers_of_state_block(const ChainSpec& spec, const LedgerState& state);

// The ChainSpec the training protocol's steps read for the block after the
// state's: `spec` itself until the first change, then the same genesis with
// the current members (and their ValidatorSet). Its genesis_hash may be all
// zero (a decoded state): never check a signature against it.
const ChainSpec& member_spec(const ChainSpec& spec, const LedgerState& state);

// A MemberChange waiting for its quorum, as `GET /members` shows it.
struct PendingChangeView {
  Hash id;                             // SHA-256 of the MemberChange payload bytes
  std::string kind;                    // "add", "remove", "update" or "replace_keys"
  std::string name;                    // the member concerned
  std::vector<std::string> approvers;  // names, ascending (removed approvers included)
  std::uint64_t approved_power = 0;    // the current power of the approvers still validators
  std::uint64_t quorum_power = 0;      // the least power that is a quorum now
  std::uint64_t expires_at_height = 0;
};

// The pending changes in ascending id order.
std::vector<PendingChangeView> pending_changes(const ChainSpec& spec, const LedgerState& state);

// What a state decoder (chain/state_decode.h) checks the training part of a
// state with membership changes against: the genesis with every member ever
// (current, then removed) holding every role and power 0, plus one voter
// whose name no member can have. So the names in records (runs, accounts,
// summaries) must be members' ever, while a recorded plan is not checked
// again against powers and roles that changed since its StartRun (it was
// checked then; the state hash proves the rest). Not a valid genesis: use it
// for nothing else.
Genesis decoding_genesis(const Genesis& genesis, const MembershipState& membership);

}  // namespace baton::chain

// Consensus wire messages: sign bytes, block ids, decoding of untrusted
// bytes with hard limits, and signature checks. Pure; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chain/crypto.h"
#include "chain/proto/ledger.pb.h"
#include "chain/result.h"
#include "chain/vote.h"
#include "consensus/proto/consensus.pb.h"
#include "consensus/validators.h"

namespace baton::consensus {

inline constexpr std::string_view kProposalDomain = "baton/proposal/v2";

// Votes, their sign bytes and commits are chain/ formats (chain/vote.h);
// consensus adds the proposal.
using chain::vote_sign_bytes;

// Bytes a proposal's signature covers (see consensus/proto/consensus.proto):
// chain::network_separated("baton/proposal/v2", network, ...).
chain::Bytes proposal_sign_bytes(const chain::NetworkId& network, std::uint64_t height,
                                 std::uint32_t round, std::int32_t pol_round,
                                 const chain::Hash& block_id);

// Block id: SHA-256 of the serialized header inside a serialized Block.
// Fails when `block` is not a Block or has an empty header.
Result<chain::Hash> block_id_of(std::string_view block);

// Why a message from the network was not used. Everything from
// `malformed` on is the sender's fault: the caller may penalise the peer.
enum class MessageVerdict {
  accepted = 0,            // new and used
  duplicate = 1,           // already known; harmless
  stale = 2,               // for a height already decided, or a round long gone
  future_height = 3,       // too far ahead to buffer; the caller should sync blocks
  malformed = 10,          // not a ConsensusMessage, a missing field, bad lengths
  oversized = 11,          // larger than the configured limits
  unknown_validator = 12,  // signer is not a member of the validator set
  bad_signature = 13,      // the signature does not verify
  wrong_proposer = 14,     // a proposal from someone not proposer of (height, round)
  round_too_far = 15,      // a round beyond the engine's look-ahead window
  invalid_block = 16,      // the application refused the proposed block
  equivocation = 17,       // a second, conflicting vote: evidence was recorded
};

// True for verdicts that mean the peer (or the validator behind it)
// misbehaved.
inline bool is_misbehaviour(MessageVerdict v) { return static_cast<int>(v) >= 10; }
const char* to_string(MessageVerdict v);

// Parses untrusted bytes into a ConsensusMessage. Refuses more than
// `max_bytes`, unparsable input, an empty oneof, and fields with wrong lengths
// (keys 32 bytes, signatures 64, vote block ids empty for nil or 32 bytes not
// all zero, vote type PREVOTE/PRECOMMIT, pol_round >= -1 and < round). A vote
// whose block id is 32 zero bytes is refused: it would be a second spelling
// of nil, which a forger could pair with an honest nil vote as fake
// evidence of a double vote. Signatures are NOT
// checked here (that needs the validator set; the engine does it).
Result<pb::ConsensusMessage> decode_message(std::string_view bytes, std::size_t max_bytes);
// The same checks on an already-parsed message.
MessageVerdict check_well_formed(const pb::ConsensusMessage& message);

std::string encode_message(const pb::ConsensusMessage& message);

bool verify_vote_signature(const chain::NetworkId& network, const chain::pb::Vote& vote);
// Precondition: `block_id` is block_id_of(proposal.block()).
bool verify_proposal_signature(const chain::NetworkId& network, const pb::Proposal& proposal,
                               const chain::Hash& block_id);

// Checks a Commit as block sync receives it: every signature is a PRECOMMIT
// by a distinct member for (commit.height, commit.round, commit.block_id),
// and together they hold more than 2/3 of the voting power. `expected_height`
// and `expected_block_id` bind it to the block being applied.
Status verify_commit(const ValidatorSet& validators, const chain::NetworkId& network,
                     const chain::pb::Commit& commit, std::uint64_t expected_height,
                     const chain::Hash& expected_block_id);

}  // namespace baton::consensus

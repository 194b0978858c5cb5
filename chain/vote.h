// Consensus votes, commits and duplicate-vote evidence. docs/PROTOCOL.md,
// "Votes and commits".
//
// A vote's signature covers
//   network_separated("baton/vote/v2", network,
//                     u8 type || u64be height || u32be round || u8 value || block_id(32))
// (the chain id and the genesis hash are both inside, chain/crypto.h)
// with value 0x01 and the block id for a block, 0x00 and 32 zero bytes for
// nil. A vote's block_id field is empty for nil and never 32 zero bytes, so
// one signature verifies for exactly one (type, height, round, value).
// A commit for block B at height H is the set of PRECOMMIT signatures for
// (H, commit.round, id(B)) from validators holding > 2/3 of the total power.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "chain/crypto.h"
#include "chain/proto/ledger.pb.h"
#include "chain/validator_set.h"
#include "chain/verdict.h"

namespace baton::chain {

inline constexpr std::string_view kVoteDomain = "baton/vote/v2";
// The value tag in the vote sign bytes.
inline constexpr std::uint8_t kVoteForNil = 0x00;
inline constexpr std::uint8_t kVoteForBlock = 0x01;

// nullopt = a vote for nil (tag 0x00 and 32 zero bytes in the sign bytes;
// empty block_id field in pb::Vote). Precondition: block_id, if set, is not
// all zeros (a bug otherwise: no block has that id).
Bytes vote_sign_bytes(const NetworkId& network, pb::VoteType type, std::uint64_t height,
                      std::uint32_t round, const std::optional<Hash>& block_id);

pb::Vote sign_vote(const NetworkId& network, const SigningKey& key, pb::VoteType type,
                   std::uint64_t height, std::uint32_t round, const std::optional<Hash>& block_id);

// The vote's block id: nullopt for nil (empty field), the hash for 32 bytes.
// Precondition: vote_well_formed(vote).
std::optional<Hash> vote_block_id(const pb::Vote& vote);

// A vote's block_id field: empty (nil) or 32 bytes that are not all zero.
bool vote_block_id_well_formed(std::string_view block_id);

// Type is PREVOTE or PRECOMMIT, block_id as vote_block_id_well_formed,
// validator 32 bytes, signature 64 bytes.
bool vote_well_formed(const pb::Vote& vote);

// Well formed and the signature verifies for `network`. Does not check
// membership: that needs the validator set (callers check it).
bool verify_vote(const NetworkId& network, const pb::Vote& vote);

// Builds a commit from PRECOMMIT votes for (height, round, block_id), in the
// order given. Precondition: every vote is such a precommit (a bug otherwise).
pb::Commit make_commit(std::uint64_t height, std::uint32_t round, const Hash& block_id,
                       std::span<const pb::Vote> precommits);

enum class CommitInvalid {
  wrong_height,         // commit.height is not the block's height
  wrong_block,          // commit.block_id is not the block's id
  malformed_signature,  // a CommitSig with a validator not 32 bytes or a signature not 64 bytes
  unknown_signer,       // signed by a key that is not a validator (non-member or power 0)
  duplicate_signer,     // one validator signed twice
  bad_signature,        // a signature does not verify
  insufficient_power,   // signers hold 2/3 of the power or less
};

std::string_view to_string(CommitInvalid reason);

// Checks that `commit` finalises the block `block_id` at `height`. nullopt:
// valid. Order: height, block id, then every entry's shape, signer and
// uniqueness while summing power over distinct validators, then the quorum
// (has_quorum), and only then the Ed25519 signatures (the costly part).
std::optional<CommitInvalid> verify_commit(const NetworkId& network, const ValidatorSet& validators,
                                           const pb::Commit& commit, std::uint64_t height,
                                           const Hash& block_id);

// What a valid DuplicateVoteEvidence proves.
struct Equivocation {
  PublicKey validator;
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  pb::VoteType type = pb::VOTE_UNKNOWN;
  auto operator<=>(const Equivocation&) const = default;
};

enum class EvidenceInvalid {
  malformed,          // not canonical serialized evidence / votes, or a vote not well formed
  unknown_validator,  // the signer is not a validator
  bad_signature,      // a vote's signature does not verify
  not_conflicting,    // votes differ in validator/height/round/type, or agree on the block
};

std::string_view to_string(EvidenceInvalid reason);

// The evidence of two conflicting votes, in the one order check_evidence
// accepts: the vote whose block_id bytes sort first is vote_a (nil first).
pb::DuplicateVoteEvidence make_evidence(const pb::Vote& a, const pb::Vote& b);

// Both votes well formed (so neither holds an all-zero block id), signed for
// `network` by the same validator, same height, round and type, different
// block ids (nil counts as a block id), vote_a's block id sorting before
// vote_b's (bytes; malformed otherwise: the swapped pair is a second encoding).
Verdict<Equivocation, EvidenceInvalid> check_evidence(const NetworkId& network,
                                                      const ValidatorSet& validators,
                                                      const pb::DuplicateVoteEvidence& evidence);
// The same from the stored bytes (canonical encoding required).
Verdict<Equivocation, EvidenceInvalid> check_evidence(const NetworkId& network,
                                                      const ValidatorSet& validators,
                                                      std::string_view stored_bytes);

}  // namespace baton::chain

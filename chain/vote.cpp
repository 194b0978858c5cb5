#include "chain/vote.h"

#include <cstdlib>
#include <set>

#include "chain/encoding.h"

namespace baton::chain {

Bytes vote_sign_bytes(const NetworkId& network, pb::VoteType type, std::uint64_t height,
                      std::uint32_t round, const std::optional<Hash>& block_id) {
  Bytes body;
  body.reserve(1 + 8 + 4 + 1 + 32);
  append_u8(body, static_cast<std::uint8_t>(type));
  append_u64be(body, height);
  append_u32be(body, round);
  // The tag, not the id bytes, says nil: a signature for nil can never be
  // read as one for a block (not even a block whose id were all zeros).
  append_u8(body, block_id ? kVoteForBlock : kVoteForNil);
  append_bytes(body, block_id ? block_id->view() : Hash{}.view());
  return network_separated(kVoteDomain, network, body);
}

pb::Vote sign_vote(const NetworkId& network, const SigningKey& key, pb::VoteType type,
                   std::uint64_t height, std::uint32_t round, const std::optional<Hash>& block_id) {
  if (block_id && block_id->is_zero()) std::abort();  // precondition: no block has this id
  pb::Vote vote;
  vote.set_type(type);
  vote.set_height(height);
  vote.set_round(round);
  if (block_id) vote.set_block_id(block_id->bytes.data(), block_id->bytes.size());
  vote.set_validator(key.public_key().bytes.data(), key.public_key().bytes.size());
  const Signature sig = key.sign(vote_sign_bytes(network, type, height, round, block_id));
  vote.set_signature(sig.bytes.data(), sig.bytes.size());
  return vote;
}

bool vote_block_id_well_formed(std::string_view block_id) {
  if (block_id.empty()) return true;  // nil
  if (block_id.size() != 32) return false;
  // 32 zero bytes is no block's id (SHA-256 has no known preimage for it);
  // accepting it as a value would give nil a second spelling.
  return block_id.find_first_not_of('\0') != std::string_view::npos;
}

bool vote_well_formed(const pb::Vote& vote) {
  return (vote.type() == pb::PREVOTE || vote.type() == pb::PRECOMMIT) &&
         vote_block_id_well_formed(vote.block_id()) && vote.validator().size() == 32 &&
         vote.signature().size() == 64;
}

std::optional<Hash> vote_block_id(const pb::Vote& vote) {
  if (vote.block_id().empty()) return std::nullopt;
  auto h = Hash::from_bytes(as_bytes(vote.block_id()));
  if (!h) std::abort();  // precondition: vote_well_formed
  return *h;
}

bool verify_vote(const NetworkId& network, const pb::Vote& vote) {
  if (!vote_well_formed(vote)) return false;
  const PublicKey key = PublicKey::from_bytes(as_bytes(vote.validator())).value();
  const Signature sig = Signature::from_bytes(as_bytes(vote.signature())).value();
  return verify_signature(
      key, vote_sign_bytes(network, vote.type(), vote.height(), vote.round(), vote_block_id(vote)),
      sig);
}

pb::Commit make_commit(std::uint64_t height, std::uint32_t round, const Hash& block_id,
                       std::span<const pb::Vote> precommits) {
  pb::Commit commit;
  commit.set_height(height);
  commit.set_round(round);
  commit.set_block_id(block_id.bytes.data(), block_id.bytes.size());
  for (const auto& v : precommits) {
    if (v.type() != pb::PRECOMMIT || v.height() != height || v.round() != round ||
        v.block_id() != commit.block_id()) {
      std::abort();  // precondition: only precommits for this block
    }
    auto* sig = commit.add_signatures();
    sig->set_validator(v.validator());
    sig->set_signature(v.signature());
  }
  return commit;
}

std::string_view to_string(CommitInvalid reason) {
  switch (reason) {
    case CommitInvalid::wrong_height:
      return "the commit is for another height";
    case CommitInvalid::wrong_block:
      return "the commit is for another block id";
    case CommitInvalid::malformed_signature:
      return "a commit signature entry does not hold a 32-byte key and a 64-byte signature";
    case CommitInvalid::unknown_signer:
      return "a commit signature comes from a key that is not a validator";
    case CommitInvalid::duplicate_signer:
      return "a validator signed the commit twice";
    case CommitInvalid::bad_signature:
      return "a commit signature does not verify";
    case CommitInvalid::insufficient_power:
      return "the commit carries two thirds of the voting power or less";
  }
  return "the commit is invalid";
}

std::optional<CommitInvalid> verify_commit(const NetworkId& network, const ValidatorSet& validators,
                                           const pb::Commit& commit, std::uint64_t height,
                                           const Hash& block_id) {
  if (commit.height() != height) return CommitInvalid::wrong_height;
  if (commit.block_id().size() != 32 ||
      Hash::from_bytes(as_bytes(commit.block_id())).value() != block_id) {
    return CommitInvalid::wrong_block;
  }
  // Cheap checks and the power sum first, signatures last: a commit that
  // cannot reach quorum is refused without spending Ed25519 verifications.
  std::set<PublicKey> signers;
  std::uint64_t power = 0;
  for (const auto& entry : commit.signatures()) {
    auto key = PublicKey::from_bytes(as_bytes(entry.validator()));
    if (!key || entry.signature().size() != 64) return CommitInvalid::malformed_signature;
    const Validator* v = validators.find(*key);
    if (v == nullptr || v->power == 0) return CommitInvalid::unknown_signer;
    if (!signers.insert(*key).second) return CommitInvalid::duplicate_signer;
    power += v->power;
  }
  if (!validators.has_quorum(power)) return CommitInvalid::insufficient_power;
  const Bytes message = vote_sign_bytes(network, pb::PRECOMMIT, height, commit.round(), block_id);
  for (const auto& entry : commit.signatures()) {
    const PublicKey key = PublicKey::from_bytes(as_bytes(entry.validator())).value();
    const Signature sig = Signature::from_bytes(as_bytes(entry.signature())).value();
    if (!verify_signature(key, message, sig)) return CommitInvalid::bad_signature;
  }
  return std::nullopt;
}

std::string_view to_string(EvidenceInvalid reason) {
  switch (reason) {
    case EvidenceInvalid::malformed:
      return "the evidence or one of its votes is malformed";
    case EvidenceInvalid::unknown_validator:
      return "the evidence accuses a key that is not a validator";
    case EvidenceInvalid::bad_signature:
      return "a vote in the evidence has a signature that does not verify";
    case EvidenceInvalid::not_conflicting:
      return "the evidence's two votes do not conflict";
  }
  return "the evidence is invalid";
}

pb::DuplicateVoteEvidence make_evidence(const pb::Vote& a, const pb::Vote& b) {
  const bool a_first = a.block_id() < b.block_id();
  pb::DuplicateVoteEvidence ev;
  ev.set_vote_a((a_first ? a : b).SerializeAsString());
  ev.set_vote_b((a_first ? b : a).SerializeAsString());
  return ev;
}

Verdict<Equivocation, EvidenceInvalid> check_evidence(const NetworkId& network,
                                                      const ValidatorSet& validators,
                                                      const pb::DuplicateVoteEvidence& evidence) {
  pb::Vote a, b;
  if (!parse_canonical(evidence.vote_a(), a) || !parse_canonical(evidence.vote_b(), b))
    return EvidenceInvalid::malformed;
  if (!vote_well_formed(a) || !vote_well_formed(b)) return EvidenceInvalid::malformed;
  if (a.validator() != b.validator() || a.height() != b.height() || a.round() != b.round() ||
      a.type() != b.type() || a.block_id() == b.block_id()) {
    return EvidenceInvalid::not_conflicting;
  }
  // One encoding per equivocation: vote_a's block id sorts first (bytes; nil,
  // the empty id, before any block). The swapped pair is another spelling.
  if (!(a.block_id() < b.block_id())) return EvidenceInvalid::malformed;
  const PublicKey key = PublicKey::from_bytes(as_bytes(a.validator())).value();
  if (!validators.is_validator(key)) return EvidenceInvalid::unknown_validator;
  if (!verify_vote(network, a) || !verify_vote(network, b)) return EvidenceInvalid::bad_signature;
  return Equivocation{key, a.height(), a.round(), a.type()};
}

Verdict<Equivocation, EvidenceInvalid> check_evidence(const NetworkId& network,
                                                      const ValidatorSet& validators,
                                                      std::string_view stored_bytes) {
  pb::DuplicateVoteEvidence ev;
  if (!parse_canonical(stored_bytes, ev)) return EvidenceInvalid::malformed;
  return check_evidence(network, validators, ev);
}

}  // namespace baton::chain

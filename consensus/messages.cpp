#include "consensus/messages.h"

#include <set>

#include "chain/block.h"

namespace baton::consensus {
namespace {

void put_u64(chain::Bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
void put_u32(chain::Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
void put_hash(chain::Bytes& out, const std::optional<chain::Hash>& h) {
  if (h) {
    out.insert(out.end(), h->bytes.begin(), h->bytes.end());
  } else {
    out.insert(out.end(), 32, 0);
  }
}

chain::ByteView view(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// chain's rules for a vote (type, lengths, and a block id that is nil or not
// all zeros), plus height > 0.
MessageVerdict check_vote(const chain::pb::Vote& v) {
  if (!chain::vote_well_formed(v) || v.height() == 0) return MessageVerdict::malformed;
  return MessageVerdict::accepted;
}

MessageVerdict check_proposal(const pb::Proposal& p) {
  if (p.height() == 0) return MessageVerdict::malformed;
  if (p.pol_round() < -1 ||
      (p.pol_round() >= 0 && static_cast<std::uint32_t>(p.pol_round()) >= p.round())) {
    return MessageVerdict::malformed;
  }
  if (p.proposer().size() != 32 || p.signature().size() != 64) return MessageVerdict::malformed;
  if (p.block().empty()) return MessageVerdict::malformed;
  return MessageVerdict::accepted;
}

}  // namespace

chain::Bytes proposal_sign_bytes(const chain::NetworkId& network, std::uint64_t height,
                                 std::uint32_t round, std::int32_t pol_round,
                                 const chain::Hash& block_id) {
  chain::Bytes body;
  body.reserve(8 + 4 + 4 + 32);
  put_u64(body, height);
  put_u32(body, round);
  put_u32(body, static_cast<std::uint32_t>(pol_round));  // two's complement, big-endian
  put_hash(body, block_id);
  return chain::network_separated(kProposalDomain, network, body);
}

Result<chain::Hash> block_id_of(std::string_view block) {
  chain::pb::Block parsed;
  if (!parsed.ParseFromArray(block.data(), static_cast<int>(block.size()))) {
    return make_error("the proposed block is not a serialized Block");
  }
  if (parsed.header().empty()) return make_error("the proposed block has an empty header");
  return chain::block_id(parsed);
}

const char* to_string(MessageVerdict v) {
  switch (v) {
    case MessageVerdict::accepted:
      return "accepted";
    case MessageVerdict::duplicate:
      return "duplicate";
    case MessageVerdict::stale:
      return "stale";
    case MessageVerdict::future_height:
      return "future height";
    case MessageVerdict::malformed:
      return "malformed";
    case MessageVerdict::oversized:
      return "oversized";
    case MessageVerdict::unknown_validator:
      return "unknown validator";
    case MessageVerdict::bad_signature:
      return "bad signature";
    case MessageVerdict::wrong_proposer:
      return "wrong proposer";
    case MessageVerdict::round_too_far:
      return "round too far ahead";
    case MessageVerdict::invalid_block:
      return "invalid block";
    case MessageVerdict::equivocation:
      return "equivocation";
  }
  return "unknown verdict";
}

MessageVerdict check_well_formed(const pb::ConsensusMessage& message) {
  switch (message.body_case()) {
    case pb::ConsensusMessage::kProposal:
      return check_proposal(message.proposal());
    case pb::ConsensusMessage::kVote:
      return check_vote(message.vote());
    case pb::ConsensusMessage::BODY_NOT_SET:
      break;
  }
  return MessageVerdict::malformed;
}

Result<pb::ConsensusMessage> decode_message(std::string_view bytes, std::size_t max_bytes) {
  if (bytes.size() > max_bytes) {
    return make_error("the consensus message is " + std::to_string(bytes.size()) +
                          " bytes, more than the limit of " + std::to_string(max_bytes),
                      static_cast<int>(MessageVerdict::oversized));
  }
  pb::ConsensusMessage message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return make_error("the bytes are not a ConsensusMessage",
                      static_cast<int>(MessageVerdict::malformed));
  }
  if (const auto verdict = check_well_formed(message); verdict != MessageVerdict::accepted) {
    return make_error("the consensus message has missing or mis-sized fields",
                      static_cast<int>(verdict));
  }
  return message;
}

std::string encode_message(const pb::ConsensusMessage& message) {
  return message.SerializeAsString();
}

bool verify_vote_signature(const chain::NetworkId& network, const chain::pb::Vote& vote) {
  return check_vote(vote) == MessageVerdict::accepted && chain::verify_vote(network, vote);
}

bool verify_proposal_signature(const chain::NetworkId& network, const pb::Proposal& proposal,
                               const chain::Hash& block_id) {
  if (check_proposal(proposal) != MessageVerdict::accepted) return false;
  const auto key = chain::PublicKey::from_bytes(view(proposal.proposer()));
  const auto sig = chain::Signature::from_bytes(view(proposal.signature()));
  if (!key || !sig) return false;
  return chain::verify_signature(*key,
                                 proposal_sign_bytes(network, proposal.height(), proposal.round(),
                                                     proposal.pol_round(), block_id),
                                 *sig);
}

Status verify_commit(const ValidatorSet& validators, const chain::NetworkId& network,
                     const chain::pb::Commit& commit, std::uint64_t expected_height,
                     const chain::Hash& expected_block_id) {
  if (commit.height() != expected_height) {
    return make_error("the commit is for height " + std::to_string(commit.height()) + ", not " +
                      std::to_string(expected_height));
  }
  if (commit.block_id() !=
      std::string(expected_block_id.bytes.begin(), expected_block_id.bytes.end())) {
    return make_error("the commit at height " + std::to_string(expected_height) +
                      " is for another block than the one it comes with");
  }
  std::set<std::size_t> signers;
  std::uint64_t power = 0;
  for (const auto& cs : commit.signatures()) {
    const auto key = chain::PublicKey::from_bytes(view(cs.validator()));
    const auto sig = chain::Signature::from_bytes(view(cs.signature()));
    if (!key || !sig)
      return make_error("a commit signature has a key or signature of the wrong length");
    const auto index = validators.index_of(*key);
    if (!index)
      return make_error("a commit signature is by " + key->hex() + ", who is not a validator");
    if (!signers.insert(*index).second)
      return make_error("validator " + key->hex() + " signs the commit twice");
    const auto bytes = vote_sign_bytes(network, chain::pb::PRECOMMIT, commit.height(),
                                       commit.round(), expected_block_id);
    if (!chain::verify_signature(*key, bytes, *sig)) {
      return make_error("the commit signature of validator " + key->hex() + " does not verify");
    }
    power += validators.at(*index).power;
  }
  if (!validators.is_quorum(power)) {
    return make_error("the commit at height " + std::to_string(expected_height) + " holds " +
                      std::to_string(power) + " of " + std::to_string(validators.total_power()) +
                      " voting power, not more than 2/3");
  }
  return {};
}

}  // namespace baton::consensus

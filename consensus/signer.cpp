#include "consensus/signer.h"

#include <tuple>

#include "consensus/messages.h"

namespace baton::consensus {
namespace {

std::string id_string(const std::optional<chain::Hash>& id) {
  if (!id) return {};
  return std::string(id->bytes.begin(), id->bytes.end());
}

const char* step_name(SignStep step) {
  switch (step) {
    case SignStep::none:
      return "nothing";
    case SignStep::proposal:
      return "proposal";
    case SignStep::prevote:
      return "prevote";
    case SignStep::precommit:
      return "precommit";
  }
  return "unknown step";
}

}  // namespace

Result<std::unique_ptr<Signer>> Signer::open(chain::SigningKey key, chain::NetworkId network,
                                             std::optional<pb::SignerState> loaded) {
  pb::SignerState last;
  if (loaded) {
    last = std::move(*loaded);
    // A block id is empty (nil) or 32 bytes not all zero (chain/vote.h).
    if (last.step() > static_cast<std::uint32_t>(SignStep::precommit) ||
        !chain::vote_block_id_well_formed(last.block_id())) {
      return make_error("the signer state record is malformed (step " +
                        std::to_string(last.step()) +
                        "); refusing to sign until an operator restores it");
    }
  }
  return std::unique_ptr<Signer>(new Signer(std::move(key), std::move(network), std::move(last)));
}

Result<std::unique_ptr<Signer>> Signer::open(chain::SigningKey key, chain::NetworkId network,
                                             SignerStateStore& store) {
  auto loaded = store.load();
  if (!loaded) return loaded.error();
  return open(std::move(key), std::move(network), std::move(*loaded));
}

std::optional<pb::SignerState> Signer::take_unsaved() {
  if (!unsaved_) return std::nullopt;
  unsaved_ = false;
  return last_;
}

Result<chain::Signature> Signer::guarded_sign(std::uint64_t height, std::uint32_t round,
                                              SignStep step,
                                              const std::optional<chain::Hash>& block_id,
                                              const chain::Bytes& sign_bytes) {
  const auto next = std::make_tuple(height, round, static_cast<std::uint32_t>(step));
  const auto prev = std::make_tuple(last_.height(), last_.round(), last_.step());
  const std::string hrs = "height " + std::to_string(height) + " round " + std::to_string(round) +
                          " " + step_name(step);
  if (next < prev) {
    return make_error("refusing to sign a " + hrs + ": already signed at height " +
                          std::to_string(last_.height()) + " round " +
                          std::to_string(last_.round()) + " " +
                          step_name(static_cast<SignStep>(last_.step())),
                      static_cast<int>(SignRefusal::regression));
  }
  if (next == prev) {
    if (last_.block_id() != id_string(block_id)) {
      return make_error(
          "refusing to sign a " + hrs + " for another value than the one already signed there",
          static_cast<int>(SignRefusal::conflicting_value));
    }
    // Same value again (a retry after a restart): signing is idempotent.
    return key_.sign(sign_bytes);
  }
  pb::SignerState record;
  record.set_height(height);
  record.set_round(round);
  record.set_step(static_cast<std::uint32_t>(step));
  record.set_block_id(id_string(block_id));
  const auto signature = key_.sign(sign_bytes);
  record.set_signature(std::string(signature.bytes.begin(), signature.bytes.end()));
  // Not durable yet: the engine hands the record out with the message that
  // carries this signature, and its caller writes it before sending.
  last_ = std::move(record);
  unsaved_ = true;
  return signature;
}

Result<chain::pb::Vote> Signer::sign_vote(chain::pb::VoteType type, std::uint64_t height,
                                          std::uint32_t round,
                                          const std::optional<chain::Hash>& block_id) {
  if (type != chain::pb::PREVOTE && type != chain::pb::PRECOMMIT) std::abort();
  if (block_id && block_id->is_zero()) std::abort();  // no block has this id: a bug
  const auto step = type == chain::pb::PREVOTE ? SignStep::prevote : SignStep::precommit;
  auto signature = guarded_sign(height, round, step, block_id,
                                vote_sign_bytes(network_, type, height, round, block_id));
  if (!signature) return signature.error();
  chain::pb::Vote vote;
  vote.set_type(type);
  vote.set_height(height);
  vote.set_round(round);
  vote.set_block_id(id_string(block_id));
  vote.set_validator(std::string(public_key().bytes.begin(), public_key().bytes.end()));
  vote.set_signature(std::string(signature->bytes.begin(), signature->bytes.end()));
  return vote;
}

Result<pb::Proposal> Signer::sign_proposal(std::uint64_t height, std::uint32_t round,
                                           std::int32_t pol_round, const chain::Hash& block_id,
                                           std::string block) {
  auto signature = guarded_sign(height, round, SignStep::proposal, block_id,
                                proposal_sign_bytes(network_, height, round, pol_round, block_id));
  if (!signature) return signature.error();
  pb::Proposal proposal;
  proposal.set_height(height);
  proposal.set_round(round);
  proposal.set_pol_round(pol_round);
  proposal.set_block(std::move(block));
  proposal.set_proposer(std::string(public_key().bytes.begin(), public_key().bytes.end()));
  proposal.set_signature(std::string(signature->bytes.begin(), signature->bytes.end()));
  return proposal;
}

}  // namespace baton::consensus

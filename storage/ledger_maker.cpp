#include "storage/ledger_maker.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "chain/block.h"
#include "chain/transaction.h"
#include "chain/validation.h"
#include "chain/vote.h"

namespace baton::storage {

Result<ChainMaker> ChainMaker::create(const chain::ChainSpec& spec,
                                      const std::vector<chain::SigningKey>& member_keys,
                                      chain::LedgerState start, const ChainMakerOptions& options) {
  std::vector<chain::SigningKey> ordered;
  for (const auto& member : spec.genesis.members) {
    const chain::SigningKey* found = nullptr;
    for (const auto& key : member_keys) {
      if (key.public_key() == member.ed25519) found = &key;
    }
    if (found == nullptr) {
      return make_error("no signing key for genesis member \"" + member.name + "\" (public key " +
                        member.ed25519.hex() + "); a made chain needs every member's key");
    }
    ordered.push_back(*found);
  }
  if (options.txs_per_block > spec.params().max_block_txs) {
    return make_error("--txs-per-block " + std::to_string(options.txs_per_block) +
                      " exceeds the genesis limit of " +
                      std::to_string(spec.params().max_block_txs) + " transactions per block");
  }
  return ChainMaker(spec, std::move(ordered), std::move(start), options);
}

ChainMaker::ChainMaker(const chain::ChainSpec& spec, std::vector<chain::SigningKey> keys,
                       chain::LedgerState start, const ChainMakerOptions& options)
    : spec_(&spec), keys_(std::move(keys)), state_(std::move(start)), options_(options) {
  for (std::size_t i = 0; i < spec.genesis.members.size(); ++i) {
    if (spec.genesis.members[i].power > 0) validator_order_.push_back(i);
  }
}

// About 80 characters of text, which with the sender, nonce, chain id and
// signature makes a serialized transaction of about 200 bytes.
std::string ChainMaker::note_text(std::uint64_t height, std::size_t index,
                                  const std::string& sender_name) const {
  static constexpr const char* kTopics[] = {"cohort refresh", "validation split", "schema check",
                                            "consent audit", "site calibration"};
  char buf[160];
  const std::uint64_t mix = (height * 2654435761u) ^ (index * 40503u);
  std::snprintf(
      buf, sizeof buf, "%s: %s, height %llu item %zu, %llu records reviewed, audit ref %08llx",
      sender_name.c_str(), kTopics[(height + index) % 5], static_cast<unsigned long long>(height),
      index, static_cast<unsigned long long>(1000 + mix % 9000),
      static_cast<unsigned long long>(mix & 0xffffffffu));
  std::string text(buf);
  if (text.size() < 80) text += "; signed off by the site lead";
  return text;
}

Result<std::string> ChainMaker::next_block() {
  const chain::ChainSpec& spec = *spec_;
  const std::uint64_t height = state_.height + 1;
  const std::size_t members = keys_.size();

  std::vector<std::string> txs;
  txs.reserve(options_.txs_per_block);
  std::map<chain::PublicKey, std::uint64_t> used;  // nonces taken in this block
  for (std::size_t i = 0; i < options_.txs_per_block; ++i) {
    const std::size_t who =
        static_cast<std::size_t>((height * options_.txs_per_block + i) % members);
    const chain::SigningKey& key = keys_[who];
    const std::uint64_t nonce = state_.next_nonce(key.public_key()) + used[key.public_key()]++;
    txs.push_back(chain::encode_transaction(chain::make_note(
        spec.network(), key, nonce, note_text(height, i, spec.genesis.members[who].name))));
  }

  const std::size_t proposer =
      validator_order_[static_cast<std::size_t>((height - 1) % validator_order_.size())];
  const std::int64_t time = options_.first_block_time_unix_ms +
                            static_cast<std::int64_t>(height - 1) * options_.block_interval_ms;
  auto proposal =
      chain::propose_block(spec, state_, time, keys_[proposer].public_key(), std::move(txs));
  if (!proposal)
    return make_error("chain refused the made block at height " + std::to_string(height) + ": " +
                      proposal.reason().message());

  std::vector<chain::pb::Vote> precommits;
  for (std::size_t v : validator_order_) {
    precommits.push_back(
        chain::sign_vote(spec.network(), keys_[v], chain::pb::PRECOMMIT, height, 0, proposal->id));
  }
  chain::pb::CommittedBlock committed;
  *committed.mutable_block() = proposal->block;
  *committed.mutable_commit() = chain::make_commit(height, 0, proposal->id, precommits);
  state_ = proposal->after;
  return chain::encode_committed_block(committed);
}

}  // namespace baton::storage

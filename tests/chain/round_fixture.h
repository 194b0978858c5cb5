// A ProtocolChain that plays federated rounds (issue 15, docs/PROTOCOL.md
// §21): each partner deals real Shamir shares of its self-mask seed and of its
// round's ephemeral X25519 secret (chain/secagg_shares.h, the functions the
// ledger checks with), posts the commitments, uploads and reveals what the
// round's U1 and U2 ask of it. Share boxes are filler: the ledger only checks
// their size (opening them is the recipient agent's business).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "chain/round_steps.h"
#include "chain/secagg_shares.h"
#include "protocol_fixture.h"

namespace baton::chain::testing {

// A federated plan over the first `partners` members: `rounds` rounds,
// threshold t and min_partners.
inline TrainingPlan federated_plan(std::size_t partners = 4, std::uint32_t rounds = 2,
                                   std::uint32_t t = 3, std::uint32_t min_partners = 3) {
  TrainingPlan p = test_plan(partners, rounds);
  p.mode = TrainingMode::federated;
  p.secagg_threshold = t;
  p.min_partners = min_partners;
  return p;
}

// What one dealer deals in one round.
struct Dealing {
  Hash self_seed;                 // b_u
  Hash ephemeral_secret;          // the round's X25519 secret
  std::vector<Hash> self_shares;  // by recipient rank
  std::vector<Hash> key_shares;
};

struct RoundChain : ProtocolChain {
  using ProtocolChain::ProtocolChain;

  const TrainingPlan& plan() const { return run().plan; }
  const RoundRecord& round() const { return *turn().round; }
  std::uint32_t n() const { return static_cast<std::uint32_t>(plan().partners.size()); }
  RoundBinding binding(std::uint64_t round) const {
    return RoundBinding{chain.spec.genesis.chain_id, "run-1", round};
  }

  // Dealer `d`'s secrets for `round`: fixed, distinct per dealer and round.
  Dealing dealing(std::uint32_t d, std::uint64_t round) const {
    Dealing out;
    const std::string tag = std::to_string(d) + "/" + std::to_string(round);
    out.self_seed = sha256("self seed " + tag);
    out.ephemeral_secret = sha256("ephemeral " + tag);
    out.self_shares =
        shamir_split(out.self_seed, plan().secagg_threshold, n(), sha256("self coeff " + tag));
    out.key_shares = shamir_split(out.ephemeral_secret, plan().secagg_threshold, n(),
                                  sha256("key coeff " + tag));
    return out;
  }

  pb::RoundShare share_payload(std::uint32_t d, std::uint64_t round, const Dealing& deal) const {
    pb::RoundShare s;
    s.set_run_id("run-1");
    s.set_round(round);
    s.set_ephemeral_public(hash_bytes(x25519_public_of(deal.ephemeral_secret)));
    s.set_self_seed_commitment(hash_bytes(seed_commitment(binding(round), d, deal.self_seed)));
    for (std::uint32_t r = 0; r < n(); ++r) {
      s.add_share_boxes(std::string(kShareBoxBytes, static_cast<char>(0x40 + d)));
      s.add_self_share_commitments(hash_bytes(
          share_commitment(binding(round), ShareKind::self_seed, d, r, deal.self_shares[r])));
      s.add_key_share_commitments(hash_bytes(
          share_commitment(binding(round), ShareKind::ephemeral_key, d, r, deal.key_shares[r])));
    }
    return s;
  }

  pb::Transaction round_share(std::size_t i, std::uint64_t round) {
    const auto d = static_cast<std::uint32_t>(i);
    return tx(i, pb::TX_ROUND_SHARE, share_payload(d, round, dealing(d, round)));
  }
  pb::Transaction round_share(std::size_t i, const pb::RoundShare& s) {
    return tx(i, pb::TX_ROUND_SHARE, s);
  }

  pb::RoundUpload upload_payload(std::uint64_t round, std::optional<Hash> head,
                                 std::uint64_t weight = 100) const {
    pb::RoundUpload u;
    u.set_run_id("run-1");
    u.set_round(round);
    u.set_head_model_id(hash_bytes(head));
    u.set_object_key("run-1/round-" + std::to_string(round) + "/masked");
    u.set_masked_sha256(hash_bytes(fake_hash(0x5a)));
    u.set_weight(weight);
    return u;
  }
  pb::Transaction round_upload(std::size_t i, std::uint64_t round, std::uint64_t weight = 100) {
    return tx(i, pb::TX_ROUND_UPLOAD, upload_payload(round, run().head, weight));
  }
  pb::Transaction round_upload(std::size_t i, const pb::RoundUpload& u) {
    return tx(i, pb::TX_ROUND_UPLOAD, u);
  }

  // What partner `i` reveals for the current round, read from its U1 and U2:
  // the self-mask share of each dealer that uploaded, the key share of each
  // that only shared, nothing for the others.
  pb::RoundUnmask unmask_payload(std::size_t i, std::uint64_t index) const {
    pb::RoundUnmask u;
    u.set_run_id("run-1");
    u.set_round(index);
    for (std::uint32_t d = 0; d < n(); ++d) {
      const std::string& dealer = plan().partners[d];
      if (!round().shares.contains(dealer)) {
        u.add_shares("");
        continue;
      }
      const Dealing deal = dealing(d, index);
      u.add_shares(
          hash_bytes(round().uploads.contains(dealer) ? deal.self_shares[i] : deal.key_shares[i]));
    }
    return u;
  }
  pb::Transaction round_unmask(std::size_t i, std::uint64_t round) {
    return tx(i, pb::TX_ROUND_UNMASK, unmask_payload(i, round));
  }
  pb::Transaction round_unmask(std::size_t i, const pb::RoundUnmask& u) {
    return tx(i, pb::TX_ROUND_UNMASK, u);
  }

  // The aggregate's SaveRequest from `i`: train_samples = the round's total weight.
  pb::Transaction aggregate(std::size_t i, std::uint64_t round, std::uint8_t tag = 0xa0) {
    pb::SaveRequest r;
    ParseFromBytes(save_request(i, round, run().head, tag), r);
    r.set_train_samples(this->round().total_weight());
    return tx(i, pb::TX_SAVE_REQUEST, r);
  }
  static void ParseFromBytes(const pb::Transaction& t, pb::SaveRequest& r) {
    ASSERT_TRUE(r.ParseFromString(t.payload()));
  }

  // Every listed partner shares, uploads and unmasks (the first t of them):
  // the round reaches round_aggregating.
  void play_to_aggregating(std::uint64_t round, std::vector<std::size_t> sharers,
                           std::vector<std::size_t> uploaders) {
    for (auto i : sharers) commit(round_share(i, round));
    if (turn().phase == TurnPhase::round_sharing) {  // not all shared: wait for the deadline
      while (turn().phase == TurnPhase::round_sharing) empty_blocks(1);
    }
    for (auto i : uploaders) commit(round_upload(i, round));
    while (turn().phase == TurnPhase::round_uploading) empty_blocks(1);
    for (std::size_t k = 0; k < plan().secagg_threshold; ++k)
      commit(round_unmask(sharers[k], round));
  }
};

}  // namespace baton::chain::testing

// Federated averaging (FedAvg; McMahan et al., "Communication-Efficient
// Learning of Deep Networks from Decentralized Data", AISTATS 2017) computed
// exactly as Baton's federated rounds compute it (docs/PROTOCOL.md §21): every
// partner trains from the round's head on its own rows, and the new head is
//   head + Σ_p w_p · (trained_p − head) / Σ_p w_p      (w_p = its rows)
// in secagg's fixed point (secagg::encode_update, plain_sum, apply_aggregate)
// over the float32 values of the model blob (§17, secagg::blob_floats), so a
// simulated round gives the aggregate a real round would unmask, bit for bit.
// Pure computation over Models; no files, no logging.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "chain/result.h"
#include "learning/dataset.h"
#include "learning/model.h"
#include "learning/train.h"

namespace baton::learning {

// One partner of a round: its training rows (its FedAvg weight is
// data->rows) and the batch-order seed of its local training.
struct FedAvgPartner {
  const Dataset* data = nullptr;
  std::uint64_t seed = 1;
};

struct FedAvgRound {
  Model global;                // the round's aggregate: the next head
  std::size_t clipped = 0;     // update values clipped to ±secagg::kMaxAbsDelta, all partners
  std::size_t non_finite = 0;  // update values that were NaN or infinite (encoded as 0)
};

// One FedAvg round from `head`: each partner trains a copy of the head
// (deserialize(serialize(head)), what it would download) for `local` with its
// own seed, its update is encoded with weight = its rows, the encodings are
// summed (plain_sum: what unmask_sum recovers from masked uploads) and
// applied to the head's floats with the total weight; the head's int64
// tensors are kept. Errors: no partner, a partner without rows or with more
// than chain::kMaxRoundWeight rows, a failed training (naming the partner's
// position, 1-based).
Result<FedAvgRound> fedavg_round(const Model& head, std::span<const FedAvgPartner> partners,
                                 const TrainSettings& local);

// ---- What a hospital sends and receives (docs/EXPERIMENTS.md, "Federated
// rounds"): model data and secure-aggregation material, in bytes. Not
// counted (the same order in both modes and small): transaction envelopes,
// key envelopes (80 bytes per member per candidate), votes, RoundUpload's
// object key and hash, and the ledger's replication to every node.

// The size of a sealed model blob of `plaintext` bytes (§13.1): a 56-byte
// header and a 16-byte tag per chunk of 1 MiB (at least one chunk).
std::uint64_t sealed_size(std::uint64_t plaintext);

struct HospitalTraffic {
  // Federated: every round. Chained: each of the hospital's own turns
  // (sent) and each turn of another partner (received).
  std::uint64_t sent_per_round = 0;
  std::uint64_t received_per_round = 0;
  std::uint64_t sent_total = 0;  // over the run
  std::uint64_t received_total = 0;
};

// Federated, n partners, a model of `floats` float32 values in a blob of
// `blob_bytes`, `rounds` rounds, every partner in every round:
//   sent per round = (20 + 8·floats)      the masked upload
//                  + (64 + 176·n)         RoundShare: ephemeral key, seed
//                                         commitment, n boxes of 112 bytes,
//                                         2n commitments of 32
//                  + 32·n                 RoundUnmask: n shares of 32
//   received per round = sealed_size(blob_bytes)   the aggregate candidate
// The round's aggregator also downloads n masked uploads and uploads the
// sealed aggregate (not included: one partner per round).
HospitalTraffic federated_traffic(std::size_t partners, std::size_t floats, std::size_t blob_bytes,
                                  int rounds);

// Chained, n partners, `cycles` passes: each of the hospital's `cycles`
// turns uploads one sealed candidate; it downloads every other partner's
// candidate (to vote on it; the next partner trains from it):
//   sent = cycles · sealed_size(blob_bytes),
//   received = (n − 1) · cycles · sealed_size(blob_bytes).
HospitalTraffic chained_traffic(std::size_t partners, std::size_t blob_bytes, int cycles);

}  // namespace baton::learning

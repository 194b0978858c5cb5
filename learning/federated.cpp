// FedAvg rounds in secagg's fixed point, and the traffic formulas.
// Torch-free: models only through model.h and train.h.
#include "learning/federated.h"

#include <string>
#include <vector>

#include "chain/training.h"
#include "secagg/secagg.h"

namespace baton::learning {

Result<FedAvgRound> fedavg_round(const Model& head, std::span<const FedAvgPartner> partners,
                                 const TrainSettings& local) {
  if (partners.empty()) return make_error("A federated round needs at least one partner.");
  const chain::Bytes head_blob = serialize(head);
  auto head_floats = secagg::blob_floats(head_blob);
  if (!head_floats) return head_floats.error();
  std::vector<std::vector<std::uint64_t>> encoded;
  encoded.reserve(partners.size());
  std::uint64_t total_weight = 0;
  std::size_t clipped = 0, non_finite = 0;
  for (std::size_t p = 0; p < partners.size(); ++p) {
    const std::string who = "partner " + std::to_string(p + 1);
    const auto rows = partners[p].data ? partners[p].data->rows : 0;
    if (rows == 0 || rows > chain::kMaxRoundWeight) {
      return make_error(who + " holds " + std::to_string(rows) +
                        " training rows; a federated partner's weight must be between 1 and " +
                        std::to_string(chain::kMaxRoundWeight) + ".");
    }
    auto model = deserialize(head_blob, head.spec());
    if (!model) return model.error();
    TrainSettings settings = local;
    settings.seed = partners[p].seed;
    if (auto report = train(*model, *partners[p].data, settings); !report)
      return make_error(who + ": " + report.error().message);
    auto trained = secagg::blob_floats(serialize(*model));
    if (!trained) return trained.error();
    auto update = secagg::encode_update(*head_floats, *trained, rows);
    clipped += update.clipped;
    non_finite += update.non_finite;
    encoded.push_back(std::move(update.values));
    total_weight += rows;
  }
  const auto sum = secagg::plain_sum(encoded);
  const auto next = secagg::apply_aggregate(*head_floats, sum, total_weight);
  auto blob = secagg::blob_with_floats(head_blob, next);
  if (!blob) return blob.error();
  auto global = deserialize(*blob, head.spec());
  if (!global) return global.error();
  return FedAvgRound{std::move(global).value(), clipped, non_finite};
}

std::uint64_t sealed_size(std::uint64_t plaintext) {
  constexpr std::uint64_t kChunk = 1u << 20;
  const std::uint64_t chunks = plaintext == 0 ? 1 : (plaintext + kChunk - 1) / kChunk;
  return 56 + plaintext + 16 * chunks;
}

HospitalTraffic federated_traffic(std::size_t partners, std::size_t floats, std::size_t blob_bytes,
                                  int rounds) {
  const std::uint64_t n = partners;
  HospitalTraffic t;
  t.sent_per_round =
      secagg::masked_upload_size(floats) + (64 + chain::kShareBoxBytes * n + 64 * n) + 32 * n;
  t.received_per_round = sealed_size(blob_bytes);
  t.sent_total = t.sent_per_round * static_cast<std::uint64_t>(rounds);
  t.received_total = t.received_per_round * static_cast<std::uint64_t>(rounds);
  return t;
}

HospitalTraffic chained_traffic(std::size_t partners, std::size_t blob_bytes, int cycles) {
  HospitalTraffic t;
  t.sent_per_round = sealed_size(blob_bytes);
  t.received_per_round = sealed_size(blob_bytes);
  t.sent_total = t.sent_per_round * static_cast<std::uint64_t>(cycles);
  t.received_total =
      t.received_per_round * static_cast<std::uint64_t>(cycles) * (partners > 0 ? partners - 1 : 0);
  return t;
}

}  // namespace baton::learning

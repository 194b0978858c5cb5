// The privacy section of a training plan at the edge (issue 14,
// docs/PROTOCOL.md §18.1 "privacy" and §20.2): its protobuf fields 70..78,
// its JSON form and its bounds. Internal to the plan's decoders
// (chain/training_plan.h calls these); the rule it feeds is
// chain/privacy_budget.h.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "chain/privacy_budget.h"
#include "chain/proto/ledger.pb.h"
#include "chain/result.h"

namespace baton::chain {

// Bounds of the plan's privacy numbers besides the accountant's own (σ, q, δ:
// chain/privacy_accountant.h). C in (0, 1000]: it only scales the clipped
// gradients and the noise (σ·C), never ε, and a float32 model learns nothing
// from a per-sample gradient norm above 1000. β and Δ in (0, 10^6]: a wider
// interval or scale is no data a model can learn from. values_per_row in
// [1, 2^24]: a 3D volume of 256^3 values is the largest input Baton trains.
inline constexpr std::uint64_t kMaxClipMicro = 1'000'000'000;
inline constexpr std::uint64_t kMaxLocalScaleMicro = 1'000'000'000'000;
inline constexpr std::uint32_t kMaxValuesPerRow = 1u << 24;

// The privacy fields of `p` (70..78); an error naming the field when
// dp_mechanism is not 0, 1 or 2 (never truncated to the enum's byte).
Result<PrivacyPlan> privacy_from_proto(const pb::TrainingPlan& p);
// Sets fields 70..78 of `p` (all left at 0, so absent, when none).
void privacy_to_proto(const PrivacyPlan& plan, pb::TrainingPlan& p);

// Checks the privacy section of a plan with `cycles` cycles of `epochs`
// epochs (both already within the plan's bounds): none: every field 0.
// dp_sgd: σ, q, δ within the accountant's bounds, budget in [1,
// kMaxEpsilonMicro], C in [1, kMaxClipMicro] micro-units, the local fields 0,
// cycles × epochs × dp_steps_per_epoch(q) <= kMaxSteps (so no partner's steps
// ever pass the accountant's bound), and one epoch of a first turn within the
// budget. local: β and Δ in [1, kMaxLocalScaleMicro], values_per_row in [1,
// kMaxValuesPerRow], δ and the dp_sgd fields 0, budget in [1,
// kMaxEpsilonMicro] and ε_row within it. The last rule of each refuses a run
// that could never train. Costs one accountant call for dp_sgd. The error is
// one sentence naming the field as the JSON form spells it.
Status check_privacy(const PrivacyPlan& plan, std::uint32_t cycles, std::uint32_t epochs);

// The JSON form ("privacy" in a plan; docs/PROTOCOL.md §18.1): {"mechanism":
// "none"} or absent for no DP; dp_sgd: epsilon_budget, delta, clip,
// noise_multiplier, sampling_rate; local: epsilon_budget, beta, sensitivity,
// values_per_row; all required. Decimals become integers against the
// hospital: σ, δ, β and the budget down, q and Δ up, C to the nearest (a
// decimal within 10^-12 relative of a whole unit, as close as a double tells
// them apart, is that unit). An unknown mechanism or field, or a field of the
// other mechanism, is refused with a sentence naming it. Not bounds-checked:
// check_privacy does that.
Result<PrivacyPlan> decode_privacy_json(const nlohmann::json& j);
nlohmann::json privacy_to_json(const PrivacyPlan& plan);  // plan.enabled() only

}  // namespace baton::chain

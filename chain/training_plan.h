// The training plan at the edge: decoding (protobuf and JSON), the bounds on
// every value, and validation against the genesis. docs/PROTOCOL.md §18.1,
// "Plan bounds".
//
// A plan is the one protocol payload that sets how much every node will store
// and compute for a run (turns, deadlines, the spec it hashes into every state
// hash), and it comes from one admin. Each bound below is far beyond what a
// consortium needs and keeps a single StartRun (or genesis plan) from costing
// every node unbounded memory or time, from wedging the chain with a run that
// can never end, or from switching the vote off.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chain/genesis.h"
#include "chain/proto/ledger.pb.h"
#include "chain/result.h"
#include "chain/training.h"
#include "chain/vote_policy.h"

namespace baton::chain {

// cycles x partners: the turns of one run. A turn stays in the state for good.
inline constexpr std::uint64_t kMaxPlanTurns = 10'000;
inline constexpr std::uint32_t kMaxPlanEpochs = 10'000;
inline constexpr std::uint32_t kMaxPlanBatchSize = 1'000'000;
// Learning rate in (0, 10], weight decay in [0, 1], both in nano-units.
inline constexpr std::uint64_t kMaxLearningRateNano = 10'000'000'000;
inline constexpr std::uint64_t kMaxWeightDecayNano = 1'000'000'000;
// Every deadline in blocks: at least the number of validators (so a phase
// spans a block proposed by every validator when powers are equal, and no
// single proposer can censor it into expiry), at most ten million (115 days
// at one block a second), so that a run always ends.
inline constexpr std::uint64_t kMaxDeadlineBlocks = 10'000'000;
// Sizes of what the state keeps of a plan (and hashes at every block).
inline constexpr std::size_t kMaxModelSpecBytes = 65'536;
inline constexpr std::size_t kMaxFeatureColumns = 65'536;
inline constexpr std::size_t kMaxColumnNameBytes =
    256;  // each feature column, label, positive value
inline constexpr std::size_t kMaxOptimizerBytes = 32;
inline constexpr std::size_t kMaxPlanBytes = 1 << 20;  // the canonical pb::TrainingPlan
// The vote policy's kinds and the bounds of their parameters: chain/vote_policy.h.

// The optimizers the partner agents support (learning::parse_optimizer maps
// them). One list, torch-free: validate_plan refuses any other for a plan
// with a readiness phase (every plan made since issue 17), and `baton run
// start` checks it before signing.
inline constexpr std::array<std::string_view, 2> kAgentOptimizers{"adam", "sgd"};
bool known_optimizer(std::string_view name);
std::string known_optimizer_names();  // "adam or sgd"

// The readiness phase `baton run start` gives a plan that does not set
// deadlines.ready_blocks (docs/PROTOCOL.md §22.1): two minutes at a block a
// second, far more than an agent needs to load its data and build the model.
inline constexpr std::uint64_t kDefaultReadinessBlocks = 120;

// Checks `plan` against the genesis and the bounds above: a valid run id;
// partners distinct members holding role "partner", each with another member
// holding voting power; 1 <= cycles x partners <= kMaxPlanTurns; epochs,
// batch size, learning rate, weight decay and sizes within bounds; a known
// vote policy with a parameter that neither approves nor refuses everything;
// quorum 1/2 <= num/den < 1; every deadline between the number of validators
// (members with power > 0) and kMaxDeadlineBlocks. The error is one sentence
// naming the field as the plan's JSON form spells it ("deadlines.load_blocks").
Status validate_plan(const Genesis& genesis, const TrainingPlan& plan);

// pb::TrainingPlan -> a validated TrainingPlan (model_spec_hash computed), or
// validate_plan's error; a vote_policy that names no kind of kVotePolicies
// is refused, never truncated to a byte.
Result<TrainingPlan> plan_from_proto(const Genesis& genesis, const pb::TrainingPlan& p);
pb::TrainingPlan plan_to_proto(const TrainingPlan& plan);

// The JSON form (the genesis "training_plan" object, `baton run start
// --plan`; docs/PROTOCOL.md §18.1 has its fields) decoded into integers, or
// nullopt for an empty object; model_spec_hash computed. Not yet checked
// against a genesis: parse_genesis decodes the genesis plan with this and
// validate_genesis checks it, once. Errors name the field.
// `default_ready_blocks`: readiness_deadline_blocks when the JSON has no
// deadlines.ready_blocks (0 for a genesis plan, whose meaning never changes;
// kDefaultReadinessBlocks for a new plan of `baton run start`).
Result<std::optional<TrainingPlan>> decode_plan_json(const nlohmann::json& j,
                                                     std::uint64_t default_ready_blocks = 0);
// decode_plan_json, then validate_plan: a plan file for `baton run start`.
Result<std::optional<TrainingPlan>> plan_from_json(const Genesis& genesis, const nlohmann::json& j,
                                                   std::uint64_t default_ready_blocks = 0);
nlohmann::json plan_to_json(const TrainingPlan& plan);

// A fixed-point value as the shortest exact decimal, for error sentences:
// (1000000, 10^9) -> "0.001", (50000, 10^6) -> "0.05", (3, 1) -> "3".
// Pre: scale is a power of ten.
std::string fixed_point_decimal(std::uint64_t value, std::uint64_t scale);

}  // namespace baton::chain

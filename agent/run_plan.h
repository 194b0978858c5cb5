// A run's training plan as the partner agent uses it: parsed once, when the
// agent first sees the run, into typed values (issue 12). The ledger keeps
// the plan's model spec as opaque JSON and its optimizer as a name; the agent
// reads them here and nowhere else. Torch-free header.
#pragma once

#include <cstdint>

#include "chain/result.h"
#include "chain/training.h"
#include "chain/vote_policy.h"
#include "learning/model_spec.h"
#include "learning/train.h"

namespace baton::agent {

struct RunPlan {
  learning::ModelSpec spec;   // validated; binary; fits the plan's feature columns
  std::uint64_t sealed_size;  // bytes of the sealed blob of any model of `spec`
  // The plan's epochs, batch size, optimizer, learning rate and weight decay;
  // seed = plan.seed (a turn trains with seed + its index); threads: 1;
  // dp_sgd: the plan's DP-SGD settings (agent/turn_privacy.h) when its
  // privacy mechanism is dp_sgd (a turn may then train fewer epochs).
  learning::TrainSettings training;
  chain::VotePolicy vote_policy;
};

// Everything the agent needs of `plan`, or why this build cannot train it
// (learning::plan_model_spec's sentence, or an unknown optimizer).
// `chunk_size`: the vault chunk size blobs are sealed with.
Result<RunPlan> parse_run_plan(const chain::TrainingPlan& plan, std::uint32_t chunk_size);

}  // namespace baton::agent

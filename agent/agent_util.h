// Internal to the partner agent's .cpp files (agent.cpp, agent_train.cpp,
// agent_vote.cpp): small helpers and the view one step works on.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "chain/crypto.h"
#include "chain/training.h"
#include "agent/agent.h"
#include "agent/model_handoff.h"
#include "agent/save_vote.h"

namespace baton::agent::agent_detail {

using Clock = std::chrono::steady_clock;

inline std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The 32 raw bytes of an id, or empty for none (the protobuf encoding).
inline std::string id_bytes(const std::optional<chain::Hash>& h) {
  return h ? std::string(reinterpret_cast<const char*>(h->bytes.data()), h->bytes.size())
           : std::string();
}

inline std::string short_hex(const std::optional<chain::Hash>& h) {
  return h ? h->hex().substr(0, 12) : std::string("initial model");
}

// The model id of turn `turn`'s candidate in its blob binding and object key:
// "turn-N"; in a federated run "turn-N-AGGREGATOR" (the partner that sent the
// round's SaveRequest), so that two partners aggregating one round never
// overwrite each other's blob.
inline std::string candidate_model_id(const chain::TrainingPlan& plan, std::uint64_t turn,
                                      const std::string& author) {
  std::string id = "turn-" + std::to_string(turn);
  if (plan.federated()) id += "-" + author;
  return id;
}

// Where turn `turn`'s candidate must live: runs/RUN/models/<candidate_model_id>.blob.
inline std::string expected_object_key(const chain::TrainingPlan& plan, std::uint64_t turn,
                                       const std::string& author) {
  auto key = model_object_key(plan.run_id, candidate_model_id(plan, turn, author));
  return key ? *key : std::string();
}

inline bool is_approved_object(const chain::TrainingState& state, const std::string& key) {
  for (const auto& [id, run] : state.runs)
    for (const auto& m : run.models)
      if (m.object_key == key) return true;
  return false;
}

// The key of a model's measure on the local validation file: "RUN/<model
// SHA-256 hex>", or "RUN/initial" for the plan's initial model.
inline std::string evaluation_key(const std::string& run_id,
                                  const std::optional<chain::Hash>& model_sha256) {
  return run_id + "/" + (model_sha256 ? model_sha256->hex() : std::string("initial"));
}

// "hash_mismatch: <message>" for a hand-off error.
inline std::string handoff_reason(const Error& e) {
  return clip_reason(std::string(handoff_errc_name(static_cast<HandoffErrc>(e.code))) + ": " +
                     e.message);
}

}  // namespace baton::agent::agent_detail

namespace baton::agent {

struct PartnerAgent::Step {
  std::uint64_t height;
  const chain::TrainingState& state;
  const chain::Run& run;
  const chain::Turn& turn;
  std::string tag() const {
    return "turn " + std::to_string(turn.index) + " of " + run.plan.run_id;
  }
};

}  // namespace baton::agent

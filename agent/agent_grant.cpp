// The partner agent's side of the model release (issue 13): after the
// sponsor's ReleaseEscrow commits, a member holding the final model's key
// grants it to the sponsor (agent/key_grant.h decides; this file does).
#include <algorithm>

#include "agent/agent.h"
#include "agent/agent_util.h"
#include "agent/key_grant.h"

namespace baton::agent {

void PartnerAgent::grant_released_models(std::uint64_t height, const chain::TrainingState& state) {
  for (const auto& [id, run] : state.runs) {
    if (stopping_.load()) return;
    const JournalGrant* journaled = journal_.grant(id);
    const GrantStep step =
        key_grant_step(run, members_, options_.member_name, journaled != nullptr);
    if (const auto* nothing = std::get_if<GrantNothing>(&step)) {
      if (nothing->why == GrantWait::refused) {
        log_once("grant-refused/" + id, spdlog::level::warn,
                 "run " + id +
                     ": the ledger refused this member's key grant to the sponsor (see `baton "
                     "run status`); it is not sent again");
      } else if (nothing->why == GrantWait::not_a_sponsor) {
        log_once("grant-not-sponsor/" + id, spdlog::level::err,
                 "run " + id + ": the plan's sponsor \"" + run.plan.sponsor +
                     "\" is not a member of the ledger with role sponsor; no key is granted");
      }
      continue;
    }
    const Grant& g = std::get<Grant>(step);
    if (journaled != nullptr &&
        (journaled->model_id != g.model_id.hex() || journaled->recipient != g.sponsor)) {
      // The final model and the sponsor never change after a release; a
      // journal that says otherwise is not this ledger's.
      log_once("grant-journal/" + id, spdlog::level::err,
               "run " + id + ": the journal's key grant names model " + journaled->model_id +
                   " for " + journaled->recipient + ", not the ledger's final model " +
                   g.model_id.hex() + " for " + g.sponsor + "; no key is granted");
      continue;
    }
    if (journaled == nullptr) {
      const auto sponsor =
          std::find_if(members_.begin(), members_.end(),
                       [&](const chain::GenesisMember& m) { return m.name == g.sponsor; });
      auto payload = make_key_grant(run, options_.member_name, *options_.x25519, *sponsor);
      if (!payload) {
        log_once("grant-make/" + id, spdlog::level::err,
                 "run " + id + ": cannot grant the final model's key to " + g.sponsor + ": " +
                     payload.error().message);
        continue;
      }
      // Journaled before it is first sent: a restart resends these bytes and
      // never seals a second grant.
      if (auto st = journal_.put_grant({id, g.model_id.hex(), g.sponsor, std::move(*payload)});
          !st) {
        journal_failed("cannot write the agent journal: " + st.error().message);
        continue;
      }
      journaled = journal_.grant(id);
    }
    submit(height, state, "grant/" + id, chain::pb::TX_KEY_GRANT, journaled->payload,
           "run " + id + ": granted the final model's key to the sponsor " + g.sponsor);
  }
}

}  // namespace baton::agent

#include "agent/key_grant.h"

#include <algorithm>

#include "agent/agent_keys.h"
#include "chain/proto/ledger.pb.h"
#include "storage/envelope.h"

namespace baton::agent {

std::string_view to_string(GrantWait why) {
  switch (why) {
    case GrantWait::not_sponsored:
      return "not_sponsored";
    case GrantWait::not_released:
      return "not_released";
    case GrantWait::no_final_model:
      return "no_final_model";
    case GrantWait::not_a_sponsor:
      return "not_a_sponsor";
    case GrantWait::not_key_holder:
      return "not_key_holder";
    case GrantWait::granted:
      return "granted";
    case GrantWait::refused:
      return "refused";
  }
  return "unknown";
}

GrantStep key_grant_step(const chain::Run& run, const std::vector<chain::GenesisMember>& members,
                         const std::string& me, bool journaled) {
  if (run.plan.sponsor.empty() || !run.escrow) return GrantNothing{GrantWait::not_sponsored};
  // Only the sponsor's own release hands the model over: not an open escrow,
  // and never one paid out at its deadline or refunded.
  if (run.escrow->state != chain::EscrowState::released)
    return GrantNothing{GrantWait::not_released};
  const chain::SaveRecord* save = run.head ? chain::find_save(run, *run.head) : nullptr;
  if (save == nullptr) return GrantNothing{GrantWait::no_final_model};
  auto sponsor = std::find_if(members.begin(), members.end(),
                              [&](const auto& m) { return m.name == run.plan.sponsor; });
  if (sponsor == members.end() || !sponsor->has_role(chain::kRoleSponsor))
    return GrantNothing{GrantWait::not_a_sponsor};
  if (!save->wrapped_keys.contains(me)) return GrantNothing{GrantWait::not_key_holder};
  if (run.escrow->key_grants.contains(me)) return GrantNothing{GrantWait::granted};
  const auto& kept = run.refusals.recent;
  if (std::any_of(kept.begin(), kept.end(), [&](const chain::Refusal& r) {
        return r.sender == me && r.type == chain::pb::TX_KEY_GRANT;
      }))
    return GrantNothing{GrantWait::refused};
  return Grant{*run.head, run.plan.sponsor, journaled};
}

Result<std::string> make_key_grant(const chain::Run& run, const std::string& me,
                                   const chain::X25519SecretKey& my_secret,
                                   const chain::GenesisMember& sponsor) {
  const chain::SaveRecord* save = run.head ? chain::find_save(run, *run.head) : nullptr;
  if (save == nullptr) return make_error("run " + run.plan.run_id + " has no final model to grant");
  auto envelope = envelope_for_member(*save, me, my_secret.public_key());
  if (!envelope) return envelope.error();
  // unwrap() checks the opened key against the SaveRequest's commitment: a
  // wrong key is never passed on.
  auto key = storage::unwrap(*envelope, my_secret);
  if (!key) {
    return make_error("cannot open this member's data key of the final model of " +
                      run.plan.run_id + ": " + key.error().message);
  }
  const storage::WrappedKey sealed = storage::wrap_key_for(*key, sponsor.name, sponsor.x25519);
  chain::pb::KeyGrant g;
  g.set_run_id(run.plan.run_id);
  g.set_model_id(
      std::string(reinterpret_cast<const char*>(run.head->bytes.data()), run.head->bytes.size()));
  g.set_recipient(sponsor.name);
  g.set_wrapped_key(
      std::string(reinterpret_cast<const char*>(sealed.sealed.data()), sealed.sealed.size()));
  g.set_key_commitment(std::string(reinterpret_cast<const char*>(save->key_commitment.bytes.data()),
                                   save->key_commitment.bytes.size()));
  return g.SerializeAsString();
}

}  // namespace baton::agent

// The final model's data key for the sponsor (issue 13, docs/PROTOCOL.md
// §19.8): what a partner agent does once a sponsor released a run's escrow.
//
// Decide, then do. key_grant_step() is the pure decision for one run: given
// the committed run, this member's name, the genesis members and what the journal
// holds, grant (build a KeyGrant), resend the journaled one, or nothing, and
// why. make_key_grant() builds the KeyGrant's payload: this member's wrapped
// key from the final SaveRequest, opened with its X25519 secret and checked
// against the SaveRequest's key commitment, sealed again (libsodium sealed
// box, as every wrapped key) to the sponsor's genesis X25519 key. The agent
// (agent_grant.cpp) journals the payload before it first sends it.
//
//   run                                         this member              step
//   -----------------------------------------   ----------------------   -----------------------
//   no sponsor in the plan                      anyone                   Wait{not_sponsored}
//   escrow open, paid at the deadline,          anyone                   Wait{not_released}
//     refunded (only the sponsor's release
//     hands the model over)
//   released, no approved model                 anyone                   Wait{no_final_model}
//   released, the plan's sponsor is not a       anyone                   Wait{not_a_sponsor}
//     genesis member with role sponsor
//   released                                    not among the final      Wait{not_key_holder}
//                                                 SaveRequest's key
//                                                 recipients
//   released                                    its grant on the ledger  Wait{granted}
//   released                                    a grant of its refused   Wait{refused}
//                                                 (logged, never retried)
//   released                                    grant journaled          Grant{journaled = true}
//   released                                    key holder               Grant{journaled = false}
//
// Every key holder grants once (one grant is enough; each holder sending one
// keeps a holder that seals garbage from keeping the model from the
// sponsor, whose client tries each grant against the commitment). The
// recipient is always the run's plan's sponsor, never anyone a message
// names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "chain/genesis.h"
#include "chain/keys.h"
#include "chain/result.h"
#include "chain/training.h"

namespace baton::agent {

enum class GrantWait : std::uint8_t {
  not_sponsored,   // the plan names no sponsor
  not_released,    // the escrow is not released by the sponsor (yet, or ever)
  no_final_model,  // the run approved no model: nothing to grant
  not_a_sponsor,   // the plan's sponsor is not a genesis member with role sponsor
  not_key_holder,  // the final SaveRequest wraps no key for this member
  granted,         // the ledger holds this member's grant
  refused,         // the ledger refused this member's grant; not sent again
};
std::string_view to_string(GrantWait why);

// Grant the final model's key to `sponsor`. journaled: resend the journal's
// bytes (the same grant), else build one.
struct Grant {
  chain::Hash model_id;
  std::string sponsor;
  bool journaled = false;
  bool operator==(const Grant&) const = default;
};

struct GrantNothing {
  GrantWait why = GrantWait::not_sponsored;
  bool operator==(const GrantNothing&) const = default;
};

using GrantStep = std::variant<GrantNothing, Grant>;

// The table above, for `run` as committed. `journaled`: the agent's journal
// holds a KeyGrant of this member for this run.
GrantStep key_grant_step(const chain::Run& run, const std::vector<chain::GenesisMember>& members,
                         const std::string& me, bool journaled);

// The serialized KeyGrant of member `me` for `run`'s final model to the
// run's sponsor (`sponsor`: its genesis entry). Fails (a sentence) when the
// run has no final SaveRequest, it wraps no key for `me`, or the wrapped key
// does not open with `my_secret` or does not match the key commitment.
Result<std::string> make_key_grant(const chain::Run& run, const std::string& me,
                                   const chain::X25519SecretKey& my_secret,
                                   const chain::GenesisMember& sponsor);

}  // namespace baton::agent

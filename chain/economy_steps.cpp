#include "chain/economy_steps.h"

namespace baton::chain {

Verdict<CheckedTx, ProtocolRejected> check(const ChainSpec& spec, const TrainingState& ts,
                                           const ProtocolSender& sender, const pb::Transfer& t) {
  if (t.amount() == 0) return ProtocolRejected::zero_amount;
  if (spec.genesis.find_member(t.to()) == nullptr) return ProtocolRejected::unknown_recipient;
  if (ts.accounts.balance(sender.name) < t.amount()) return ProtocolRejected::insufficient_balance;
  return CheckedTx{};
}

void apply_transfer(TrainingState& ts, const ProtocolSender& sender, const pb::Transfer& t) {
  debit(ts.accounts, sender.name, t.amount());
  credit(ts.accounts, t.to(), t.amount());
}

}  // namespace baton::chain

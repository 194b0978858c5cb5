#include "chain/account_history.h"

#include <cctype>
#include <optional>
#include <utility>

#include "chain/encoding.h"
#include "chain/membership.h"
#include "chain/transaction.h"

namespace baton::chain {
namespace {

std::string kind_of(const BlockStep& step) {
  if (step.kind == BlockStep::Kind::begin_block) return "genesis";  // only block 1 credits
  if (step.kind == BlockStep::Kind::end_block) return "end_block";
  std::string name = pb::TxType_Name(step.tx->type());
  if (name.rfind("TX_", 0) == 0) name = name.substr(3);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// During a block the members are the set after the block before (§25).
std::string sender_name(const ChainSpec& spec, const LedgerState& state,
                        const pb::Transaction& tx) {
  auto key = PublicKey::from_bytes(as_bytes(tx.sender()));
  const Validator* m = key ? current_validators(spec, state).find(*key) : nullptr;
  return m == nullptr ? std::string() : m->name;
}

std::string counterparty_of(const ChainSpec& spec, const LedgerState& state, const BlockStep& step,
                            const std::string& member) {
  if (step.kind == BlockStep::Kind::begin_block) return "genesis";
  if (step.kind == BlockStep::Kind::end_block) return {};
  const pb::Transaction& tx = *step.tx;
  if (tx.type() == pb::TX_TRANSFER) {
    pb::Transfer t;
    if (!parse_canonical(tx.payload(), t)) return {};
    const std::string sender = sender_name(spec, state, tx);
    return member == sender ? t.to() : sender;
  }
  if (tx.type() == pb::TX_FUND_RUN) {
    pb::FundRun f;
    return parse_canonical(tx.payload(), f) ? "run:" + f.run_id() : std::string();
  }
  if (tx.type() == pb::TX_RELEASE_ESCROW) {
    pb::ReleaseEscrow r;
    return parse_canonical(tx.payload(), r) ? "run:" + r.run_id() : std::string();
  }
  return {};
}

// A deposit's effect on `member` in the step at `height`, if the credits
// moved were one (docs/PROTOCOL.md §19.9): the kind and counterparty to
// record instead of the step's. Looks at the turns that ended at `height`
// (a step ends at most a few; scanned from the newest).
std::optional<std::pair<std::string, std::string>> stake_entry(const TrainingState& ts,
                                                               const BlockStep& step,
                                                               const std::string& member,
                                                               bool credit) {
  if (!credit) {
    if (step.tx != nullptr && step.tx->type() == pb::TX_LOAD_REQUEST) {
      pb::LoadRequest r;
      if (parse_canonical(step.tx->payload(), r))
        return std::pair<std::string, std::string>{"deposit_locked", "run:" + r.run_id()};
    }
    return std::nullopt;
  }
  for (const auto& [id, run] : ts.runs) {
    if (!run.plan.has_stakes()) continue;
    for (auto it = run.turns.rbegin(); it != run.turns.rend(); ++it) {
      if (it->outcome == TurnOutcome::pending) continue;  // the turn that began after
      if (it->end_height < step.height) break;
      if (it->end_height != step.height || !it->stake.settled) continue;
      if (it->stake.forfeits.contains(member))
        return std::pair<std::string, std::string>{"deposit_forfeit", it->partner};
      if (it->partner == member && it->stake.refunded > 0)
        return std::pair<std::string, std::string>{"deposit_refund", "run:" + id};
    }
  }
  return std::nullopt;
}

}  // namespace

AccountHistory::AccountHistory(const ChainSpec& spec, std::string member)
    : spec_(spec), member_(std::move(member)) {}

Verdict<LedgerState, BlockFault> AccountHistory::apply(const LedgerState& before,
                                                       const DecodedBlock& block) {
  std::vector<AccountEntry> found;
  Accounts last = before.training.accounts;
  auto observer = [&](const BlockStep& step, const LedgerState& state) {
    const Accounts& now = state.training.accounts;
    if (now == last) return;
    // Every member whose balance differs, in name order (both maps are ordered).
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> changed;
    for (const auto& [name, b] : last.balances) changed[name].first = b;
    for (const auto& [name, b] : now.balances) changed[name].second = b;
    for (const auto& [name, ba] : changed) {
      const auto [was, is] = ba;
      if (was == is || (!member_.empty() && name != member_)) continue;
      AccountEntry e;
      e.height = step.height;
      e.member = name;
      e.credit = is > was;
      e.amount = is > was ? is - was : was - is;
      e.balance_after = is;
      e.kind = kind_of(step);
      e.counterparty = counterparty_of(spec_, state, step, name);
      if (auto stake = stake_entry(state.training, step, name, e.credit)) {
        e.kind = stake->first;
        e.counterparty = stake->second;
      }
      if (step.tx != nullptr) e.tx_hash = tx_hash(encode_transaction(*step.tx));
      found.push_back(std::move(e));
    }
    last = now;
  };
  auto after = apply_block(spec_, before, block, observer);
  if (after) entries_.insert(entries_.end(), found.begin(), found.end());
  return after;
}

}  // namespace baton::chain

#include "chain/deposit_steps.h"

#include <cstdlib>

namespace baton::chain {

std::map<std::string, std::uint64_t> split_credits(std::uint64_t amount,
                                                   const std::vector<std::string>& names) {
  if (names.empty()) std::abort();  // callers pass the voters a decision needed
  std::map<std::string, std::uint64_t> out;
  const std::uint64_t n = names.size(), share = amount / n, extra = amount % n;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t credits = share + (i < extra ? 1 : 0);
    if (credits > 0) out[names[i]] = credits;
  }
  return out;
}

void lock_stake(Accounts& accounts, Run& run, Turn& t) {
  if (!run.plan.has_stakes()) return;
  t.stake = Stake{};
  t.stake.deposit = required_deposit(run, t.partner);
  t.stake.cost = run.plan.submission_cost;
  debit(accounts, t.partner, t.stake.deposit + t.stake.cost);  // checked: both <= 10^15
}

void pay_submission_cost(Run& run, Turn& t) {
  if (t.stake.cost == 0) return;
  if (!run.escrow) std::abort();       // validate_plan: a cost needs a sponsor
  run.escrow->funded += t.stake.cost;  // conserved credits: cannot overflow
  t.stake.escrowed = t.stake.cost;
}

namespace {

template <class Votes, class Pick>
std::vector<std::string> voters(const Votes& votes, Pick pick) {
  std::vector<std::string> out;
  for (const auto& [name, v] : votes)  // ascending names
    if (pick(v)) out.push_back(name);
  return out;
}

}  // namespace

void settle_stake(Accounts& accounts, Run& run, Turn& t, TurnOutcome outcome) {
  if (!run.plan.has_stakes() || !t.load_request_id || t.stake.settled) return;
  Stake& s = t.stake;
  std::uint64_t forfeit = 0;
  std::vector<std::string> takers;
  if (outcome == TurnOutcome::rejected && t.save) {
    forfeit = s.deposit;
    takers = voters(t.model_votes, [](const ModelVoteRecord& v) { return !v.approve; });
  } else if (outcome == TurnOutcome::expired && t.phase == TurnPhase::training) {
    forfeit = s.deposit - s.deposit / 2;
    takers = voters(t.load_approvals, [](const ApprovalRecord& a) { return a.approve; });
  }
  // A decision always has a voter on its side; never forfeit to nobody.
  if (takers.empty()) forfeit = 0;
  if (forfeit > 0) {
    s.forfeits = split_credits(forfeit, takers);
    for (const auto& [name, credits] : s.forfeits) credit(accounts, name, credits);
  }
  s.refunded = s.locked();
  credit(accounts, t.partner, s.refunded);
  s.settled = true;
}

}  // namespace baton::chain

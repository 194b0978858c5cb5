// The adversarial simulation (issue 13): whole training runs in one process,
// driven through the real ledger. A genesis with N members and their keys
// holds the run's plan; every LoadRequest, LoadApproval, SaveRequest and
// ModelVote is a signed transaction applied by chain::propose_block (the
// block application every node runs: check_transaction, apply_protocol_tx,
// begin_block, end_block); honest voters decide with agent::decide_save_vote
// (chain::policy_approves underneath), and every vote, honest or lying, must
// pass the ledger's chain::vote_follows_policy. Nothing here re-implements a
// ledger rule: turns, quorum, refusals (duplicate_model), contributivity and
// (once chain/ has them) balances are read back from the LedgerState.
//
// What is simulated and not real: blobs are not sealed or stored (the chain
// never opens one); the SaveRequest carries a well-formed object key, hashes,
// key commitment and one kWrappedKeyBytes placeholder per member, and the
// voters score the in-process model whose serialize() hashes to its
// model_sha256. Pure computation apart from LibTorch: no files, no network.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/ledger_state.h"
#include "chain/result.h"
#include "chain/vote_policy.h"
#include "learning/dataset.h"
#include "learning/model_spec.h"
#include "learning/train.h"

namespace baton::agent {

// How a member behaves. Honest members train on their own rows and vote on
// their own validation rows with the plan's policy.
enum class Behaviour : std::uint8_t {
  honest = 0,
  label_flip,        // trains on its rows with every label flipped; votes honestly
  random_weights,    // submits a freshly initialised model; votes honestly
  free_rider,        // resubmits the head's model_sha256 (the ledger: duplicate_model)
  free_rider_noise,  // submits the head plus N(0, noise_sigma) on every weight
  poison,            // flips the labels of poison_fraction of its training rows
  colluder,          // trains on flipped labels and approves fellow colluders' candidates,
                     //   lying about the AUCs so that the vote follows the policy
  rival,             // trains honestly, rejects every other member's candidate,
                     //   claiming candidate AUC 0 (and p 0) so that the vote follows the policy
  reseal,            // re-seals an existing model (a competitor's rejected candidate, else
                     //   the head): new ciphertext, the same model_sha256
};

// "label_flip", ...; from_name: nullopt for an unknown name.
std::string_view to_string(Behaviour b);
std::optional<Behaviour> behaviour_from_name(std::string_view name);
// Every adversarial behaviour, in the order above (honest excluded).
std::vector<Behaviour> adversary_kinds();
// The enum's name of a refusal reason ("duplicate_model"), for tables.
std::string_view refusal_name(chain::ProtocolRejected reason);

struct SimConfig {
  std::size_t members = 4;  // partners = validators of equal power 1, names hospital-1..N
  Behaviour adversary = Behaviour::honest;
  std::size_t adversaries = 0;  // members 2, 4, 6, ... (1-based) behave as `adversary`
  chain::VotePolicy policy;     // strict, tolerance e, delong a
  std::uint32_t cycles = 2;
  learning::TrainSettings train;  // epochs = local epochs per visit (as the plan's epochs)
  std::vector<int> hidden = {16};
  std::uint64_t seed = 1;             // plan seed: initial weights, partition, batch orders
  double validation_fraction = 0.25;  // of each member's rows, kept for its votes
  double poison_fraction = 0.4;
  double noise_sigma = 1e-3;
  // Genesis allocations (credits, chain/accounts.h) of honest members and of
  // adversaries.
  std::uint64_t honest_balance = 0;
  std::uint64_t adversary_balance = 0;
  // The plan's deposits (docs/PROTOCOL.md §19.9). A submission cost needs an
  // escrow: then the genesis holds a member "sponsor" (no power, no credits)
  // that the plan names, and the escrow, fed by the costs alone, is paid out
  // to the partners by their tokens at its release deadline.
  std::uint64_t submission_cost = 0;
  std::uint64_t deposit = 0;
  std::uint32_t deposit_factor = 0;  // 0 with a deposit: 1 (never grows)
};

// One member's account after the run, all read from the ledger state.
struct AccountResult {
  std::string name;
  Behaviour behaviour = Behaviour::honest;
  std::int64_t tokens_ppm = 0;  // run.contributivity_ppm (today's on-chain tokens)
  std::size_t turns = 0, approved = 0, rejected = 0, expired = 0;
  std::size_t skipped = 0;  // turns ended at once: suspended or cannot_pay (§19.9)
  // The run's turn index of its first cannot_pay turn: its balance could no
  // longer pay the stake (turns-to-exhaustion); nullopt: never.
  std::optional<std::uint64_t> exhausted_turn;
  std::size_t refused_txs = 0;  // its transactions the ledger refused (any reason)
  // The member's balance in credits at the end, from the ledger's accounts
  // (ledger_balance() is the one place money is read).
  std::uint64_t balance = 0;
};

struct SimResult {
  std::vector<AccountResult> accounts;  // member order
  // Refused transactions by reason, from the run's refusal log (the ledger
  // keeps the last chain::kMaxRefusalsKept; a simulated run has far fewer).
  std::map<chain::ProtocolRejected, std::size_t> refusals;
  std::size_t turns = 0, approved = 0, rejected = 0, expired = 0;
  std::size_t blocks = 0;
  // Credits paid out of the escrow to the sponsor (the remainder, or all of
  // it when no partner earned tokens); 0 without a submission cost.
  std::uint64_t sponsor_balance = 0;
  std::vector<double> test_scores;  // the final head's P(positive) per test row
  double auc = 0, ci_low = 0, ci_high = 0;
  chain::LedgerState state;  // the final ledger state (for tests and further reads)
};

// A binary view of `data`: multi-class sets (iris) become "class `positive`
// vs the rest" (the partner agent votes on binary AUCs only); binary sets are
// returned unchanged. Pre: data.train.num_classes >= 2.
learning::PreparedData binary_view(const learning::PreparedData& data, int positive);

// Runs one whole run. Errors: too few members (< 2) or more adversaries than
// members - 1, a partner too small to hold both classes in its validation
// rows, a training failure, a ledger refusal of a block (a bug here).
Result<SimResult> simulate(const learning::PreparedData& data, const SimConfig& config);

// The balance of `member` in the ledger state (chain::Accounts; 0 when it
// holds none). The one place the simulation reads money: deposits and
// submission costs, once the ledger takes them, show here without a change.
std::uint64_t ledger_balance(const chain::LedgerState& state, std::string_view member);

// Exact Shapley values of the members (N <= 8): value(S) = test AUC of the
// model that S's members train along the plan's order (cycles as planned,
// each with its behaviour's training, no votes), value({}) = the initial
// model's AUC. 2^N chains, each |S| x cycles trainings.
Result<std::vector<double>> shapley_values(const learning::PreparedData& data,
                                           const SimConfig& config);

}  // namespace baton::agent

// baton-bench-protocol [--runs R] [--turns-per-run T] [--txs K] [--repeat N]
//
// What a block of refused protocol transactions costs a node on a long
// training history (issue 11, section 5). The ledger state holds R runs of T
// expired turns each (every turn with a LoadRequest that got no votes, as a
// wedged or attacked run leaves them); the last run is active, its current
// turn waiting for LoadApprovals. A member then fills a block with K
// LoadApprovals naming request ids that are not open: every one is refused
// (no_open_request) and recorded.
//
// Prints the median over N repeats of
//   1. apply_block of an empty block (what every block costs on this history:
//      the state copy, end_block and the state hash);
//   2. apply_block of the block of K refused transactions (what a validator
//      pays; the signatures were checked before, as check_block_stateless
//      does, and are not timed);
//   3. the K transactions alone (apply_transaction + apply_protocol_tx on a
//      copy of the state made outside the timed part);
//   4. K calls of check_protocol_tx on the state (what a mempool pays to ask
//      whether each would be refused).
// Uses only chain/'s public API, so the same file builds against an older
// chain/ for an old-versus-new comparison (docs/BENCHMARKS.md says how).
#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_help.h"
#include "chain/chain_spec.h"
#include "chain/crypto.h"
#include "chain/genesis.h"
#include "chain/keys.h"
#include "chain/protocol.h"
#include "chain/transaction.h"
#include "chain/validation.h"

namespace {

using namespace baton;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "baton-bench-protocol: %s\n", why.c_str());
  std::exit(1);
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// A hash that is different for every (tag, n): stands for a tx hash.
chain::Hash made_up_hash(std::uint8_t tag, std::uint64_t n) {
  chain::Bytes b{tag};
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  return chain::sha256(chain::ByteView(b));
}

std::string hash_bytes(const chain::Hash& h) {
  return {reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size()};
}

// R runs of T turns, the last one active with its current turn in
// load_voting; every earlier turn expired after an unanswered LoadRequest.
// Built directly (replaying hundreds of thousands of blocks would take hours):
// the shape is what blocks of the real state machine leave behind.
chain::TrainingState long_history(const std::vector<std::string>& partners, std::uint64_t runs,
                                  std::uint64_t turns_per_run, std::uint64_t& height) {
  chain::TrainingState ts;
  height = 1;
  for (std::uint64_t r = 0; r < runs; ++r) {
    chain::Run run;
    run.plan.run_id = "run-" + std::to_string(r);
    run.plan.model_spec =
        R"({"architecture":"mlp","hidden":[8],"input_shape":[4],"num_classes":2})";
    run.plan.model_spec_hash = chain::sha256(run.plan.model_spec);
    run.plan.feature_columns = {"a", "b", "c", "d"};
    run.plan.label_column = "y";
    run.plan.positive_value = "1";
    run.plan.partners = partners;
    run.plan.cycles = static_cast<std::uint32_t>(turns_per_run / partners.size() + 1);
    run.started_by = "genesis";
    run.start_height = height;
    for (const auto& p : partners) run.contributivity_ppm[p] = 0;
    const bool active = r + 1 == runs;
    for (std::uint64_t i = 0; i < turns_per_run; ++i) {
      chain::Turn t;
      t.index = i;
      t.cycle = i / partners.size();
      t.partner = partners[i % partners.size()];
      t.start_height = height;
      t.load_request_id = made_up_hash(static_cast<std::uint8_t>(r), i);
      t.load_request_height = height + 1;
      t.phase = chain::TurnPhase::load_voting;
      if (active && i + 1 == turns_per_run) {
        t.partner = partners[0];
        t.deadline_height = height + 1'000'000;  // stays open through the bench
      } else {
        t.phase = chain::TurnPhase::done;
        t.outcome = chain::TurnOutcome::expired;
        t.deadline_height = height + 4;
        t.end_height = height + 4;
        height += 4;
      }
      run.turns.push_back(std::move(t));
    }
    if (active) {
      ts.active_run = run.plan.run_id;
    } else {
      run.status = chain::RunStatus::finished;
      run.end_height = height;
    }
    ts.runs.emplace(run.plan.run_id, std::move(run));
  }
  return ts;
}

template <class F>
double median_ms(int repeat, F&& f) {
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    const auto t = Clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  baton::bench::answer_version(argc, argv, "baton-bench-protocol");
  baton::bench::answer_help(argc, argv,
                            "usage: baton-bench-protocol [--runs R] [--turns-per-run T] [--txs K] "
                            "[--repeat N]\nWhat a block of refused protocol transactions costs a "
                            "node on a long training history; prints figures, asserts nothing.\n");
  std::uint64_t runs = 10, turns_per_run = 10'000, txs = 500;
  int repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], v = argv[i + 1];
    if (flag == "--runs")
      runs = std::stoull(v);
    else if (flag == "--turns-per-run")
      turns_per_run = std::stoull(v);
    else if (flag == "--txs")
      txs = std::stoull(v);
    else if (flag == "--repeat")
      repeat = std::stoi(v);
    else
      die("unknown flag " + flag);
  }
  if (runs == 0 || turns_per_run == 0 || repeat <= 0) die("runs, turns and repeat must be >= 1");

  utsname u{};
  ::uname(&u);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("machine: %u hardware threads, %s %s; load average %s\n",
              std::thread::hardware_concurrency(), u.sysname, u.release, load_average().c_str());

  // Four hospitals; hospital-0 is the admin and the active turn's partner.
  chain::Genesis genesis;
  genesis.chain_id = "bench-chain";
  genesis.genesis_time_unix_ms = 1795478400000;
  std::vector<chain::SigningKey> keys;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < 4; ++i) {
    const auto k = chain::generate_member_keys("hospital-" + std::to_string(i));
    keys.push_back(k.signing);
    names.push_back(k.name);
    chain::GenesisMember m;
    m.name = k.name;
    m.ed25519 = k.signing.public_key();
    m.x25519 = k.x25519.public_key();
    m.p2p_address = "127.0.0.1:1";
    m.power = 1;
    m.roles = {"validator", "partner"};
    if (i == 0) m.roles.insert(m.roles.begin(), "admin");
    genesis.members.push_back(m);
  }
  auto spec = chain::load_chain_spec(chain::encode_genesis(genesis));
  if (!spec) die(spec.error().message);

  chain::LedgerState state = chain::initial_state(spec->genesis_hash);
  state.training = long_history(names, runs, turns_per_run, state.height);
  const std::string active_run = *state.training.active_run;
  std::printf("history: %llu runs x %llu turns = %llu turns; training encoding %.1f MB\n",
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(turns_per_run),
              static_cast<unsigned long long>(runs * turns_per_run),
              static_cast<double>(chain::training_encoding(state.training).size()) / 1e6);

  // K LoadApprovals from hospitals 1..3 for request ids nobody made.
  std::vector<std::string> refused;
  std::vector<chain::pb::Transaction> refused_txs;
  for (std::uint64_t i = 0; i < txs; ++i) {
    chain::pb::LoadApproval a;
    a.set_run_id(active_run);
    a.set_request_id(hash_bytes(made_up_hash(0xee, i)));
    a.set_approve(true);
    const std::size_t sender = 1 + i % 3;
    auto tx = chain::make_transaction(spec->network(), keys[sender], 1 + i / 3,
                                      chain::pb::TX_LOAD_APPROVAL, a.SerializeAsString());
    refused.push_back(chain::encode_transaction(tx));
    refused_txs.push_back(std::move(tx));
  }

  auto decoded_block = [&](std::vector<std::string> body) {
    auto proposal =
        chain::propose_block(*spec, state, 1795478400000, keys[0].public_key(), std::move(body));
    if (!proposal) die("propose_block: " + proposal.reason().message());
    auto decoded = chain::check_block_stateless(*spec, proposal->block);
    if (!decoded) die("check_block_stateless: " + decoded.reason().message());
    return std::move(decoded).value();
  };
  const chain::DecodedBlock empty = decoded_block({});
  const chain::DecodedBlock full = decoded_block(refused);

  chain::LedgerState after;
  const double empty_ms = median_ms(repeat, [&] {
    auto r = chain::apply_block(*spec, state, empty);
    if (!r) die("apply_block (empty): " + r.reason().message());
    after = std::move(r).value();
  });
  const double full_ms = median_ms(repeat, [&] {
    auto r = chain::apply_block(*spec, state, full);
    if (!r) die("apply_block: " + r.reason().message());
    after = std::move(r).value();
  });
  std::uint64_t refusals = after.training.find_run(active_run)->refusals.total;
  if (refusals != txs) die("expected every transaction of the block to be refused");
  // The transactions alone, on a state copied outside the timed part.
  std::vector<double> txs_only;
  for (int i = 0; i < repeat; ++i) {
    chain::LedgerState s = state;
    const auto t = Clock::now();
    for (const auto& tx : refused_txs) {
      if (chain::apply_transaction(s, tx)) die("apply_transaction refused a nonce");
      if (!chain::apply_protocol_tx(*spec, s, tx, s.height + 1)) die("a transaction was applied");
    }
    txs_only.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  }
  std::sort(txs_only.begin(), txs_only.end());
  const double check_ms = median_ms(repeat, [&] {
    for (const auto& tx : refused_txs)
      if (!chain::check_protocol_tx(*spec, state, tx)) die("a transaction was not refused");
  });

  std::printf("apply_block, empty block:                      %9.1f ms\n", empty_ms);
  std::printf("apply_block, %llu refused LoadApprovals:        %9.1f ms (%.1f ms over empty)\n",
              static_cast<unsigned long long>(txs), full_ms, full_ms - empty_ms);
  std::printf("apply_protocol_tx x %llu (no block around them):  %9.1f ms\n",
              static_cast<unsigned long long>(txs), txs_only[txs_only.size() / 2]);
  std::printf("check_protocol_tx x %llu (mempool):             %9.1f ms\n",
              static_cast<unsigned long long>(txs), check_ms);
  std::printf("median of %d; load average now %s\n", repeat, load_average().c_str());
  return 0;
}

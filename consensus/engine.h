// The Tendermint consensus engine (Buchman, Kwon, Milosevic 2018,
// arXiv:1807.04938, Algorithm 1) as an I/O-free state machine.
//
// The engine holds no sockets, clocks, threads, files or randomness, and
// writes nothing: what must survive a crash leaves it as output. The caller
// (node/ or the simulation) feeds it inputs and, after each input, drains
// take_output() and carries the output out IN THIS ORDER:
//   1. write `signer_state` durably (if set), then `checkpoint` (if set),
//      before anything is sent; if either write fails, send nothing of this
//      output and stop driving the engine (a restart reopens the signer from
//      the last record written, so a signature never sent may be made again
//      differently, and one sent never is);
//   2. commit `decision` (if set) to the block store;
//   3. send `messages` to every other validator;
//   4. schedule each of `timeouts`; when one fires, call on_timeout() with it.
// Evidence in `evidence` is informational (logs, metrics): the engine also
// keeps it and offers it to the application for the next block it proposes.
//
// Threading: not thread-safe; one thread drives an Engine. The Application
// and Signer passed in are only called from inside Engine methods; the
// Signer is this engine's alone while it lives.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chain/crypto.h"
#include "chain/proto/ledger.pb.h"
#include "chain/result.h"
#include "consensus/messages.h"
#include "consensus/proto/consensus.pb.h"
#include "consensus/signer.h"
#include "consensus/validators.h"

namespace baton::consensus {

// Where the engine is inside a height. `new_height`: the previous height was
// decided and the engine waits for the commit timeout before round 0.
enum class Step : std::uint8_t { new_height = 0, propose = 1, prevote = 2, precommit = 3 };
const char* to_string(Step step);

// Timeouts grow with the round: base + round * delta (milliseconds).
struct TimeoutOptions {
  std::uint32_t propose_base_ms = 1000;
  std::uint32_t propose_delta_ms = 500;
  std::uint32_t prevote_base_ms = 500;
  std::uint32_t prevote_delta_ms = 250;
  std::uint32_t precommit_base_ms = 500;
  std::uint32_t precommit_delta_ms = 250;
  // Pause between deciding a height and starting its successor, so late
  // precommits arrive and the application can commit. 0 = next round at once
  // (the caller still gets a zero-length timeout to fire, see Output).
  std::uint32_t commit_ms = 0;
};

struct EngineOptions {
  chain::NetworkId network;  // what every signature is checked against
  TimeoutOptions timeouts;
  // Hard limits on untrusted input.
  std::size_t max_block_bytes = 4 << 20;
  std::uint32_t max_round_ahead = 64;  // rounds above the current one that are kept
  std::size_t max_pending_evidence = 64;
  // TEST-ONLY fault injection for the simulation's self-check: when true the
  // engine ignores its lock (lockedRound/lockedValue) when prevoting, which
  // breaks safety. Never set it outside tests.
  bool unsafe_ignore_lock_for_tests = false;
};

// Port: the application (ledger) the engine orders blocks for. Both calls are
// synchronous and made from inside Engine methods.
class Application {
 public:
  virtual ~Application() = default;
  // Returns a serialized chain::pb::Block for `height`, built on the block
  // store's tip at height-1. `evidence` is serialized DuplicateVoteEvidence
  // the engine has seen and not yet seen in a decided block: the application
  // includes what its rules admit (chain/ takes evidence only from heights
  // below the block's and not already recorded) and leaves the rest; the
  // engine offers it again until a decided block carries it.
  // An error means "cannot propose now": the engine lets the round time out.
  virtual Result<std::string> make_block(std::uint64_t height, std::uint32_t round,
                                         const std::vector<std::string>& evidence) = 0;
  // Checks a proposed serialized Block for `height` against the tip at
  // height-1 (header, transactions, evidence). OK means a correct validator
  // may vote for it. Called at most once per distinct block per height.
  virtual Status check_block(std::uint64_t height, const std::string& block) = 0;
};

// A timer the caller must run. Stale ones are ignored when fired, so the
// caller never needs to cancel.
struct Timeout {
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  Step step = Step::propose;  // new_height: the commit pause
  std::uint32_t duration_ms = 0;
  auto operator<=>(const Timeout&) const = default;
};

// A decided block and the precommits (more than 2/3 of the power) that
// decided it. `commit` is what block sync serves to others.
struct Decision {
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  chain::Hash block_id;
  std::string block;  // serialized chain::pb::Block
  chain::pb::Commit commit;
};

struct Output {
  // The signer's double-sign record covering every signed message below
  // (consensus/signer.h); set when this validator signed something new.
  std::optional<pb::SignerState> signer_state;
  std::optional<pb::EngineCheckpoint> checkpoint;
  std::optional<Decision> decision;
  std::vector<pb::ConsensusMessage> messages;
  std::vector<Timeout> timeouts;
  std::vector<chain::pb::DuplicateVoteEvidence> evidence;
  bool empty() const {
    return !signer_state && !checkpoint && !decision && messages.empty() && timeouts.empty() &&
           evidence.empty();
  }
};

struct EngineStatus {
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  Step step = Step::new_height;
  std::int32_t locked_round = -1;
  std::int32_t valid_round = -1;
  std::size_t proposer = 0;  // index of the proposer of (height, round)
};

class Engine {
 public:
  // `height`: the first undecided height (block store tip + 1).
  // `checkpoint`: the last one written, if any; used when its height equals
  // `height` (locks and round survive the restart), ignored otherwise.
  // `signer` may be null for a non-validating observer. `app` and `signer`
  // must outlive the engine.
  Engine(EngineOptions options, ValidatorSet validators, Application& app, Signer* signer,
         std::uint64_t height, std::optional<pb::EngineCheckpoint> checkpoint = std::nullopt);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Enters the starting round (proposes if it is this validator's turn).
  // Call once, before any other input.
  void start();

  // A message from the network (untrusted). Checks form, limits, membership
  // and signatures before it touches the state.
  //
  // Messages of a height whose validator set is not settled yet (the next
  // height, or the current one during the commit pause) are held, at most
  // a few per signer, and only from members of the current set, so a
  // non-member cannot fill the buffer. When the height's round 0 starts,
  // each held message is checked again against that height's set (member,
  // power, proposer): a validator removed there is dropped. A signer unknown
  // to the current set gets future_height for such a height (it may be a
  // newcomer there; nothing is held), unknown_validator otherwise; its
  // messages reach this engine again by its rebroadcast.
  MessageVerdict on_message(const pb::ConsensusMessage& message);
  // A timer scheduled from an earlier Output fired.
  void on_timeout(const Timeout& timeout);
  // The block store now holds `height` (decided here or fetched by block
  // sync with a verified commit). If `height` >= the current height the
  // engine moves to height + 1 (after the commit pause). Otherwise ignored.
  //
  // `next`: the validator set of height + 1 as the ledger has it after
  // `height` (a membership change committed in block H holds from H + 1);
  // nullopt keeps the set the engine has. The caller reports a block the
  // engine decided itself as well (height + 1 == status().height), before
  // it fires the commit pause's timeout: the engine then takes the new set
  // for the height it waits to start. The proposer rotation follows the set;
  // the engine signs at a height only when its signer's key is in that
  // height's set (a newcomer starts signing at its first height as a
  // validator, a removed validator stops).
  void on_block_committed(std::uint64_t height, std::optional<ValidatorSet> next = std::nullopt);

  // Moves everything produced since the last call out of the engine.
  Output take_output();

  // This validator's own signed messages at the current height that an
  // Output already carried, plus the proposal and precommits that decided
  // the previous height: what a gossip tick should resend so that peers that
  // missed them (drops, reconnects, a restart) can catch up. Does not change
  // state.
  std::vector<pb::ConsensusMessage> messages_to_rebroadcast() const;

  EngineStatus status() const;
  // The validator set of the current height.
  const ValidatorSet& validators() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace baton::consensus

#include "tests/consensus/sim/simulation.h"

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <sstream>
#include <tuple>

#include "chain/crypto.h"
#include "chain/genesis.h"
#include "chain/validator_set.h"
#include "chain/vote.h"
#include "consensus/engine.h"
#include "consensus/messages.h"
#include "consensus/signer.h"
#include "tests/consensus/sim/chain_app.h"

namespace baton::consensus::sim {
namespace {

constexpr const char* kChainId = "sim-chain";
// What the simulated validators sign for; the chain starts from its hash.
const chain::NetworkId& sim_network() {
  static const chain::NetworkId network{kChainId,
                                        chain::sha256(std::string_view("sim-chain/genesis"))};
  return network;
}
constexpr std::uint32_t kGossipMs = 250;
constexpr std::uint32_t kSyncMs = 500;
constexpr std::uint64_t kSyncBatch = 8;

// splitmix64: tiny, fast, and the same on every platform (unlike the
// standard distributions), so a seed replays anywhere.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }

 private:
  std::uint64_t s_;
};

enum class EventKind { deliver, timeout, gossip, sync, crash, restart, partition, heal };

struct Event {
  std::uint64_t time = 0;
  std::uint64_t seq = 0;
  EventKind kind = EventKind::deliver;
  int node = 0;
  int from = 0;
  std::uint64_t epoch = 0;
  std::string payload = {};
  Timeout timeout = {};
  bool operator>(const Event& o) const { return std::tie(time, seq) > std::tie(o.time, o.seq); }
};

struct SimNode {
  SimNode(int i, bool byz, chain::SigningKey k) : index(i), byzantine(byz), key(std::move(k)) {}
  int index;
  bool byzantine;
  chain::SigningKey key;
  // What survives a crash: the signer record, the engine checkpoint and the chain.
  MemorySignerStateStore signer_store;
  std::optional<pb::EngineCheckpoint> checkpoint;
  std::unique_ptr<ChainApp> app;
  // What a crash loses.
  std::unique_ptr<Signer> signer;
  std::unique_ptr<Engine> engine;
  bool up = true;
  std::uint64_t epoch = 0;
  // A crash waiting for the next output with something to write or send,
  // which it cuts short at a random point.
  bool crash_in_output = false;
};

// Where a crash cuts an output short, in the order engine.h prescribes.
enum class Cut { before_writes, after_signer_record, after_writes, mid_send };

std::string bytes_of(const chain::Hash& h) { return std::string(h.bytes.begin(), h.bytes.end()); }
std::string bytes_of(const chain::PublicKey& k) {
  return std::string(k.bytes.begin(), k.bytes.end());
}
std::string bytes_of(const chain::Signature& s) {
  return std::string(s.bytes.begin(), s.bytes.end());
}

class Simulation {
 public:
  explicit Simulation(const SimOptions& o) : o_(o), rng_(o.seed * 0x2545F4914F6CDD1DULL + 1) {
    std::vector<Validator> members;
    for (int i = 0; i < o.nodes; ++i) {
      chain::Bytes seed(32, 0);
      seed[0] = static_cast<std::uint8_t>(i + 1);
      auto key = chain::SigningKey::from_seed(seed);
      if (!key) std::abort();
      // The last `byzantine` members misbehave.
      nodes_.push_back(std::make_unique<SimNode>(i, i >= o.nodes - o.byzantine, *key));
      members.push_back(Validator{key->public_key(), 1});
    }
    validators_.emplace(std::move(members));
    // The same validators as a genesis member list, for chain/'s evidence rule.
    chain::Genesis genesis;
    genesis.chain_id = sim_network().chain_id;
    for (const auto& n : nodes_) {
      genesis.members.push_back(chain::GenesisMember{"v" + std::to_string(n->index),
                                                     n->key.public_key(),
                                                     {},
                                                     "127.0.0.1:0",
                                                     1,
                                                     {std::string(chain::kRoleValidator)}});
    }
    chain_members_.emplace(genesis);
    engine_options_.network = sim_network();
    engine_options_.timeouts = TimeoutOptions{300, 100, 150, 50, 150, 50, 50};
  }

  SimResult run() {
    for (auto& n : nodes_) {
      n->app = std::make_unique<ChainApp>(sim_network(), n->key.public_key());
      n->app->check_evidence_with(&*chain_members_);
      boot(*n);
      schedule(
          Event{.time = 1 + rng_.below(kGossipMs), .kind = EventKind::gossip, .node = n->index});
      schedule(Event{.time = 1 + rng_.below(kSyncMs), .kind = EventKind::sync, .node = n->index});
    }
    plan_faults();
    bool healed = false;
    std::uint64_t target = 0;
    while (!queue_.empty() && result_.violations.empty()) {
      Event e = queue_.top();
      queue_.pop();
      now_ = e.time;
      ++result_.events;
      if (!healed && now_ >= o_.fault_ms) {
        healed = true;
        target = max_honest_height() + o_.liveness_heights;
        trace("healed; every honest node must reach height " + std::to_string(target));
      }
      handle(e);
      if (healed && min_honest_height() >= target) break;
      if (healed && now_ > std::uint64_t{o_.fault_ms} + o_.liveness_bound_ms) {
        std::ostringstream msg;
        msg << "liveness: " << o_.liveness_bound_ms
            << " ms after the network healed, honest heights are";
        for (auto& n : nodes_) {
          if (!n->byzantine)
            msg << " " << n->app->height() << "(r" << n->engine->status().round << ")";
        }
        msg << ", target " << target;
        result_.violations.push_back(msg.str());
      }
    }
    result_.sim_ms = now_;
    result_.min_honest_height = min_honest_height();
    result_.max_honest_height = max_honest_height();
    for (auto& n : nodes_) {
      if (!n->byzantine) {
        result_.evidence_committed = n->app->evidence_committed();
        break;
      }
    }
    return result_;
  }

 private:
  void schedule(Event e) {
    e.seq = seq_++;
    queue_.push(std::move(e));
  }

  void trace(const std::string& line) {
    if (o_.trace) std::printf("[%8llu] %s\n", static_cast<unsigned long long>(now_), line.c_str());
  }

  std::uint64_t min_honest_height() const {
    std::uint64_t m = UINT64_MAX;
    for (const auto& n : nodes_) {
      if (!n->byzantine) m = std::min(m, n->app->height());
    }
    return m;
  }
  std::uint64_t max_honest_height() const {
    std::uint64_t m = 0;
    for (const auto& n : nodes_) {
      if (!n->byzantine) m = std::max(m, n->app->height());
    }
    return m;
  }

  void plan_faults() {
    if (o_.partitions) {
      for (std::uint64_t t = 200 + rng_.below(1500); t + 300 < o_.fault_ms;
           t += 500 + rng_.below(2500)) {
        schedule(Event{.time = t, .kind = EventKind::partition});
      }
    }
    if (o_.crashes) {
      for (std::uint64_t t = 300 + rng_.below(1500); t + 200 < o_.fault_ms;
           t += 400 + rng_.below(2000)) {
        schedule(Event{.time = t,
                       .kind = EventKind::crash,
                       .node = static_cast<int>(rng_.below(nodes_.size()))});
      }
    }
  }

  void boot(SimNode& n) {
    auto signer = Signer::open(n.key, sim_network(), n.signer_store);
    if (!signer) std::abort();
    n.signer = std::move(*signer);
    EngineOptions options = engine_options_;
    options.unsafe_ignore_lock_for_tests = n.byzantine || o_.unsafe_ignore_lock;
    n.engine = std::make_unique<Engine>(options, *validators_, *n.app, n.signer.get(),
                                        n.app->height() + 1, n.checkpoint);
    n.engine->start();
    drain(n);
  }

  // ---- the network
  bool connected(int a, int b) const {
    return !partitioned_ ||
           side_[static_cast<std::size_t>(a)] == side_[static_cast<std::size_t>(b)];
  }

  void send(int from, int to, std::string payload) {
    const bool faulty = now_ < o_.fault_ms;
    if (faulty && (!connected(from, to) || rng_.chance(o_.drop))) return;
    const int copies = faulty && rng_.chance(o_.duplicate) ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      schedule(Event{.time = now_ + 1 + rng_.below(40),
                     .kind = EventKind::deliver,
                     .node = to,
                     .from = from,
                     .epoch = nodes_[static_cast<std::size_t>(to)]->epoch,
                     .payload = payload});
    }
  }

  void broadcast(int from, const std::string& payload) {
    for (auto& n : nodes_) {
      if (n->index != from) send(from, n->index, payload);
    }
  }

  // ---- carrying out an engine's output (the order of engine.h)
  void drain(SimNode& n) {
    Output out = n.engine->take_output();
    if (now_ >= o_.fault_ms) n.crash_in_output = false;  // the network has healed
    const bool carries = out.signer_state || out.checkpoint || !out.messages.empty();
    std::optional<Cut> cut;
    std::size_t sent_before_crash = out.messages.size();
    if (n.crash_in_output && carries && !n.byzantine) {
      cut = static_cast<Cut>(rng_.below(4));
      if (o_.unsafe_send_before_write) cut = Cut::mid_send;
      sent_before_crash = 1 + rng_.below(std::max<std::size_t>(out.messages.size(), 1));
    }
    if (o_.unsafe_send_before_write && !n.byzantine) {
      // The bug the order exists to prevent: messages leave first.
      for (std::size_t i = 0; i < out.messages.size() && i < sent_before_crash; ++i)
        send_signed(n, out.messages[i]);
      if (cut) return crash_now(n, "after sending, before writing");
      write_records(n, out, std::nullopt);
    } else {
      if (cut == Cut::before_writes) return crash_now(n, "before writing its records");
      write_records(n, out, cut);
      if (cut == Cut::after_signer_record) return crash_now(n, "between its two records");
      if (cut == Cut::after_writes) return crash_now(n, "after writing its records");
    }
    if (out.decision) {
      const auto& d = *out.decision;
      trace("node " + std::to_string(n.index) + " decides height " + std::to_string(d.height) +
            " round " + std::to_string(d.round) + " " + d.block_id.hex().substr(0, 12));
      commit(n, CommittedEntry{d.block_id, d.block, d.commit});
    }
    if (!n.byzantine) {
      result_.evidence_seen += out.evidence.size();
      for (const auto& e : out.evidence) check_accuses_no_honest(n, e.SerializeAsString(), "sees");
    }
    if (!o_.unsafe_send_before_write || n.byzantine) {
      for (std::size_t i = 0; i < out.messages.size(); ++i) {
        if (cut == Cut::mid_send && i == sent_before_crash)
          return crash_now(n, "after sending " + std::to_string(i) + " of its messages");
        send_signed(n, out.messages[i]);
      }
      if (cut == Cut::mid_send) return crash_now(n, "after sending its messages");
    }
    for (const auto& t : out.timeouts) {
      schedule(Event{.time = now_ + t.duration_ms,
                     .kind = EventKind::timeout,
                     .node = n.index,
                     .epoch = n.epoch,
                     .timeout = t});
    }
  }

  // Writes the output's signer record, then (unless the cut falls between
  // them) its checkpoint: what survives a crash.
  void write_records(SimNode& n, const Output& out, std::optional<Cut> cut) {
    if (out.signer_state && !n.signer_store.save(*out.signer_state)) std::abort();
    if (cut == Cut::after_signer_record) return;
    if (out.checkpoint) n.checkpoint = *out.checkpoint;
  }

  void send_signed(SimNode& n, const pb::ConsensusMessage& m) {
    if (o_.trace) trace("node " + std::to_string(n.index) + " signs " + describe(m));
    if (n.byzantine) {
      equivocate(n, m);
    } else {
      check_not_double_signed(n, m);
      broadcast(n.index, "C" + encode_message(m));
    }
  }

  // The node dies now: the engine and signer (and anything unwritten) are
  // lost; it comes back later from what was written.
  void crash_now(SimNode& n, const std::string& where) {
    trace("node " + std::to_string(n.index) + " crashes " + where);
    if (n.crash_in_output) ++result_.crashes_mid_output;
    n.crash_in_output = false;
    ++result_.crashes;
    n.up = false;
    ++n.epoch;
    n.engine.reset();
    n.signer.reset();
    const std::uint64_t back = std::min<std::uint64_t>(now_ + 200 + rng_.below(1800), o_.fault_ms);
    schedule(Event{.time = back, .kind = EventKind::restart, .node = n.index});
  }

  static std::string short_id(const std::string& id) {
    return id.empty() ? "nil" : chain::to_hex(chain::as_bytes(id)).substr(0, 8);
  }
  static std::string describe(const pb::ConsensusMessage& m) {
    if (m.has_vote()) {
      const auto& v = m.vote();
      return std::string(v.type() == chain::pb::PREVOTE ? "prevote" : "precommit") + " h" +
             std::to_string(v.height()) + " r" + std::to_string(v.round()) + " " +
             short_id(v.block_id());
    }
    const auto& p = m.proposal();
    auto id = block_id_of(p.block());
    return "proposal h" + std::to_string(p.height()) + " r" + std::to_string(p.round()) + " pol" +
           std::to_string(p.pol_round()) + " " + (id ? short_id(bytes_of(*id)) : "?");
  }

  void commit(SimNode& n, CommittedEntry entry) {
    const std::uint64_t height = n.app->height() + 1;
    const chain::Hash id = entry.block_id;
    if (!n.app->append(std::move(entry))) {
      if (!n.byzantine) {
        result_.violations.push_back("node " + std::to_string(n.index) +
                                     " decided a block at height " + std::to_string(height) +
                                     " that does not extend its chain");
      }
      return;
    }
    if (n.byzantine) return;
    chain::pb::Block block;
    if (block.ParseFromString(n.app->chain().back().block)) {
      for (const auto& e : block.evidence()) check_accuses_no_honest(n, e, "commits");
    }
    const auto [it, inserted] = decided_.emplace(height, std::make_pair(id, n.index));
    if (!inserted && it->second.first != id) {
      result_.violations.push_back(
          "fork at height " + std::to_string(height) + ": node " +
          std::to_string(it->second.second) + " committed " + it->second.first.hex().substr(0, 16) +
          ", node " + std::to_string(n.index) + " committed " + id.hex().substr(0, 16));
    }
  }

  void check_not_double_signed(const SimNode& n, const pb::ConsensusMessage& m) {
    int type = 0;
    std::uint64_t h = 0;
    std::uint32_t r = 0;
    std::string id;
    if (m.has_vote()) {
      type = m.vote().type();
      h = m.vote().height();
      r = m.vote().round();
      id = m.vote().block_id();
    } else {
      h = m.proposal().height();
      r = m.proposal().round();
      auto pid = block_id_of(m.proposal().block());
      id = pid ? bytes_of(*pid) : "";
    }
    const auto [it, inserted] = signed_.emplace(std::make_tuple(n.index, h, r, type), id);
    if (!inserted && it->second != id) {
      result_.violations.push_back(
          "honest node " + std::to_string(n.index) + " signed two different " +
          (type == 0 ? std::string("proposals") : "votes of type " + std::to_string(type)) +
          " at height " + std::to_string(h) + " round " + std::to_string(r));
    }
  }

  // Evidence that names an honest validator is a forgery that got through.
  void check_accuses_no_honest(const SimNode& n, const std::string& evidence, const char* what) {
    chain::pb::DuplicateVoteEvidence ev;
    chain::pb::Vote a;
    if (!ev.ParseFromString(evidence) || !a.ParseFromString(ev.vote_a())) return;
    for (const auto& accused : nodes_) {
      if (accused->byzantine || a.validator() != bytes_of(accused->key.public_key())) continue;
      result_.violations.push_back(
          "honest node " + std::to_string(n.index) + " " + what +
          " evidence of a double vote by honest validator " + std::to_string(accused->index) +
          " at height " + std::to_string(a.height()) + " round " + std::to_string(a.round()));
    }
  }

  // Byzantine framing: an honest validator's nil vote, recast with a block id
  // of 32 zero bytes under the same signature, is gossiped to everyone, and
  // kept (paired with the original as DuplicateVoteEvidence) for the next
  // block this node proposes. Correct nodes must refuse both.
  void forge_from(SimNode& n, const chain::pb::Vote& v) {
    if (!v.block_id().empty()) return;
    bool from_honest = false;
    for (const auto& peer : nodes_) {
      if (!peer->byzantine && v.validator() == bytes_of(peer->key.public_key())) from_honest = true;
    }
    if (!from_honest) return;
    const auto key =
        std::make_tuple(v.validator(), v.height(), v.round(), static_cast<int>(v.type()));
    if (!forged_.insert(key).second) return;
    pb::ConsensusMessage forged;
    *forged.mutable_vote() = v;
    forged.mutable_vote()->set_block_id(std::string(32, '\0'));
    ++result_.forged_votes_sent;
    broadcast(n.index, "C" + encode_message(forged));
    forged_evidence_[v.height()].push_back(
        chain::make_evidence(forged.vote(), v).SerializeAsString());
  }

  // Forged evidence about heights below `height`, for a Byzantine proposal.
  std::vector<std::string> forged_evidence_below(std::uint64_t height) const {
    std::vector<std::string> out;
    for (auto it = forged_evidence_.begin(); it != forged_evidence_.end() && it->first < height;
         ++it) {
      for (const auto& e : it->second) {
        if (out.size() < 4) out.push_back(e);
      }
    }
    return out;
  }

  // A Byzantine validator sends each peer one of two conflicting messages,
  // and keeps to the same choice per peer when it sends them again (gossip),
  // so that the peers' views stay split.
  using SlotKey =
      std::tuple<std::uint64_t, std::uint32_t, int>;  // height, round, 0 proposal / vote type

  static SlotKey slot_of(const pb::ConsensusMessage& m) {
    if (m.has_vote()) return {m.vote().height(), m.vote().round(), m.vote().type()};
    return {m.proposal().height(), m.proposal().round(), 0};
  }

  void equivocate(SimNode& n, const pb::ConsensusMessage& m) {
    const SlotKey slot = slot_of(m);
    auto& alt_for = alternatives_[static_cast<std::size_t>(n.index)];
    if (!alt_for.count(slot)) {
      if (auto alt = make_alternative(n, m)) {
        alt_for.emplace(slot, std::move(*alt));
        // Which peers get the alternative: a fresh random split per slot.
        std::vector<bool> split(nodes_.size());
        for (std::size_t i = 0; i < split.size(); ++i) split[i] = rng_.chance(0.5);
        splits_[static_cast<std::size_t>(n.index)][slot] = std::move(split);
      }
    }
    send_as_byzantine(n, m);
  }

  void send_as_byzantine(SimNode& n, const pb::ConsensusMessage& m) {
    const SlotKey slot = slot_of(m);
    auto& alt_for = alternatives_[static_cast<std::size_t>(n.index)];
    const auto alt = alt_for.find(slot);
    const bool own = m.has_vote() ? m.vote().validator() == bytes_of(n.key.public_key())
                                  : m.proposal().proposer() == bytes_of(n.key.public_key());
    const std::string a = "C" + encode_message(m);
    const std::string b = own && alt != alt_for.end() ? "C" + encode_message(alt->second) : a;
    const auto& split = splits_[static_cast<std::size_t>(n.index)][slot];
    for (auto& peer : nodes_) {
      if (peer->index == n.index) continue;
      const bool use_alt = !split.empty() && split[static_cast<std::size_t>(peer->index)];
      send(n.index, peer->index, use_alt ? b : a);
    }
  }

  std::optional<pb::ConsensusMessage> make_alternative(SimNode& n, const pb::ConsensusMessage& m) {
    pb::ConsensusMessage alt = m;
    if (m.has_proposal()) {
      const auto& p = m.proposal();
      const auto forged = forged_evidence_below(p.height());
      if (!forged.empty()) ++result_.forged_evidence_proposed;
      std::string block = n.app->make_variant(
          p.height(), p.round(), 1 + static_cast<std::uint32_t>(rng_.below(1000)), forged);
      auto id = block_id_of(block);
      if (!id) std::abort();
      known_ids_[p.height()].insert(bytes_of(*id));
      if (auto own = block_id_of(p.block())) known_ids_[p.height()].insert(bytes_of(*own));
      auto* ap = alt.mutable_proposal();
      ap->set_block(block);
      ap->set_pol_round(-1);
      ap->set_signature(
          bytes_of(n.key.sign(proposal_sign_bytes(sim_network(), p.height(), p.round(), -1, *id))));
      return alt;
    }
    const auto& v = m.vote();
    std::optional<std::string> other;
    if (!v.block_id().empty()) other = std::string();  // nil
    for (const auto& known : known_ids_[v.height()]) {
      if (known != v.block_id() && rng_.chance(0.7)) other = known;
    }
    if (!other) return std::nullopt;
    std::optional<chain::Hash> alt_id;
    if (!other->empty()) alt_id = chain::Hash::from_bytes(chain::as_bytes(*other)).value();
    auto* av = alt.mutable_vote();
    av->set_block_id(*other);
    av->set_signature(bytes_of(
        n.key.sign(vote_sign_bytes(sim_network(), v.type(), v.height(), v.round(), alt_id))));
    return alt;
  }

  // ---- events
  void handle(const Event& e) {
    SimNode* n = e.kind == EventKind::partition || e.kind == EventKind::heal
                     ? nullptr
                     : nodes_[static_cast<std::size_t>(e.node)].get();
    switch (e.kind) {
      case EventKind::deliver:
        if (n->up && e.epoch == n->epoch) receive(*n, e.from, e.payload);
        break;
      case EventKind::timeout:
        if (n->up && e.epoch == n->epoch) {
          trace("node " + std::to_string(n->index) + " timeout h" +
                std::to_string(e.timeout.height) + " r" + std::to_string(e.timeout.round) + " " +
                to_string(e.timeout.step));
          n->engine->on_timeout(e.timeout);
          drain(*n);
        }
        break;
      case EventKind::gossip:
        if (n->up) {
          for (const auto& m : n->engine->messages_to_rebroadcast()) {
            if (n->byzantine) {
              send_as_byzantine(*n, m);
            } else {
              broadcast(n->index, "C" + encode_message(m));
            }
          }
        }
        schedule(Event{.time = now_ + kGossipMs, .kind = EventKind::gossip, .node = n->index});
        break;
      case EventKind::sync:
        if (n->up) {
          int peer = static_cast<int>(rng_.below(nodes_.size() - 1));
          if (peer >= n->index) ++peer;
          send(n->index, peer, "Q" + std::to_string(n->app->height()));
        }
        schedule(Event{.time = now_ + kSyncMs, .kind = EventKind::sync, .node = n->index});
        break;
      case EventKind::crash:
        // Half the crashes fall between events, half inside the node's next
        // output that has something to write or send.
        if (n->up && !n->byzantine && !n->crash_in_output) {
          if (rng_.chance(0.5) && !o_.unsafe_send_before_write) {
            crash_now(*n, "between events");
          } else {
            n->crash_in_output = true;
          }
        }
        break;
      case EventKind::restart:
        trace("node " + std::to_string(n->index) + " restarts at height " +
              std::to_string(n->app->height() + 1));
        n->up = true;
        boot(*n);
        break;
      case EventKind::partition: {
        ++result_.partitions;
        partitioned_ = true;
        side_.assign(nodes_.size(), 0);
        for (auto& s : side_) s = static_cast<int>(rng_.below(2));
        trace("partition");
        const std::uint64_t end =
            std::min<std::uint64_t>(now_ + 300 + rng_.below(2500), o_.fault_ms);
        schedule(Event{.time = end, .kind = EventKind::heal});
        break;
      }
      case EventKind::heal:
        partitioned_ = false;
        trace("partition heals");
        break;
    }
  }

  void receive(SimNode& n, int from, const std::string& payload) {
    if (payload.empty()) return;
    const std::string_view body(payload.data() + 1, payload.size() - 1);
    switch (payload[0]) {
      case 'C': {
        auto m = decode_message(body, 8 << 20);
        if (!m) return;
        if (n.byzantine && m->has_proposal()) {
          if (auto id = block_id_of(m->proposal().block()))
            known_ids_[m->proposal().height()].insert(bytes_of(*id));
        }
        if (n.byzantine && m->has_vote()) forge_from(n, m->vote());
        const auto verdict = n.engine->on_message(*m);
        if (o_.trace && verdict != MessageVerdict::duplicate && verdict != MessageVerdict::stale) {
          trace("node " + std::to_string(n.index) + " <- " + std::to_string(from) + " " +
                describe(*m) + ": " + to_string(verdict));
        }
        drain(n);
        break;
      }
      case 'Q': {
        const std::uint64_t have = std::stoull(std::string(body));
        const auto& chain = n.app->chain();
        for (std::uint64_t h = have + 1; h <= chain.size() && h <= have + kSyncBatch; ++h) {
          chain::pb::CommittedBlock cb;
          if (!cb.mutable_block()->ParseFromString(chain[h - 1].block)) std::abort();
          *cb.mutable_commit() = chain[h - 1].commit;
          send(n.index, from, "R" + cb.SerializeAsString());
        }
        break;
      }
      case 'R': {
        chain::pb::CommittedBlock cb;
        if (!cb.ParseFromArray(body.data(), static_cast<int>(body.size()))) return;
        const std::uint64_t height = cb.commit().height();
        if (height != n.app->height() + 1) return;
        std::string block = cb.block().SerializeAsString();
        auto id = block_id_of(block);
        if (!id) return;
        if (!verify_commit(*validators_, sim_network(), cb.commit(), height, *id)) return;
        if (!n.app->check_block(height, block)) return;
        trace("node " + std::to_string(n.index) + " syncs height " + std::to_string(height));
        commit(n, CommittedEntry{*id, block, cb.commit()});
        n.engine->on_block_committed(height);
        drain(n);
        break;
      }
      default:
        break;
    }
  }

  SimOptions o_;
  Rng rng_;
  std::optional<ValidatorSet> validators_;
  std::optional<chain::ValidatorSet> chain_members_;
  EngineOptions engine_options_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue_;
  std::uint64_t seq_ = 0;
  std::uint64_t now_ = 0;
  bool partitioned_ = false;
  std::vector<int> side_;
  std::map<std::uint64_t, std::pair<chain::Hash, int>>
      decided_;  // height -> (id, first honest node)
  std::map<std::tuple<int, std::uint64_t, std::uint32_t, int>, std::string> signed_;
  std::map<std::uint64_t, std::set<std::string>> known_ids_;  // Byzantine knowledge of block ids
  std::map<std::size_t, std::map<SlotKey, pb::ConsensusMessage>>
      alternatives_;  // per Byzantine node
  std::map<std::size_t, std::map<SlotKey, std::vector<bool>>> splits_;
  std::set<std::tuple<std::string, std::uint64_t, std::uint32_t, int>> forged_;  // votes recast
  std::map<std::uint64_t, std::vector<std::string>> forged_evidence_;            // by vote height
  SimResult result_;
};

}  // namespace

SimResult run_simulation(const SimOptions& options) {
  Simulation sim(options);
  return sim.run();
}

}  // namespace baton::consensus::sim

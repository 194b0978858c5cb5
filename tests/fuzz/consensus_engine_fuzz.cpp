// libFuzzer target for the consensus engine as a whole: any sequence of
// correctly signed but arbitrary proposals and votes from the other three
// validators, raw bytes from the wire, and timeouts, in any order. The
// engine must never crash, never sign two different votes or proposals for
// one (height, round, step), every decision must carry a commit that
// verifies, and every piece of evidence it reports must name two values the
// accused validator really signed (forged evidence against an honest
// validator is a bug).
//
// Input: a sequence of 4-byte operations [op, a, b, c]:
//   op % 5 == 0  a vote: signer 1 + a % 3, type b & 1, round (b >> 1) % 6,
//                value c % 3 (nil, block A, block B) at the engine's height;
//                with c >= 0x80 a nil vote is sent as its forgery instead:
//                block_id = 32 zero bytes under the nil vote's signature
//   op % 5 == 1  a proposal by the round's proposer: round a % 6,
//                pol_round (b % 7) - 1, block c % 2 (A or B)
//   op % 5 == 2  fire pending timeout number a (if any)
//   op % 5 == 3  the next a % 64 bytes of input as a raw message
//   op % 5 == 4  the block store reports height + (a % 2) committed
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "tests/consensus/harness.h"

namespace {

using namespace baton::consensus;
using namespace baton::consensus::testing;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr std::size_t kMaxOps = 24;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ValidatorSet validators = make_validators({1, 1, 1, 1});
  TestNode node(0, validators);
  node.engine->start();
  std::vector<Timeout> pending;
  std::map<std::tuple<std::uint64_t, std::uint32_t, int>, std::string> signed_by_me;
  // The block ids (empty = nil) each peer really signed at (height, round, type).
  std::map<std::tuple<std::string, std::uint64_t, std::uint32_t, int>, std::set<std::string>>
      signed_by_peer;
  auto record = [&](const baton::chain::pb::Vote& v) {
    signed_by_peer[{v.validator(), v.height(), v.round(), v.type()}].insert(v.block_id());
  };
  auto drain = [&] {
    const auto before = node.decisions.size();
    Output out = node.take();
    if (node.decisions.size() > before) {
      const Decision& d = node.decisions.back();
      check(verify_commit(validators, kChain, d.commit, d.height, d.block_id).ok());
    }
    for (const auto& e : out.evidence) {
      baton::chain::pb::Vote a, b;
      check(a.ParseFromString(e.vote_a()) && b.ParseFromString(e.vote_b()));
      const auto& values = signed_by_peer[{a.validator(), a.height(), a.round(), a.type()}];
      check(values.count(a.block_id()) == 1 && values.count(b.block_id()) == 1);
    }
    for (const auto& t : out.timeouts) pending.push_back(t);
    for (const auto& m : out.messages) {
      std::tuple<std::uint64_t, std::uint32_t, int> key;
      std::string value;
      if (m.has_vote()) {
        key = {m.vote().height(), m.vote().round(), m.vote().type()};
        value = m.vote().block_id();
      } else {
        key = {m.proposal().height(), m.proposal().round(), 0};
        value = block_id_of(m.proposal().block()).value().hex();
      }
      auto [it, inserted] = signed_by_me.emplace(key, value);
      check(inserted || it->second == value);  // never two values at one step
    }
  };
  drain();

  std::size_t at = 0;
  for (std::size_t ops = 0; ops < kMaxOps && at + 4 <= size; ++ops) {
    const std::uint8_t op = data[at], a = data[at + 1], b = data[at + 2], c = data[at + 3];
    at += 4;
    const std::uint64_t h = node.engine->status().height;
    // Blocks A and B at the engine's height, built on its chain tip.
    const std::string block_a = node.app.make_variant(h, 0, 1);
    const std::string block_b = node.app.make_variant(h, 0, 2);
    switch (op % 5) {
      case 0: {
        const int signer = 1 + a % 3;
        const auto type = (b & 1) ? baton::chain::pb::PRECOMMIT : baton::chain::pb::PREVOTE;
        const std::uint32_t round = (b >> 1) % 6;
        std::optional<baton::chain::Hash> id;
        if (c % 3 == 1) id = block_id_of(block_a).value();
        if (c % 3 == 2) id = block_id_of(block_b).value();
        auto m = vote_msg(signer, type, h, round, id);
        if (!id && c >= 0x80) {
          m.mutable_vote()->set_block_id(std::string(32, '\0'));  // the forgery
        } else {
          record(m.vote());
        }
        node.engine->on_message(m);
        break;
      }
      case 1: {
        const std::uint32_t round = a % 6;
        const int proposer = static_cast<int>(validators.proposer(h, round));
        if (proposer == 0) break;  // the engine under test proposes for itself
        std::int32_t pol = static_cast<std::int32_t>(b % 7) - 1;
        if (pol >= static_cast<std::int32_t>(round)) pol = -1;
        node.engine->on_message(proposal_msg(proposer, h, round, pol, c % 2 ? block_b : block_a));
        break;
      }
      case 2:
        if (!pending.empty()) {
          const Timeout t = pending[a % pending.size()];
          node.engine->on_timeout(t);
        }
        break;
      case 3: {
        const std::size_t n = std::min<std::size_t>(a % 64, size - at);
        auto m =
            decode_message(std::string_view(reinterpret_cast<const char*>(data + at), n), 1 << 16);
        at += n;
        if (m && m->has_vote() && verify_vote_signature(kChain, m->vote())) record(m->vote());
        if (m) node.engine->on_message(*m);
        break;
      }
      case 4:
        // Block sync delivered blocks: the app gets them first, as in node/.
        for (int k = 0; k <= a % 2; ++k) {
          const std::uint64_t next = node.app.height() + 1;
          const std::string blk = node.app.make_variant(next, 9, 3);
          check(node.app.append(
              baton::consensus::sim::CommittedEntry{block_id_of(blk).value(), blk, {}}));
        }
        node.engine->on_block_committed(node.app.height());
        break;
    }
    drain();
  }
  return 0;
}

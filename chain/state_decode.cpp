#include "chain/state_decode.h"

#include <string>

#include "chain/membership.h"
#include "chain/training_decode.h"

namespace baton::chain {
namespace {

constexpr std::size_t kNonceEntryBytes = 32 + 8;
constexpr std::size_t kEvidenceEntryBytes = 32 + 8 + 4 + 1;

std::uint64_t read_be(ByteView b, std::size_t at, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v = (v << 8) | b[at + i];
  return v;
}

Result<LedgerState> refuse(const std::string& why, std::size_t at) {
  return make_error("the state does not decode: " + why + " at byte " + std::to_string(at));
}

}  // namespace

Result<LedgerState> decode_state(ByteView bytes, const Genesis& genesis) {
  LedgerState state;
  std::size_t pos = 0;
  const auto left = [&] { return bytes.size() - pos; };
  if (left() < 8 + 4) return refuse("the bytes end early", pos);
  state.tx_count = read_be(bytes, pos, 8);
  pos += 8;

  // Every count is checked against the bytes left before a single entry is
  // made: a count that lies costs nothing.
  const std::uint64_t senders = read_be(bytes, pos, 4);
  pos += 4;
  if (senders * kNonceEntryBytes > left())
    return refuse("a count of " + std::to_string(senders) + " senders is more than the bytes hold",
                  pos - 4);
  for (std::uint64_t i = 0; i < senders; ++i) {
    auto key = PublicKey::from_bytes(bytes.subspan(pos, 32));
    if (!key) return refuse("a sender key is not a public key", pos);
    const std::uint64_t nonce = read_be(bytes, pos + 32, 8);
    // A sender is listed once it has sent a transaction: its next nonce is 2
    // or more (absent means 1).
    if (nonce < 2) return refuse("a sender's next nonce is below 2", pos + 32);
    if (!state.next_nonces.empty() && !(state.next_nonces.rbegin()->first < *key))
      return refuse("the senders are not in ascending key order", pos);
    state.next_nonces.emplace_hint(state.next_nonces.end(), *key, nonce);
    pos += kNonceEntryBytes;
  }

  if (left() < 4) return refuse("the bytes end early", pos);
  const std::uint64_t records = read_be(bytes, pos, 4);
  pos += 4;
  if (records * kEvidenceEntryBytes > left())
    return refuse(
        "a count of " + std::to_string(records) + " evidence records is more than the bytes hold",
        pos - 4);
  for (std::uint64_t i = 0; i < records; ++i) {
    auto key = PublicKey::from_bytes(bytes.subspan(pos, 32));
    if (!key) return refuse("an evidence record's validator is not a public key", pos);
    Equivocation e;
    e.validator = *key;
    e.height = read_be(bytes, pos + 32, 8);
    e.round = static_cast<std::uint32_t>(read_be(bytes, pos + 40, 4));
    const std::uint8_t type = bytes[pos + 44];
    if (type != pb::PREVOTE && type != pb::PRECOMMIT)
      return refuse("an evidence record's vote type " + std::to_string(type) + " is unknown",
                    pos + 44);
    e.type = static_cast<pb::VoteType>(type);
    if (!state.evidence.empty() && !(*state.evidence.rbegin() < e))
      return refuse("the evidence records are not in ascending order", pos);
    state.evidence.emplace_hint(state.evidence.end(), e);
    pos += kEvidenceEntryBytes;
  }

  // §25.5: the membership part, when present, begins with a marker no
  // training part begins with. Names in the training part are then checked
  // against every member the ledger ever held (decoding_genesis).
  Genesis every_member;
  const Genesis* names = &genesis;
  if (left() >= 4 && read_be(bytes, pos, 4) == kMembershipMarker) {
    pos += 4;
    auto membership = decode_membership(bytes, pos, genesis);
    if (!membership) return make_error("the state does not decode: " + membership.error().message);
    state.membership = std::move(membership).value();
    every_member = decoding_genesis(genesis, state.membership);
    names = &every_member;
  }

  // The training part is present only when the training state is not empty
  // (state_encoding); the canonical check below refuses an encoded empty one.
  if (left() > 0) {
    auto training = decode_training_state(bytes.subspan(pos), *names);
    if (!training) return make_error("the state does not decode: " + training.error().message);
    state.training = std::move(training).value();
  }
  if (state_encoding(state) != Bytes(bytes.begin(), bytes.end()))
    return make_error("the state's bytes are not its canonical encoding");
  return state;
}

}  // namespace baton::chain

#include "node/mempool.h"

#include <algorithm>
#include <utility>

namespace baton::node {

std::string_view to_string(TxRejection reason) {
  switch (reason) {
    case TxRejection::invalid:
      return "the transaction is invalid";
    case TxRejection::nonce_too_low:
      return "the nonce was already used (replay); fetch the next nonce and sign again";
    case TxRejection::nonce_too_far:
      return "the nonce is too far ahead of the sender's next nonce";
    case TxRejection::duplicate:
      return "a transaction with this sender and nonce is already waiting";
    case TxRejection::pool_full:
      return "the mempool is full; retry later";
  }
  return "rejected";
}

std::string AddResult::reason() const {
  if (!rejected) return "";
  if (*rejected == TxRejection::invalid && invalid) return std::string(chain::to_string(*invalid));
  return std::string(to_string(*rejected));
}

Mempool::Mempool(const chain::ChainSpec& spec, api::MempoolLimits limits)
    : spec_(spec), limits_(limits) {}

AddResult Mempool::add(chain::ByteView tx_bytes, const chain::ValidatorSet& members,
                       const NextNonce& next_nonce) {
  AddResult out;
  out.hash = chain::tx_hash(tx_bytes);
  if (by_hash_.contains(out.hash)) {
    out.rejected = TxRejection::duplicate;
    return out;
  }
  const std::string_view text(reinterpret_cast<const char*>(tx_bytes.data()), tx_bytes.size());
  // Cheap checks first: a full pool or a stale nonce costs no signature check.
  if (count_ + 1 > limits_.max_txs || bytes_ + tx_bytes.size() > limits_.max_bytes) {
    out.rejected = TxRejection::pool_full;
    return out;
  }
  {
    chain::pb::Transaction peek;
    if (peek.ParseFromArray(tx_bytes.data(), static_cast<int>(tx_bytes.size()))) {
      if (auto sender = chain::PublicKey::from_bytes(chain::as_bytes(peek.sender()))) {
        const std::uint64_t next = next_nonce(*sender);
        if (peek.nonce() != 0 && peek.nonce() < next) {
          out.rejected = TxRejection::nonce_too_low;
          return out;
        }
      }
    }
  }
  auto checked =
      chain::check_transaction(text, spec_.network(), members, spec_.params().max_tx_bytes);
  if (!checked) {
    out.rejected = TxRejection::invalid;
    out.invalid = checked.reason();
    return out;
  }
  return add_checked(std::string(text), *checked, next_nonce);
}

AddResult Mempool::add_checked(std::string tx_bytes, const chain::pb::Transaction& tx,
                               const NextNonce& next_nonce) {
  AddResult out;
  out.hash = chain::tx_hash(tx_bytes);
  out.nonce = tx.nonce();
  if (by_hash_.contains(out.hash)) {
    out.rejected = TxRejection::duplicate;
    return out;
  }
  if (count_ + 1 > limits_.max_txs || bytes_ + tx_bytes.size() > limits_.max_bytes) {
    out.rejected = TxRejection::pool_full;
    return out;
  }
  const auto sender = chain::PublicKey::from_bytes(chain::as_bytes(tx.sender())).value();
  const std::uint64_t next = next_nonce(sender);
  if (tx.nonce() < next) {
    out.rejected = TxRejection::nonce_too_low;
    return out;
  }
  if (tx.nonce() - next >= limits_.max_nonce_gap) {
    out.rejected = TxRejection::nonce_too_far;
    return out;
  }
  auto& txs = by_sender_[sender];
  if (txs.contains(tx.nonce())) {
    out.rejected = TxRejection::duplicate;
    return out;
  }
  bytes_ += tx_bytes.size();
  txs.emplace(tx.nonce(), Entry{std::move(tx_bytes), out.hash});
  by_hash_.emplace(out.hash, std::make_pair(sender, tx.nonce()));
  ++count_;
  return out;
}

std::vector<std::string> Mempool::reap(std::size_t max_txs, std::size_t max_bytes,
                                       const NextNonce& next_nonce) const {
  // One cursor per sender over its consecutive run of nonces.
  struct Cursor {
    std::map<std::uint64_t, Entry>::const_iterator it, end;
    std::uint64_t want;
  };
  std::vector<Cursor> cursors;
  for (const auto& [sender, txs] : by_sender_) {
    const std::uint64_t want = next_nonce(sender);
    auto it = txs.lower_bound(want);
    if (it != txs.end() && it->first == want) cursors.push_back({it, txs.end(), want});
  }
  std::vector<std::string> out;
  std::size_t used = 0;
  bool progressed = true;
  while (progressed && out.size() < max_txs) {
    progressed = false;
    for (auto& c : cursors) {
      if (out.size() >= max_txs) break;
      if (c.it == c.end || c.it->first != c.want) continue;
      const std::size_t n = c.it->second.bytes.size();
      if (used + n > max_bytes) {
        c.it = c.end;  // this sender's next tx does not fit; later nonces must wait for it
        continue;
      }
      out.push_back(c.it->second.bytes);
      used += n;
      ++c.it;
      ++c.want;
      progressed = true;
    }
  }
  return out;
}

void Mempool::erase(std::map<std::uint64_t, Entry>& txs,
                    std::map<std::uint64_t, Entry>::iterator it) {
  by_hash_.erase(it->second.hash);
  bytes_ -= it->second.bytes.size();
  --count_;
  txs.erase(it);
}

void Mempool::remove_committed(const NextNonce& next_nonce) {
  for (auto s = by_sender_.begin(); s != by_sender_.end();) {
    auto& txs = s->second;
    const std::uint64_t next = next_nonce(s->first);
    while (!txs.empty() && txs.begin()->first < next) erase(txs, txs.begin());
    s = txs.empty() ? by_sender_.erase(s) : std::next(s);
  }
}

void Mempool::remove(const chain::Hash& hash) {
  auto h = by_hash_.find(hash);
  if (h == by_hash_.end()) return;
  auto s = by_sender_.find(h->second.first);
  auto it = s->second.find(h->second.second);
  erase(s->second, it);
  if (s->second.empty()) by_sender_.erase(s);
}

void Mempool::remove_senders_not_in(const chain::ValidatorSet& members) {
  std::vector<chain::Hash> gone;
  for (const auto& [sender, txs] : by_sender_) {
    if (members.is_member(sender)) continue;
    for (const auto& [nonce, entry] : txs) gone.push_back(entry.hash);
  }
  for (const auto& h : gone) remove(h);
}

std::optional<std::string> Mempool::get(const chain::Hash& hash) const {
  auto h = by_hash_.find(hash);
  if (h == by_hash_.end()) return std::nullopt;
  const auto& txs = by_sender_.at(h->second.first);
  return txs.at(h->second.second).bytes;
}

std::uint64_t Mempool::highest_pending_nonce(const chain::PublicKey& sender) const {
  auto s = by_sender_.find(sender);
  if (s == by_sender_.end() || s->second.empty()) return 0;
  return s->second.rbegin()->first;
}

}  // namespace baton::node

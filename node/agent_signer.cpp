#include "node/agent_signer.h"

#include "chain/encoding.h"
#include "chain/transaction.h"

namespace baton::node {

AgentSigner::AgentSigner(const chain::SigningKey& key, chain::NetworkId network,
                         AgentSignerPorts ports)
    : key_(key), network_(std::move(network)), ports_(std::move(ports)) {}

SubmitOutcome AgentSigner::sign_and_submit(chain::pb::TxType type, std::string payload) {
  std::lock_guard lock(mutex_);
  chain::Bytes key_bytes;
  chain::append_u32be(key_bytes, static_cast<std::uint32_t>(type));
  chain::append_bytes(key_bytes, payload);
  const chain::Hash key = chain::sha256(key_bytes);
  if (auto it = signed_.find(key); it != signed_.end()) {
    if (ports_.pending_or_committed(it->second)) {
      SubmitOutcome out;
      out.accepted = true;
      out.hash = it->second;
      return out;
    }
  }
  SubmitOutcome out = sign_new(type, std::move(payload));
  if (out.accepted) {
    if (signed_.insert_or_assign(key, out.hash).second) order_.push_back(key);
    while (order_.size() > kRemembered) {
      signed_.erase(order_.front());
      order_.pop_front();
    }
  }
  return out;
}

SubmitOutcome AgentSigner::sign_new(chain::pb::TxType type, std::string payload) {
  const auto nonce = ports_.next_nonce(key_.public_key());
  if (!nonce) {
    SubmitOutcome out;
    out.busy = true;
    out.reason = "the node is busy or stopping; retry";
    return out;
  }
  return ports_.submit(chain::encode_transaction(
      chain::make_transaction(network_, key_, *nonce, type, std::move(payload))));
}

}  // namespace baton::node

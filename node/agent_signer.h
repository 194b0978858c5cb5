// AgentSigner: signs the partner agent's transactions with the node's key
// (POST /agent/tx; the agent never holds the signing key), each at most
// once. When the same type and payload were signed before and that
// transaction still waits in the mempool or is committed, its outcome is
// returned again and nothing new is signed: an agent restarted between
// sending and recording its step never puts a second copy on the ledger.
// A transaction that left the mempool uncommitted (dropped as no longer
// applying) is signed afresh with a new nonce.
//
// Memory: the last kRemembered (sha256(u32be type || payload) -> tx hash)
// pairs, oldest forgotten first.
// Thread: any; one signing at a time (a mutex), so that two requests never
// take the same nonce. The ports are called with that mutex held.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "chain/keys.h"
#include "chain/proto/ledger.pb.h"
#include "node/admin_node.h"

namespace baton::node {

// What the signer asks of its node.
struct AgentSignerPorts {
  // The signer's next nonce counting its waiting transactions; nullopt when
  // the node is busy.
  std::function<std::optional<std::uint64_t>(const chain::PublicKey&)> next_nonce;
  // Offers a signed transaction to the mempool (AdminNode::submit_transaction).
  std::function<SubmitOutcome(std::string)> submit;
  // Whether the transaction still waits in the mempool or is committed.
  std::function<bool(const chain::Hash&)> pending_or_committed;
};

class AgentSigner {
 public:
  static constexpr std::size_t kRemembered = 4096;

  // `key` (the node's signing key) outlives the signer.
  AgentSigner(const chain::SigningKey& key, chain::NetworkId network, AgentSignerPorts ports);

  SubmitOutcome sign_and_submit(chain::pb::TxType type, std::string payload);

 private:
  SubmitOutcome sign_new(chain::pb::TxType type, std::string payload);

  const chain::SigningKey& key_;
  const chain::NetworkId network_;
  const AgentSignerPorts ports_;
  std::mutex mutex_;
  std::map<chain::Hash, chain::Hash> signed_;  // sha256(type || payload) -> tx hash
  std::deque<chain::Hash> order_;              // oldest first, to bound signed_
};

}  // namespace baton::node

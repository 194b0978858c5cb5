// The narrow port through which the partner agent (agent/agent.h) puts
// transactions on the way to the ledger. NodeLink (agent/node_link.h) implements
// it over the node's admin API (the node signs); tests use a
// fake that collects the payloads.
#pragma once

#include <string>

#include "chain/crypto.h"
#include "chain/proto/ledger.pb.h"

namespace baton::agent {

// What the agent's transaction came to at the node's mempool.
struct AgentSubmitResult {
  bool accepted = false;
  chain::Hash hash;    // the transaction's hash when it was built
  std::string reason;  // when not accepted
};

// Signs `payload` as a transaction of `type` from this node's key with its
// next nonce (counting its own transactions waiting in the mempool) and
// submits it. Called from the agent's worker thread only.
class AgentTxSink {
 public:
  virtual ~AgentTxSink() = default;
  virtual AgentSubmitResult submit(chain::pb::TxType type, std::string payload) = 0;
};

}  // namespace baton::agent

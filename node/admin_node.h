// AdminNode: the node as its admin API sees it (node/admin_api.h). The port
// is declared by its consumer: the admin API needs these queries and two
// commands, not the whole node::Node, and its routing and checks are unit
// tested against an in-memory implementation (tests/node/admin_api_test.cpp).
// Node implements it (node/node.h).
//
// Threads: every method is called on the admin HTTP server's one thread and
// must be thread-safe with respect to the node's own threads. Methods that
// ask the node's event loop (mempool, nonces, submissions) wait for it at
// most a few seconds and then answer "busy" (nullopt or SubmitOutcome::busy):
// the caller answers 503 and the client retries.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/crypto.h"
#include "chain/genesis.h"
#include "chain/ledger_state.h"
#include "chain/proto/ledger.pb.h"
#include "storage/block_store.h"

namespace baton::node {

// A consistent view of the node's progress and halt state, refreshed by the
// node's event loop (at each commit and tick).
struct NodeSnapshot {
  std::uint64_t height = 0;
  chain::Hash tip_hash;
  std::uint32_t round = 0;
  std::string step = "new_height";
  std::size_t mempool_txs = 0;
  std::size_t mempool_bytes = 0;
  bool halted = false;
  std::string halt_reason;
  // "ledger", "checkpoint", "signer_state" (a storage failure: the node
  // resumes by itself once the disk takes writes) or "consensus" (it waits
  // for an operator); empty when not halted.
  std::string halt_cause;
  // Each connected peer's last reported tip height, by member name.
  std::map<std::string, std::uint64_t> peer_heights;
  // --- state sync (docs/PROTOCOL.md §24.4) ---
  std::uint64_t history_from = 1;  // lowest stored height (above 1: backfill not done)
  struct StoredSnapshot {
    std::uint64_t height = 0;
    chain::Hash block_id;  // what [statesync] trust_block_id names
  };
  std::vector<StoredSnapshot> snapshots;  // ascending
  std::string state_sync;                 // what state sync or repair is doing; "" when idle
};

struct PeerStatus {
  std::string name;
  std::string address;
  bool connected = false;
  std::string last_error;
};

struct SubmitOutcome {
  bool accepted = false;
  bool busy = false;  // the node could not answer in time; retry
  chain::Hash hash;
  std::uint64_t nonce = 0;
  std::string reason;  // when refused
  bool pool_full = false;
};

// What the partner agent follows (GET /agent/state): a committed height and
// the ledger state after it. Published after each commit while block sync is
// near the peers' tip; height 0 and a null state before the first.
struct AgentView {
  std::uint64_t height = 0;
  std::shared_ptr<const chain::LedgerState> state;
};

// A membership change waiting for its quorum (docs/PROTOCOL.md §25).
struct PendingMemberChange {
  std::string id_hex;  // SHA-256 of the MemberChange payload bytes
  std::string kind;    // "add", "remove", "update", "replace_keys"
  std::string name;
  std::vector<std::string> approvers;  // member names
  std::uint64_t approved_power = 0;
  std::uint64_t quorum_power = 0;
  std::uint64_t expires_at_height = 0;
};

// GET /members: the members after the committed tip (they hold for the next
// block) and the changes waiting for their quorum.
struct MembersView {
  std::uint64_t height = 0;
  std::vector<chain::GenesisMember> members;  // `balance` unused
  std::vector<PendingMemberChange> pending;
};

class AdminNode {
 public:
  virtual ~AdminNode() = default;

  // --- status ---
  virtual NodeSnapshot snapshot() const = 0;
  virtual std::vector<PeerStatus> peers() const = 0;
  // GET /metrics: Prometheus text format 0.0.4.
  virtual std::string metrics_text() const = 0;

  // --- the ledger ---
  // The committed blocks (reads are thread-safe). Lives as long as the node.
  virtual const storage::BlockStore& ledger() const = 0;
  // The committed ledger state at the tip (immutable, shared); null only
  // before the node loaded its ledger.
  virtual std::shared_ptr<const chain::LedgerState> committed_state() const = 0;
  // The newest state the partner agent may act on (AgentView).
  virtual AgentView agent_view() const = 0;
  // The members as the committed ledger has them (chain::current_members).
  virtual MembersView members_view() const = 0;

  // --- the mempool ---
  // The serialized transaction if it waits in the mempool; nullopt when not
  // there or the node is busy.
  virtual std::optional<std::string> pending_transaction(const chain::Hash& hash) = 0;
  // The nonce `sender`'s next transaction should carry, counting those
  // waiting in the mempool; nullopt when the node is busy.
  virtual std::optional<std::uint64_t> next_nonce(const chain::PublicKey& sender) = 0;

  // --- commands ---
  // Checks a serialized chain.pb.Transaction and offers it to the mempool.
  virtual SubmitOutcome submit_transaction(std::string tx_bytes) = 0;
  // Signs `payload` as a transaction of `type` with the node's own key and
  // next nonce and submits it (the partner agent never holds the key).
  // Idempotent for the same type and payload while the earlier transaction
  // waits or is committed (node/agent_signer.h).
  virtual SubmitOutcome sign_and_submit(chain::pb::TxType type, std::string payload) = 0;
};

}  // namespace baton::node

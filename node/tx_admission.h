// Mempool admission: the one rule for a transaction offered to this node,
// whether a client POSTs it to /tx or a peer gossips it. Two stages, because
// the signature (the costly part) is verified off the event loop:
//
//   1. offer_transaction (any thread; reads only the ChainSpec and the
//      members it is given): decodes the bytes and checks them as
//      chain::check_transaction does: canonical encoding, at most
//      max_tx_bytes, this chain's network, a current member as sender
//      (chain::current_validators of the committed state: members change by
//      vote, issue 18), a valid Ed25519 signature.
//   2. admit_transaction (the node's event loop, which owns the Mempool):
//      refuses an offer stage 1 found invalid, then checks the nonce window
//      (not below the sender's next committed nonce, less than max_nonce_gap
//      above it), duplicates (same bytes, or same sender and nonce waiting)
//      and the pool's count and byte bounds, and adds the transaction.
//
// Each refusal is a reason (TxRejection, with chain::TxInvalid when stage 1
// refused); the caller decides the consequence: POST /tx answers it, gossip
// from a peer whose transaction fails stage 1 disconnects that peer.
//
// next_nonce_to_sign is the rule GET /nonce and the agent signer use for the
// nonce of a sender's next transaction.
//
// Pure: no I/O, no clock, no locking.
#pragma once

#include <cstdint>
#include <string>

#include "chain/chain_spec.h"
#include "chain/proto/ledger.pb.h"
#include "chain/transaction.h"
#include "chain/verdict.h"
#include "node/mempool.h"

namespace baton::node {

// A transaction after stage 1: its exact bytes and what the stateless checks
// made of them.
struct OfferedTx {
  std::string bytes;
  chain::Verdict<chain::pb::Transaction, chain::TxInvalid> checked;

  bool valid() const { return checked.ok(); }
  // The refusal of an invalid offer (rejected = invalid, with the reason and
  // the hash of the bytes). Precondition: !valid().
  AddResult refusal() const;
};

// Stage 1. Costs one Ed25519 verification when the cheap checks pass.
// `members`: chain::current_validators(spec, committed state).
OfferedTx offer_transaction(const chain::ChainSpec& spec, const chain::ValidatorSet& members,
                            std::string bytes);

// Stage 2. `next_nonce` answers the committed next nonce of a sender. An
// invalid offer is refused with offer.refusal() and leaves the pool alone.
AddResult admit_transaction(Mempool& mempool, OfferedTx offer, const NextNonce& next_nonce);

// The nonce a sender's next transaction should carry: one past the highest
// nonce it has waiting in the mempool (0 when none), and never below its
// next committed nonce (`committed_next`, at least 1).
std::uint64_t next_nonce_to_sign(std::uint64_t committed_next, std::uint64_t highest_pending);

}  // namespace baton::node

// Block sync planner: decides when a node that is behind asks which peer for
// which blocks. Pure bookkeeping (no sockets, no clock inside: `now` is
// passed in); the node carries out the requests and checks every block it
// receives (commit against the validators the ledger has after the block
// before it, chain::current_validators; chain/ validation) before applying
// it.
//
// A node learns peers' heights from their ChainStatus messages, and notices
// it is behind when a peer reports a higher tip or consensus messages arrive
// for a height beyond its own. It keeps at most one request in flight; a
// request that is not answered within `request_timeout_ms` is abandoned and
// the next one goes to another peer (round-robin among those ahead).
//
// Not thread-safe; the node uses it from its event-loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "chain/crypto.h"

namespace baton::node {

struct BlockSyncOptions {
  std::uint32_t batch = 64;  // blocks per request
  std::uint64_t request_timeout_ms = 3000;
};

struct SyncRequest {
  chain::PublicKey peer;
  std::uint64_t from_height = 0;
  std::uint32_t max_count = 0;
};

class BlockSync {
 public:
  explicit BlockSync(BlockSyncOptions options = {}) : options_(options) {}

  // A peer reported its tip height.
  void on_peer_height(const chain::PublicKey& peer, std::uint64_t height);
  // Something from `peer` shows it is at least at `height` (e.g. a consensus
  // message for height H means the peer has H-1 committed).
  void on_peer_at_least(const chain::PublicKey& peer, std::uint64_t height);
  void on_peer_disconnected(const chain::PublicKey& peer);

  // The response to the request in flight arrived (whatever it held).
  void on_response(const chain::PublicKey& peer);

  // The request to send now, if any: when a peer is ahead of `tip_height`
  // and no request is in flight (or the one in flight timed out).
  std::optional<SyncRequest> next_request(std::uint64_t tip_height, std::uint64_t now_ms);

  // Highest height any connected peer has reported.
  std::uint64_t best_peer_height() const;
  // Each connected peer's reported height (the admin API's /status, the console).
  const std::map<chain::PublicKey, std::uint64_t>& peer_heights() const { return heights_; }
  bool in_flight() const { return in_flight_.has_value(); }

 private:
  BlockSyncOptions options_;
  std::map<chain::PublicKey, std::uint64_t> heights_;
  struct InFlight {
    chain::PublicKey peer;
    std::uint64_t sent_ms = 0;
  };
  std::optional<InFlight> in_flight_;
  std::size_t rotation_ = 0;  // spreads requests over the peers that are ahead
};

}  // namespace baton::node

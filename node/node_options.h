// The options of the node's parts, derived from the genesis (the
// consortium's parameters) and node.toml (this hospital's overrides and
// addresses). Pure: Node (node/node.h) builds its parts from these and
// nothing else decides their settings.
#pragma once

#include <string>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/keys.h"
#include "node/admin_api.h"
#include "api/config.h"
#include "node/consensus_driver.h"
#include "api/http_server.h"
#include "p2p/transport_tcp.h"

namespace baton::node {

// The consensus driver's options: the genesis timeouts unless node.toml
// overrides them, the checkpoint file in the data directory.
ConsensusDriverOptions consensus_driver_options(const chain::ChainSpec& spec,
                                                const api::NodeConfig& config);

// The P2P transport's options: every member in `members` (the ledger's
// current members, chain::current_members) with the address it can be
// dialled at: node.toml's [p2p.dial] entry for it if any, else its
// p2p_address (node/membership_follow.h, p2p_members). A member whose address
// cannot be dialled is listed without one (it may still dial us), with a
// sentence in `warnings`.
p2p::TcpTransportOptions tcp_transport_options(const chain::ChainSpec& spec,
                                               const std::vector<chain::GenesisMember>& members,
                                               const api::NodeConfig& config,
                                               const chain::PublicKey& me,
                                               std::vector<std::string>& warnings);

// [p2p.dial] against the genesis: every name is another genesis member (a
// typo would silently dial the genesis address instead). The address itself
// needs no trust: the handshake checks the genesis key of whoever answers.
Status check_p2p_dial(const chain::ChainSpec& spec, const api::NodeConfig& config);

// The admin HTTP server's limits ([admin_api]; a body takes a transaction
// of max_tx_bytes as hex), over TLS when `tls` is set.
api::HttpServerOptions admin_http_options(const chain::ChainSpec& spec,
                                          const api::NodeConfig& config,
                                          std::shared_ptr<const api::TlsIdentity> tls);

// The same limits on the Unix socket of [admin_api] unix_socket: mode 0600,
// or 0660 with unix_socket_group; never TLS.
api::HttpServerOptions admin_socket_options(const api::HttpServerOptions& tcp,
                                            const api::NodeConfig& config);

// What the admin API knows from the start.
AdminApiSettings admin_api_settings(const chain::ChainSpec& spec, const api::NodeConfig& config,
                                    std::string token);

}  // namespace baton::node

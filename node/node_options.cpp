#include "node/node_options.h"

#include "node/membership_follow.h"

#include <algorithm>

#include "node/peer_messages.h"

namespace baton::node {

ConsensusDriverOptions consensus_driver_options(const chain::ChainSpec& spec,
                                                const api::NodeConfig& config) {
  const chain::ConsensusParams& p = spec.params();
  const api::ConsensusOverrides& o = config.consensus;
  consensus::EngineOptions engine;
  engine.network = spec.network();
  auto ms = [](std::optional<std::uint32_t> over, std::uint64_t genesis) {
    return over ? *over : static_cast<std::uint32_t>(genesis);
  };
  engine.timeouts.propose_base_ms = ms(o.timeout_propose_ms, p.timeout_propose_ms);
  engine.timeouts.propose_delta_ms = ms(o.timeout_delta_ms, p.timeout_propose_delta_ms);
  engine.timeouts.prevote_base_ms = ms(o.timeout_prevote_ms, p.timeout_prevote_ms);
  engine.timeouts.prevote_delta_ms = ms(o.timeout_delta_ms, p.timeout_prevote_delta_ms);
  engine.timeouts.precommit_base_ms = ms(o.timeout_precommit_ms, p.timeout_precommit_ms);
  engine.timeouts.precommit_delta_ms = ms(o.timeout_delta_ms, p.timeout_precommit_delta_ms);
  engine.timeouts.commit_ms = ms(o.timeout_commit_ms, p.timeout_commit_ms);
  engine.max_block_bytes = p.max_block_bytes;

  ConsensusDriverOptions out;
  out.engine = engine;
  out.checkpoint_file = config.data_dir / "consensus_checkpoint";
  out.empty_block_interval_ms = o.empty_block_interval_ms.value_or(1000);
  out.idle_block_interval_ms = o.idle_block_interval_ms.value_or(600'000);
  return out;
}

p2p::TcpTransportOptions tcp_transport_options(const chain::ChainSpec& spec,
                                               const std::vector<chain::GenesisMember>& members,
                                               const api::NodeConfig& config,
                                               const chain::PublicKey& me,
                                               std::vector<std::string>& warnings) {
  p2p::TcpTransportOptions out;
  out.chain_id = spec.chain_id();
  out.genesis_hash = spec.genesis_hash;
  out.members = p2p_members(members, config, me, warnings);
  out.listen_host = config.p2p_listen.host;
  out.listen_port = config.p2p_listen.port;
  out.limits.max_message_size = static_cast<std::uint32_t>(node_message_limit(spec.params()));
  return out;
}

Status check_p2p_dial(const chain::ChainSpec& spec, const api::NodeConfig& config) {
  for (const auto& [name, address] : config.p2p_dial) {
    const auto& members = spec.genesis.members;
    const auto m = std::find_if(members.begin(), members.end(),
                                [&](const auto& member) { return member.name == name; });
    if (m == members.end()) {
      return make_error("[p2p.dial] in " + config.config_path.string() + " names '" + name +
                        "', which is no member of the genesis; use a member's name as in "
                        "genesis.json");
    }
    if (name == config.name) {
      return make_error("[p2p.dial] in " + config.config_path.string() +
                        " names this node itself ('" + name +
                        "'); a node never dials itself, "
                        "remove the entry");
    }
  }
  return {};
}

api::HttpServerOptions admin_http_options(const chain::ChainSpec& spec,
                                          const api::NodeConfig& config,
                                          std::shared_ptr<const api::TlsIdentity> tls) {
  api::HttpServerOptions out;
  out.listen = config.admin_listen;
  out.max_body_bytes = static_cast<std::size_t>(spec.params().max_tx_bytes) * 2 + 1024;
  out.max_connections = config.admin_api.max_connections;
  out.max_connections_per_client = config.admin_api.max_connections_per_client;
  out.idle_timeout_ms = config.admin_api.idle_timeout_ms;
  out.header_timeout_ms = config.admin_api.header_timeout_ms;
  out.body_timeout_ms = config.admin_api.body_timeout_ms;
  out.max_wait_ms = static_cast<std::uint32_t>(AdminApi::kMaxAgentWaitMs.count());
  out.tls = std::move(tls);
  return out;
}

api::HttpServerOptions admin_socket_options(const api::HttpServerOptions& tcp,
                                            const api::NodeConfig& config) {
  api::HttpServerOptions out = tcp;
  out.tls.reset();
  out.unix_socket = config.admin_api.unix_socket;
  out.unix_socket_mode = config.admin_api.unix_socket_group.empty() ? 0600 : 0660;
  out.unix_socket_group = config.admin_api.unix_socket_group;
  return out;
}

AdminApiSettings admin_api_settings(const chain::ChainSpec& spec, const api::NodeConfig& config,
                                    std::string token) {
  AdminApiSettings out;
  out.node_name = config.name;
  out.chain_id = spec.chain_id();
  out.genesis_hash = spec.genesis_hash;
  out.admin_listen = config.admin_listen;
  out.allowed_hosts = config.admin_api.allowed_hosts;
  out.token_file = config.admin_token_file;
  out.token = std::move(token);
  return out;
}

}  // namespace baton::node

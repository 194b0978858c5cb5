// NodeLink: a partner agent's connection to its node's admin API (issue 12).
// It follows the node's committed training state (GET /agent/state, a
// long-poll with the last height seen: the node answers when a newer block
// commits, or 204 after kLongPollMs) and has the node sign and submit the agent's
// transactions (POST /agent/tx), both with the node's admin token, and
// reports the agent's own metrics (POST /agent/metrics, issue 17), and asks
// for the ledger's current members (GET /members, issue 18).
//
// Why the node signs (docs/OPERATIONS.md, "The partner agent"): the member's
// Ed25519 key is also its consensus key; it stays on the node's host, and
// the node, which sees its own mempool, picks the nonce. The agent holds only
// the X25519 key that opens the models sealed for its hospital.
//
// The node's URL (api/http_client.h): http:// on loopback, https:// with
// the node's certificate pinned by `cert_sha256` (a server with another
// certificate gets no byte of a request, so never the token), or unix:/PATH,
// the node's socket, whose file permissions stand for the token (none is
// sent there). open() refuses http:// off loopback.
//
// Threads: poll() from one thread (the follower), submit() and
// current_members() from another (the agent's worker), report_metrics() from
// a third (agent/agent_metrics.h); each thread has its own connection.
// interrupt() from any.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "agent/agent_sink.h"
#include "agent/node_members.h"
#include "chain/genesis.h"
#include "chain/result.h"
#include "chain/training.h"
#include "api/http_client.h"

namespace baton::agent {

struct NodeView {
  std::uint64_t height = 0;
  chain::TrainingState training;
};

class NodeLink final : public AgentTxSink, public MemberSource {
 public:
  // `agent_api`: the agent's own API URL, announced to the node with every
  // poll (so that a restarted node learns it again); empty: none. Announced
  // only to a node on this host (loopback or unix:): the node forwards its
  // token to that URL on its own host.
  static Result<std::unique_ptr<NodeLink>> open(const std::string& node_url, std::string token,
                                                std::string agent_api, chain::Genesis genesis,
                                                const std::string& cert_sha256 = {});

  // How long the node holds a poll when it has nothing newer.
  static constexpr std::chrono::milliseconds kLongPollMs{20'000};

  // The node's committed state as soon as it is newer than `after` (waiting
  // up to kLongPollMs); nullopt when it has nothing newer by then. An error
  // when the node cannot be reached (or restarted meanwhile: its connection
  // closed), refuses the token, or sends a state that does not decode.
  Result<std::optional<NodeView>> poll(std::uint64_t after);
  // Ends a poll or report in progress at once, and every later one (the
  // agent is stopping). Thread-safe.
  void interrupt() {
    follow_->cancel();
    report_->cancel();
  }

  // Sends the agent's report of its own work (api/agent_report.h); an error
  // when the node is unreachable (within kReportTimeout) or refuses it.
  Status report_metrics(const std::string& body);
  static constexpr std::chrono::milliseconds kReportTimeout{5'000};

  AgentSubmitResult submit(chain::pb::TxType type, std::string payload) override;

  // GET /members (agent/node_members.h). A node that answers 404 has no such
  // endpoint: a batond from before membership by vote, whose ledger can hold
  // no membership change, so its members are the genesis'. Any other
  // failure (unreachable, refused, malformed) is an error.
  Result<NodeMembers> current_members() override;

 private:
  NodeLink(std::unique_ptr<api::HttpClient> follow, std::unique_ptr<api::HttpClient> send,
           std::unique_ptr<api::HttpClient> report, chain::Genesis genesis)
      : follow_(std::move(follow)),
        send_(std::move(send)),
        report_(std::move(report)),
        genesis_(std::move(genesis)) {}

  std::mutex follow_mutex_;
  std::unique_ptr<api::HttpClient> follow_;
  std::mutex send_mutex_;
  std::unique_ptr<api::HttpClient> send_;
  std::mutex report_mutex_;
  std::unique_ptr<api::HttpClient> report_;
  const chain::Genesis genesis_;
};

}  // namespace baton::agent

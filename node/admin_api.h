// The admin HTTP API of batond (docs/OPERATIONS.md, "Admin API"). Listens on
// loopback by default: it is for the hospital's operators and scripts, not
// for the network. Every reply is JSON except /metrics.
//
//   GET  /status            {"node","chain_id","height","tip_hash","round",
//                            "step","peers":[{"name","address","connected"}],
//                            "mempool":{"txs","bytes"},"halted"} and, when
//                            halted, "halt_reason" (a sentence) and
//                            "halt_cause" (ledger, checkpoint, signer_state:
//                            resumes by itself; consensus: needs an operator)
//   POST /tx                body: a serialized chain.pb.Transaction, either
//                            raw bytes (Content-Type application/octet-stream
//                            or application/x-protobuf) or lower/upper-case hex
//                            (Content-Type text/x-hex; white space ignored).
//                            202 {"accepted":true,"hash","nonce"};
//                            400 {"accepted":false,"error"} when invalid;
//                            415 for another content type;
//                            503 when the mempool is full or the node busy.
//   GET  /block/{height}    the committed block, decoded, with its exact
//                            stored bytes in hex; 404 when not there.
//   GET  /tx/{hash}         {"status":"committed","height","index",...} or
//                            {"status":"pending"}; 404 when unknown.
//   GET  /nonce/{ed25519}   {"next_nonce"}: the nonce the sender's next
//                            transaction should carry (counts its waiting ones).
//   GET  /metrics           Prometheus text format.
//   GET  /training          the training protocol's state after this node's
//                            tip: node/training_json.h, training_status_json
//                            (runs, turns, votes, lineage, open requests).
//   GET  /models/check?run=ID   the object store's copy of the run's head (a
//                            finished run: its final model) checked against
//                            the ledger: {"run_id","run_status","model":{...}|null,
//                            "store": ok|missing|wrong_size|wrong_hash|
//                            unreachable|none,"hashed","detail"} (node/agent_api.cpp)
//   POST /models/repair      body {"run": ID}: checks every approved model of
//                            the run in the store and puts back this node's
//                            verified copies (on a thread of its own); 202
//                            {"started":true}, 409 while one runs.
//   GET  /models/repair?run=ID  {"running":true} or the last repair's result
//                            (node/model_repair.h, repair_json) plus "node".
//
// Every request first passes check_admin_request (node/admin_access.h: Host,
// Origin, and a non-simple Content-Type on anything but GET/HEAD).
//
// Thread: called on the HTTP server's thread (see http_server.h).
#pragma once

#include <memory>
#include <mutex>

#include "chain/ledger_state.h"
#include "node/admin_access.h"
#include "node/http_server.h"

namespace baton::node {

class Node;

class AdminApi {
 public:
  // Reads the node's config ([admin_api], admin_listen) for its request checks.
  explicit AdminApi(Node& node);
  HttpResponse handle(const HttpRequest& request);

 private:
  HttpResponse status();
  HttpResponse submit(const HttpRequest& request);
  HttpResponse block(std::string_view height_text);
  HttpResponse tx(std::string_view hash_text);
  HttpResponse nonce(std::string_view key_text);
  HttpResponse metrics();
  HttpResponse training();
  // agent_api.cpp: the partner agent's copies of models.
  HttpResponse models_check(const HttpRequest& request);
  HttpResponse models_repair(const HttpRequest& request);
  HttpResponse models_repair_status(const HttpRequest& request);

  Node& node_;
  const AdminAccessPolicy access_;
};

}  // namespace baton::node

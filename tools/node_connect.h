// How the `baton` CLI reaches a node's admin API (docs/OPERATIONS.md, "Admin
// API"): every command with --node takes http://HOST:PORT (loopback),
// https://HOST:PORT with --node-cert-sha256 (the node's certificate pinned by
// its fingerprint; no certificate authority is trusted) or unix:/PATH (the
// node's [admin_api] unix_socket).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "chain/result.h"
#include "api/http_client.h"

namespace CLI {
class App;
}

namespace baton::tools {

// Adds --node-cert-sha256 to `sub`. One value per process: the CLI runs one
// command, and every node it asks over https is pinned to it.
void add_node_cert_option(CLI::App* sub);

// The pin given with --node-cert-sha256 ("" when none).
const std::string& node_cert_sha256();

// HttpClient::connect_to with that pin.
Result<std::unique_ptr<api::HttpClient>> connect_node(const std::string& url,
                                                      std::chrono::milliseconds timeout);

// training_status_json (api/training_json.h) from the ledger in `data_dir` or
// the node at `node_url` (exactly one is non-empty), with the pin. On failure
// it exits with the matching code: usage, verify_failed, unavailable, failure.
nlohmann::json training_status_or_exit(const std::string& data_dir, const std::string& node_url);

}  // namespace baton::tools

// Small pieces every JSON HTTP API of Baton shares: the node's admin API
// (node/admin_api.h) and the partner agent's own API (agent/agent_api.h).
// Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/http_server.h"

namespace baton::api {

// `body` as an application/json response (one line and a newline). Text that
// is not valid UTF-8 (it can come from a peer or a ledger note) is replaced,
// never thrown on: an answer never turns into a 500 because of it.
HttpResponse json_reply(int status, const nlohmann::json& body);
// {"error": message}, a sentence saying what was wrong and what to do.
HttpResponse json_error(int status, const std::string& message);

// The path of a request target, without its query string.
std::string_view target_path(std::string_view target);
// The value of `name` in the target's query string ("" when absent or
// empty). Values are taken as sent: nothing is percent-decoded, so a caller
// accepts only values that need no escaping (heights, run ids).
std::string query_value(std::string_view target, std::string_view name);

}  // namespace baton::api

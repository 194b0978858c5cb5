// The admin API's bearer token (issue 12): what the partner agent
// (`baton-agent`) and the operator's `baton` CLI show the node to be allowed
// the endpoints that act for this hospital (sign a protocol transaction with
// its key, start a model repair) or serve the agent. docs/OPERATIONS.md,
// "Admin API token".
//
//   admin.token   (secret, mode 0600)  one line: "baton-admin-token-v1 " and
//                 64 lower-case hex characters (32 random bytes), then "\n".
//
// `batond` creates the file at start when it is absent (default: admin.token
// beside node.toml); whoever can read the file may use the endpoints, so file
// permissions are the access control, as for the key file. The token never
// travels in clear text off the host: an admin API or agent API on a
// non-loopback address refuses the token-protected endpoints (no TLS yet).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "chain/result.h"
#include "api/admin_access.h"

namespace baton::api {

inline constexpr std::string_view kAdminTokenPrefix = "baton-admin-token-v1 ";
inline constexpr std::string_view kAdminTokenFileName = "admin.token";

// The token in `path`, creating the file (mode 0600, a fresh random token)
// when it does not exist. Refuses a file that group or others may read or
// write ("chmod 600 it"), or that is not a token file.
Result<std::string> load_or_create_admin_token(const std::filesystem::path& path);

// The token in an existing file, with the same checks (clients: the agent,
// the CLI's --token-file).
Result<std::string> read_admin_token(const std::filesystem::path& path);

// True when `authorization` (an HTTP Authorization header) is "Bearer TOKEN"
// with exactly `token`; compares in constant time.
bool bearer_matches(std::string_view authorization, std::string_view token);

// Tokens are sent to and accepted on loopback addresses only:
// is_loopback_host (api/admin_access.h).

}  // namespace baton::api

// Reading a small file that holds a secret (a member's NAME.key) so that the
// secret ends up only in memory that is wiped (chain::SecretText).
#pragma once

#include <cstddef>
#include <filesystem>

#include "chain/result.h"
#include "chain/secret.h"

namespace baton::storage {

// The whole file, read with one read() into a buffer of the file's size: no
// stream buffer that grows and leaves copies of the secret in freed memory.
// Refuses a directory, a file larger than `max_bytes` (a key file is about
// 250 bytes) and one it cannot open; errors are sentences naming the path.
Result<chain::SecretText> read_secret_file(const std::filesystem::path& path,
                                           std::size_t max_bytes = 64 * 1024);

}  // namespace baton::storage

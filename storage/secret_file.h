// Reading a small file that holds a secret (a member's NAME.key) so that the
// secret ends up only in memory that is wiped (chain::SecretText), and making
// the directories that hold a hospital's secrets and models private.
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

// A directory only its owner may enter: created (with missing parents, which
// get the usual mode) with mode 0700 when it does not exist. An existing
// directory is left as the operator made it; the answer says whether group
// or others may read or enter it, for the caller to warn. Fails with a
// sentence when it cannot be made or is not a directory.
struct PrivateDirectory {
  bool created = false;
  bool open_to_others = false;  // an existing one with any group/other bits
  unsigned mode = 0;            // its permission bits
};
Result<PrivateDirectory> make_private_directory(const std::filesystem::path& dir);

}  // namespace baton::storage

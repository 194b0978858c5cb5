// Reading a small file that holds a secret (a member's NAME.key) so that the
// secret ends up only in memory that is wiped (chain::SecretText), and making
// the directories that hold a hospital's secrets and models private.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "chain/result.h"
#include "chain/secret.h"

namespace baton::storage {

// Who may have access to a secret file for read_secret_file to use it.
enum class SecretFileAccess {
  owner_only,  // refuse a file group or others may read or write (as ssh does)
  any,         // not a secret after all (a TLS certificate read the same way)
};

// The whole file, read with one read() into a buffer of the file's size: no
// stream buffer that grows and leaves copies of the secret in freed memory.
// Refuses a directory, a file larger than `max_bytes` (a key file is about
// 250 bytes), one it cannot open and, with SecretFileAccess::owner_only, one
// whose mode (checked on the open descriptor) gives group or others any of
// read, write or execute: the sentence names the file, its mode and the
// `chmod 600` that fixes it. Errors are sentences naming the path.
Result<chain::SecretText> read_secret_file(const std::filesystem::path& path,
                                           std::size_t max_bytes = 64 * 1024,
                                           SecretFileAccess access = SecretFileAccess::owner_only);

// The refusal read_secret_file gives for a secret file of mode `mode` (its
// permission bits) that group or others may use; nullopt when only the owner
// may. Exposed so that tests and callers with their own reader say the same.
std::optional<std::string> secret_file_mode_refusal(const std::filesystem::path& path,
                                                    unsigned mode);

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

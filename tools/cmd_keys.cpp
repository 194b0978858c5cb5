// `baton keygen`: a member's key pair files (formats in chain/keys.h and
// docs/PROTOCOL.md, "Key files"), and the admin API's token beside them
// (api/admin_token.h), so that an operator can provision it before the
// node's first start; an existing token is kept.
#include <sys/stat.h>

#include <filesystem>
#include <iostream>

#include "chain/genesis.h"
#include "chain/keys.h"
#include "api/admin_token.h"
#include "storage/secret_file.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace baton::tools {
namespace {

namespace fs = std::filesystem;

// Creates the key directory with mode 0700 (its parents as usual). An
// existing directory is kept as it is, with a warning when other users may
// write it: they could not read or plant the key file (write_file_atomic),
// but they could replace it later.
void make_key_directory(const fs::path& dir) {
  auto made = storage::make_private_directory(dir);
  if (!made) fail(made.error().message);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    fail(dir.string() + " is not a directory; choose another --out");
  if ((made->mode & (S_IWGRP | S_IWOTH)) != 0) {
    std::cerr << "baton: warning: " << dir.string()
              << " is writable by other users, who could replace the key files; keep keys in a "
                 "directory only you can write (mode 0700)\n";
  }
}

struct KeygenOptions {
  std::string name;
  std::string out_dir;
  std::string p2p = "127.0.0.1:0";
  bool json = false;
};

void keygen(const KeygenOptions& o) {
  if (auto s = chain::validate_member_name(o.name); !s) fail(s.error().message, Exit::usage);
  if (auto s = chain::validate_p2p_address(o.p2p); !s) fail(s.error().message, Exit::usage);
  const fs::path dir(o.out_dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    fail(dir.string() + " exists and is not a directory");
  const fs::path secret_path = dir / (o.name + ".key");
  const fs::path public_path = dir / (o.name + ".pub.json");
  const fs::path token_path = dir / api::kAdminTokenFileName;
  // Check both before writing either, so a refusal leaves nothing half-made.
  for (const auto& p : {secret_path, public_path}) {
    if (fs::exists(p, ec))
      fail(p.string() +
           " already exists; keys are never overwritten, choose another name or directory");
  }
  const bool token_existed = fs::exists(token_path, ec);
  if (token_existed) {
    if (auto t = api::read_admin_token(token_path); !t) fail(t.error().message);
  }
  make_key_directory(dir);
  const chain::MemberSecretKeys keys = chain::generate_member_keys(o.name);
  const chain::MemberPublicKeys pub = keys.public_keys(o.p2p);
  {
    const chain::SecretText text(chain::encode_secret_keys(keys));  // wiped when written
    write_file_atomic(secret_path, text.view(), fs::perms::owner_read | fs::perms::owner_write);
  }
  try {
    write_file_atomic(public_path, chain::encode_public_keys(pub));
  } catch (const CommandError&) {
    fs::remove(secret_path, ec);
    throw;
  }
  if (auto t = api::load_or_create_admin_token(token_path); !t) fail(t.error().message);
  if (o.json) {
    print_json({{"name", pub.name},
                {"key_file", secret_path.string()},
                {"public_file", public_path.string()},
                {"admin_token_file", token_path.string()},
                {"admin_token_kept", token_existed},
                {"ed25519_public", pub.ed25519.hex()},
                {"x25519_public", pub.x25519.hex()},
                {"p2p_address", pub.p2p_address}});
  } else {
    std::cout << "wrote " << secret_path.string() << " (secret, mode 0600) and "
              << public_path.string() << "\n"
              << (token_existed ? "kept " : "wrote ") << token_path.string()
              << " (the node's admin API token, mode 0600: set admin_token_file in node.toml to "
                 "it, or move it beside node.toml)\n"
              << "ed25519 public key: " << pub.ed25519.hex() << "\n";
  }
}

}  // namespace

void register_key_commands(CLI::App& app) {
  auto opts = std::make_shared<KeygenOptions>();
  auto* cmd = app.add_subcommand(
      "keygen",
      "Make a member's Ed25519 and X25519 keys: DIR/NAME.key (secret) and DIR/NAME.pub.json, "
      "and DIR/admin.token (the admin API's token; an existing one is kept)");
  cmd->add_option("--name", opts->name, "Member name: 1-64 of [A-Za-z0-9._-]")->required();
  cmd->add_option("--out", opts->out_dir, "Directory for the key files (created if missing)")
      ->required();
  cmd->add_option("--p2p", opts->p2p,
                  "This member's P2P address host:port, written into NAME.pub.json")
      ->capture_default_str();
  cmd->add_flag("--json", opts->json, "Print the result as JSON");
  cmd->callback([opts] { keygen(*opts); });
}

}  // namespace baton::tools

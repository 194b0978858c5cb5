// `baton vault seal|open`: encrypt a model file into a blob for some members,
// and decrypt it with one member's secret key (storage/vault.h,
// storage/envelope.h; formats in docs/PROTOCOL.md, "Vault blobs" and "Key
// envelopes").
#include <filesystem>
#include <iostream>

#include "chain/crypto.h"
#include "chain/keys.h"
#include "storage/envelope.h"
#include "storage/vault.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace baton::tools {
namespace {

namespace fs = std::filesystem;
using storage::VaultErrc;

struct VaultFlags {
  std::vector<std::string> to;
  std::string key_file;
  std::string envelope;
  std::string ad;       // --ad TEXT
  std::string ad_hex;   // --ad-hex HEX
  std::string ad_file;  // --ad-file FILE
  std::string in;
  std::string out;
  std::uint32_t chunk_size = storage::kDefaultChunkSize;
  bool force = false;
  bool json = false;
};

Exit exit_for(const Error& e) {
  switch (static_cast<VaultErrc>(e.code)) {
    case VaultErrc::bad_header:
    case VaultErrc::wrong_key:
    case VaultErrc::tampered:
    case VaultErrc::truncated:
    case VaultErrc::bad_envelope:
    // No entry for this key: the key is not a recipient, or the envelope's
    // keys were changed. Either way the envelope does not verify for it.
    case VaultErrc::not_recipient:
      return Exit::verify_failed;
    case VaultErrc::invalid_argument:
      return Exit::usage;
    default:
      return Exit::failure;
  }
}

// The associated data is bytes: a node binds its blobs to binary ids
// (storage::model_associated_data, docs/PROTOCOL.md §13), which no shell
// argument can carry, hence the hex and file forms. Exactly one of the three
// (CLI11 enforces it); a file is bounded before it is read.
constexpr std::uintmax_t kMaxAdFileBytes = 1 << 20;

std::string associated_data(const VaultFlags& f) {
  if (!f.ad_hex.empty()) {
    auto bytes = chain::from_hex(f.ad_hex);
    if (!bytes) fail("--ad-hex is not hex: " + bytes.error().message, Exit::usage);
    return std::string(bytes->begin(), bytes->end());
  }
  if (!f.ad_file.empty()) {
    std::error_code ec;
    const auto size = fs::file_size(f.ad_file, ec);
    if (!ec && size > kMaxAdFileBytes) {
      fail("--ad-file " + f.ad_file + " is " + std::to_string(size) +
               " bytes; associated data is at most 1 MiB",
           Exit::usage);
    }
    return read_file(f.ad_file, "associated data file");
  }
  return f.ad;
}

fs::path envelope_path_for(const fs::path& blob) { return blob.string() + ".envelope.json"; }

void seal(const VaultFlags& f) {
  if (f.chunk_size < storage::kMinChunkSize || f.chunk_size > storage::kMaxChunkSize) {
    fail("--chunk-size must be between 16 and 67108864 bytes", Exit::usage);
  }
  // Read every recipient before creating anything, so a bad one leaves no
  // files behind.
  std::vector<chain::MemberPublicKeys> members;
  for (const auto& path : f.to) {
    auto pub = chain::parse_public_keys(read_file(path, "public key file"));
    if (!pub) fail("public key file " + path + " is not valid: " + pub.error().message);
    members.push_back(*pub);
  }
  std::error_code ec;
  if (!fs::is_regular_file(f.in, ec))
    fail("input file " + f.in + " does not exist or is not a regular file");
  const fs::path blob = f.out;
  const fs::path env_path = envelope_path_for(blob);
  for (const auto& p : {blob, env_path}) {
    if (!f.force && fs::exists(p, ec))
      fail(p.string() + " already exists; remove it, choose another --out, or pass --force");
  }
  const auto key = storage::DataKey::generate();
  auto envelope = storage::make_envelope(key, members);
  if (!envelope) fail(envelope.error().message, Exit::usage);
  const std::string ad = associated_data(f);
  auto summary = storage::seal_file(f.in, blob, key, chain::as_bytes(ad),
                                    storage::SealOptions{f.chunk_size}, f.force);
  if (!summary) fail(summary.error().message, exit_for(summary.error()));
  envelope->blob_size = summary->blob_size;
  envelope->blob_sha256 = summary->blob_sha256;
  try {
    write_file_atomic(env_path, storage::encode_envelope(*envelope),
                      fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                          fs::perms::others_read,
                      f.force);
  } catch (const CommandError&) {
    fs::remove(blob, ec);  // a blob nobody can open is worse than none
    throw;
  }
  if (f.json) {
    auto names = nlohmann::json::array();
    for (const auto& m : members) names.push_back(m.name);
    print_json({{"blob", blob.string()},
                {"envelope", env_path.string()},
                {"blob_sha256", summary->blob_sha256.hex()},
                {"blob_size", summary->blob_size},
                {"plaintext_size", summary->plaintext_size},
                {"chunks", summary->chunks},
                {"recipients", names}});
  } else {
    std::cout << "sealed " << f.in << " into " << blob.string() << " (" << summary->blob_size
              << " bytes, sha256 " << summary->blob_sha256.hex() << ") for " << members.size()
              << " member(s); keys in " << env_path.string() << "\n";
  }
}

void open(const VaultFlags& f) {
  auto secret = chain::parse_secret_keys(read_secret_file(f.key_file, "key file").view());
  if (!secret) fail("key file " + f.key_file + " is not valid: " + secret.error().message);
  auto envelope = storage::parse_envelope(read_file(f.envelope, "envelope"));
  if (!envelope) fail(f.envelope + ": " + envelope.error().message, Exit::verify_failed);
  auto key = storage::unwrap(*envelope, secret->x25519);
  if (!key) fail(f.envelope + ": " + key.error().message, exit_for(key.error()));
  std::error_code ec;
  if (!fs::is_regular_file(f.in, ec))
    fail("blob " + f.in + " does not exist or is not a regular file");
  if (envelope->blob_size && fs::file_size(f.in, ec) != *envelope->blob_size) {
    fail("blob " + f.in + " is " + std::to_string(fs::file_size(f.in, ec)) +
             " bytes but its envelope records " + std::to_string(*envelope->blob_size) +
             "; it is truncated, extended or another blob. Nothing was written",
         Exit::verify_failed);
  }
  storage::OpenOptions options;
  options.overwrite = f.force;
  options.expected_blob_sha256 = envelope->blob_sha256;
  const std::string ad = associated_data(f);
  auto summary = storage::open_file(f.in, f.out, *key, chain::as_bytes(ad), options);
  if (!summary)
    fail("cannot open " + f.in + ": " + summary.error().message, exit_for(summary.error()));
  if (f.json) {
    print_json({{"out", f.out},
                {"plaintext_size", summary->plaintext_size},
                {"blob_sha256", summary->blob_sha256.hex()},
                {"member", secret->name}});
  } else {
    std::cout << "opened " << f.in << " into " << f.out << " (" << summary->plaintext_size
              << " bytes) as " << secret->name << "\n";
  }
}

// --ad TEXT | --ad-hex HEX | --ad-file FILE: exactly one.
void add_ad_options(CLI::App* cmd, VaultFlags& f, const std::string& what) {
  auto* group = cmd->add_option_group("associated data", what + ": exactly one of");
  group->add_option("--ad", f.ad, what + ", as text");
  group->add_option("--ad-hex", f.ad_hex,
                    what + ", as hex (a node's blob: docs/PROTOCOL.md §13 gives its bytes)");
  group->add_option("--ad-file", f.ad_file, what + ", the bytes of a file (at most 1 MiB)");
  group->require_option(1);
}

}  // namespace

void register_vault_commands(CLI::App& app) {
  auto* vault = app.add_subcommand(
      "vault", "Seal a model file for members (AES-256-GCM) and open it with a member key");
  vault->require_subcommand(1);
  auto f = std::make_shared<VaultFlags>();

  auto* s = vault->add_subcommand(
      "seal",
      "Encrypt FILE into BLOB with a fresh data key wrapped for each --to member; "
      "writes BLOB and BLOB.envelope.json");
  s->add_option("--to", f->to, "A member's NAME.pub.json (repeat for each recipient)")->required();
  add_ad_options(s, *f, "Associated data binding the blob to its place, e.g. CHAIN/MODEL/PARENT");
  s->add_option("--in", f->in, "Plaintext file")->required();
  s->add_option("--out", f->out, "Blob to write (the envelope goes to BLOB.envelope.json)")
      ->required();
  s->add_option("--chunk-size", f->chunk_size, "Plaintext bytes per chunk")->capture_default_str();
  s->add_flag("--force", f->force, "Replace existing output files");
  s->add_flag("--json", f->json, "Print the result as JSON");
  s->callback([f] { seal(*f); });

  auto* o = vault->add_subcommand(
      "open", "Decrypt BLOB with a member's key; FILE appears only if every byte authenticates");
  o->add_option("--key", f->key_file, "The member's NAME.key")->required();
  o->add_option("--envelope", f->envelope, "BLOB.envelope.json")->required();
  add_ad_options(o, *f, "The associated data the blob was sealed with");
  o->add_option("--in", f->in, "Blob")->required();
  o->add_option("--out", f->out, "Plaintext file to write")->required();
  o->add_flag("--force", f->force, "Replace the output file if it exists");
  o->add_flag("--json", f->json, "Print the result as JSON");
  o->callback([f] { open(*f); });
}

}  // namespace baton::tools

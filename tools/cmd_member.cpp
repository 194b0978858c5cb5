// `baton member list|add|remove|update|replace-keys|rotate-key`: the
// consortium's members as the ledger has them, and changes to them by vote
// (issue 18, docs/PROTOCOL.md §25, docs/OPERATIONS.md "Adding, removing and
// re-keying a member").
//
// A MemberChange applies once validators holding more than 2/3 of the power
// have sent the very same payload bytes: the change is identified by their
// SHA-256. So every approver must build the same bytes from the same
// arguments. The payload is a flat protobuf message (no maps, no nested
// messages); protobuf's C++ serializer writes known fields in field-number
// order and repeated fields in their given order, so equal field values give
// equal bytes. The roles are sorted here, and the expiry is an absolute
// height (--expires-at; --expires-in computes one from the node's height for
// the first approver, who hands it on), so that no argument order or clock
// changes the bytes. Each command prints the change id and the command line
// the other admins run; --expect-id refuses to submit anything else.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "api/http_client.h"
#include "chain/crypto.h"
#include "chain/genesis.h"
#include "chain/keys.h"
#include "api/members_json.h"
#include "chain/membership_steps.h"
#include "chain/proto/ledger.pb.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/node_connect.h"
#include "tools/signed_submit.h"

namespace baton::tools {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kDefaultNode = "http://127.0.0.1:26680";

json get_json(const std::string& node, const std::string& target) {
  auto client = connect_node(node, std::chrono::seconds(10));
  if (!client) fail(client.error().message, Exit::usage);
  auto r = (*client)->request("GET", target, {}, "application/json");
  if (!r) fail(r.error().message, Exit::unavailable);
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded() || r->status != 200) {
    fail("the node at " + node + " answered " + std::to_string(r->status) + " to GET " + target +
             (j.is_discarded() ? std::string() : ": " + j.value("error", std::string())) +
             "; is it a batond of this version?",
         Exit::unavailable);
  }
  return j;
}

// The signer: the genesis (the network signatures are bound to) and the key
// file of a CURRENT member in `members` (the node's GET /members answer: a
// newcomer's or a rotated key is in no genesis).
MemberSigner signer_among(const std::string& genesis_file, const std::string& key_file,
                          const json& members) {
  auto parsed = api::parse_node_members(members.dump());
  if (!parsed) fail(parsed.error().message, Exit::unavailable);
  return load_current_signer(genesis_file, key_file, parsed->members);
}

std::string hex_of(const std::string& bytes) { return chain::to_hex(chain::as_bytes(bytes)); }

template <class Key>
std::string key_argument(const std::string& text, const char* flag) {
  auto k = Key::from_hex(text);
  if (!k) fail(std::string(flag) + " " + text + ": give the key as 64 hex characters", Exit::usage);
  return std::string(k->bytes.begin(), k->bytes.end());
}

std::uint64_t count_argument(const std::string& text, const char* flag, bool zero_ok) {
  std::uint64_t v = 0;
  std::istringstream in(text);
  if (text.empty() || text[0] < '0' || text[0] > '9' || !(in >> v) || !in.eof() ||
      (!zero_ok && v == 0))
    fail(std::string(flag) + " " + text + ": give a whole number" + (zero_ok ? "" : " above 0"),
         Exit::usage);
  return v;
}

// --roles a,b: known role names, no duplicates, sorted (see the top).
std::vector<std::string> roles_argument(const std::string& text) {
  std::vector<std::string> roles;
  std::stringstream in(text);
  for (std::string r; std::getline(in, r, ',');) {
    if (r != chain::kRoleAdmin && r != chain::kRoleValidator && r != chain::kRolePartner &&
        r != chain::kRoleSponsor)
      fail("--roles: unknown role '" + r + "' (admin, validator, partner, sponsor)", Exit::usage);
    roles.push_back(r);
  }
  std::sort(roles.begin(), roles.end());
  if (std::adjacent_find(roles.begin(), roles.end()) != roles.end())
    fail("--roles names a role twice", Exit::usage);
  return roles;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

struct ChangeOptions {
  std::string kind;  // add, remove, update, replace-keys
  std::string name, ed25519, x25519, p2p, power, roles, expires_in, expires_at, expect_id;
  std::string genesis_file, key_file;
  std::string node = kDefaultNode;
  bool dry_run = false;
  bool json = false;
};

// The MemberChange of `o`. `members`: GET /members (UPDATE keeps what is
// not given), null for a dry run.
chain::pb::MemberChange build_change(const ChangeOptions& o, const json* members,
                                     std::string* approve_flags) {
  if (auto s = chain::validate_member_name(o.name); !s)
    fail("--name: " + s.error().message, Exit::usage);
  chain::pb::MemberChange c;
  c.set_name(o.name);
  std::ostringstream flags;
  flags << "--name " << o.name;
  const json* current = nullptr;
  if (members) {
    for (const auto& m : (*members)["members"]) {
      if (m.value("name", "") == o.name) current = &m;
    }
    if (o.kind == "add" && current) fail(o.name + " is a member already", Exit::usage);
    if (o.kind != "add" && !current) fail(o.name + " is no current member", Exit::usage);
  }
  if (o.kind == "add" || o.kind == "replace-keys") {
    if (o.ed25519.empty() || o.x25519.empty())
      fail("give --ed25519 and --x25519 (from the hospital's NAME.pub.json)", Exit::usage);
    c.set_ed25519(key_argument<chain::PublicKey>(o.ed25519, "--ed25519"));
    c.set_x25519(key_argument<chain::X25519PublicKey>(o.x25519, "--x25519"));
    flags << " --ed25519 " << hex_of(c.ed25519()) << " --x25519 " << hex_of(c.x25519());
  }
  if (o.kind == "add" || o.kind == "update") {
    std::string p2p = o.p2p, power = o.power, roles = o.roles;
    if (o.kind == "update" && current) {  // what is not given stays
      if (p2p.empty()) p2p = current->value("p2p_address", "");
      if (power.empty()) power = std::to_string(current->value("power", std::uint64_t{0}));
      if (roles.empty()) roles = join(current->value("roles", std::vector<std::string>{}));
    }
    if (p2p.empty() || power.empty() || roles.empty())
      fail("give --p2p HOST:PORT, --power P and --roles a,b", Exit::usage);
    if (auto s = chain::validate_p2p_address(p2p); !s)
      fail("--p2p: " + s.error().message, Exit::usage);
    c.set_p2p_address(p2p);
    c.set_power(count_argument(power, "--power", true));
    for (auto& r : roles_argument(roles)) c.add_roles(std::move(r));
    flags << " --p2p " << p2p << " --power " << c.power() << " --roles "
          << join(std::vector<std::string>(c.roles().begin(), c.roles().end()));
  }
  static const std::map<std::string, chain::pb::MemberChange::Kind> kinds = {
      {"add", chain::pb::MemberChange::ADD},
      {"remove", chain::pb::MemberChange::REMOVE},
      {"update", chain::pb::MemberChange::UPDATE},
      {"replace-keys", chain::pb::MemberChange::REPLACE_KEYS}};
  c.set_kind(kinds.at(o.kind));
  if (!o.expires_at.empty() == !o.expires_in.empty())
    fail("give --expires-at HEIGHT (as the first approver printed it) or --expires-in BLOCKS",
         Exit::usage);
  std::uint64_t expires = 0;
  if (!o.expires_at.empty()) {
    expires = count_argument(o.expires_at, "--expires-at", false);
  } else {
    if (!members) fail("--expires-in needs the node's height: use --expires-at with --dry-run");
    expires = (*members).value("height", std::uint64_t{0}) +
              count_argument(o.expires_in, "--expires-in", false);
  }
  c.set_expires_at_height(expires);
  flags << " --expires-at " << expires;
  *approve_flags = flags.str();
  return c;
}

void change(const ChangeOptions& o) {
  json members;
  if (!o.dry_run) members = get_json(o.node, "/members");
  std::string flags;
  const chain::pb::MemberChange c = build_change(o, o.dry_run ? nullptr : &members, &flags);
  const std::string payload = c.SerializeAsString();
  const std::string id = chain::sha256(payload).hex();
  const std::string approve = "baton member " + o.kind + " " + flags;
  if (!o.expect_id.empty() && o.expect_id != id) {
    fail("this change's id is " + id + ", not the expected " + o.expect_id +
             ": the arguments differ from the first approver's (compare with its command)",
         Exit::usage);
  }
  json out{{"id", id}, {"payload_hex", hex_of(payload)}, {"approve_with", approve}};
  if (!o.dry_run) {
    if (o.genesis_file.empty() || o.key_file.empty())
      fail("give --genesis FILE and --key NAME.key (this hospital's node key)", Exit::usage);
    const MemberSigner signer = signer_among(o.genesis_file, o.key_file, members);
    json sent = submit_signed(signer, o.node, chain::pb::TX_MEMBER_CHANGE, payload);
    out["approver"] = signer.member;
    out["hash"] = sent["hash"];
  }
  if (o.json) {
    print_json(out);
    return;
  }
  std::cout << (o.dry_run ? "change " : "approved change ") << id << " (" << o.kind << " " << o.name
            << ")" << (o.dry_run ? "" : " as " + out["approver"].get<std::string>()) << "\n"
            << "the other admins approve the same change with:\n  " << approve << " --expect-id "
            << id << "\n"
            << "`baton member list` shows its approvals; it applies once they hold more than 2/3 "
               "of the voting power\n";
}

void list(const std::string& node, bool as_json) {
  const json j = get_json(node, "/members");
  if (as_json) {
    print_json(j);
    return;
  }
  std::cout << "members after height " << j.value("height", std::uint64_t{0}) << "\n";
  std::printf("%-20s %6s  %-24s %-22s %s\n", "NAME", "POWER", "ROLES", "P2P", "ED25519");
  for (const auto& m : j["members"]) {
    std::printf("%-20s %6llu  %-24s %-22s %.16s…\n", m.value("name", "").c_str(),
                static_cast<unsigned long long>(m.value("power", std::uint64_t{0})),
                join(m.value("roles", std::vector<std::string>{})).c_str(),
                m.value("p2p_address", "").c_str(), m.value("ed25519", "").c_str());
  }
  if (j["pending"].empty()) {
    std::cout << "no pending change\n";
    return;
  }
  for (const auto& c : j["pending"]) {
    std::cout << "pending " << c.value("kind", "") << " " << c.value("name", "") << "  id "
              << c.value("id", "") << "\n  approved by "
              << join(c.value("approvers", std::vector<std::string>{})) << " (power "
              << c.value("approved_power", std::uint64_t{0}) << " of "
              << c.value("quorum_power", std::uint64_t{0}) << " needed), lapses at height "
              << c.value("expires_at_height", std::uint64_t{0}) << "\n";
  }
}

struct RotateOptions {
  std::string new_key_file, genesis_file, key_file;
  std::string node = kDefaultNode;
  bool json = false;
};

// A KeyRotation: new keys made as `baton keygen` makes them, proved by the
// new key's signature (chain/proto/ledger.proto), sent by the old key.
void rotate(const RotateOptions& o) {
  const fs::path out_path(o.new_key_file);
  std::error_code ec;
  if (fs::exists(out_path, ec))
    fail(out_path.string() + " already exists; keys are never overwritten, choose another file");
  const json members = get_json(o.node, "/members");
  const MemberSigner signer = signer_among(o.genesis_file, o.key_file, members);
  const chain::MemberSecretKeys next = chain::generate_member_keys(signer.member);
  const auto old_pub = signer.keys.signing.public_key();
  const auto new_pub = next.signing.public_key();
  const auto new_x = next.x25519.public_key();
  const chain::pb::KeyRotation rotation =
      chain::make_key_rotation(signer.spec.network(), old_pub, next.signing, new_x);
  // The new key file first: a rotation committed without it would lock the
  // hospital out.
  {
    const chain::SecretText text(chain::encode_secret_keys(next));
    write_file_atomic(out_path, text.view(), fs::perms::owner_read | fs::perms::owner_write);
  }
  json sent =
      submit_signed(signer, o.node, chain::pb::TX_KEY_ROTATION, rotation.SerializeAsString());
  json out{{"member", signer.member},      {"new_key_file", out_path.string()},
           {"old_ed25519", old_pub.hex()}, {"new_ed25519", new_pub.hex()},
           {"new_x25519", new_x.hex()},    {"hash", sent["hash"]}};
  if (o.json) {
    print_json(out);
    return;
  }
  std::cout << "submitted the key rotation of " << signer.member << ": "
            << out["hash"].get<std::string>() << "\nnew key file " << out_path.string()
            << " (secret, mode 0600), ed25519 " << new_pub.hex() << "\n"
            << "once `baton member list` shows the new key: stop batond, point key_file in "
               "node.toml at the new file, start batond (docs/OPERATIONS.md)\n";
}

void add_signer_options(CLI::App* sub, std::string& genesis, std::string& key, std::string& node,
                        bool& as_json) {
  sub->add_option("--genesis", genesis, "the chain's genesis file");
  sub->add_option("--key", key, "this hospital's node key file (key_file in node.toml)");
  sub->add_option("--node", node, "the node's admin API URL")->capture_default_str();
  add_node_cert_option(sub);
  sub->add_flag("--json", as_json, "print JSON for scripts");
}

}  // namespace

void register_member_commands(CLI::App& app) {
  auto* member = app.add_subcommand(
      "member", "The consortium's members, and changes to them by vote (list, add, remove, ...)");
  member->require_subcommand(1);
  {
    auto o = std::make_shared<std::pair<std::string, bool>>(kDefaultNode, false);
    auto* sub = member->add_subcommand("list", "Members and pending changes (GET /members)");
    sub->add_option("--node", o->first, "the node's admin API URL")->capture_default_str();
    add_node_cert_option(sub);
    sub->add_flag("--json", o->second, "print JSON for scripts");
    sub->callback([o] { list(o->first, o->second); });
  }
  const std::vector<std::pair<const char*, const char*>> kinds = {
      {"add", "Approve adding a member (each admin runs the same command)"},
      {"remove", "Approve removing a member"},
      {"update", "Approve a member's new address, power or roles"},
      {"replace-keys", "Approve new keys for a member whose key leaked or was lost"}};
  for (const auto& [kind, help] : kinds) {
    auto o = std::make_shared<ChangeOptions>();
    o->kind = kind;
    const std::string k = kind;
    auto* sub = member->add_subcommand(kind, help);
    sub->add_option("--name", o->name, "the member concerned")->required();
    if (k == "add" || k == "replace-keys") {
      sub->add_option("--ed25519", o->ed25519, "its Ed25519 public key (hex)");
      sub->add_option("--x25519", o->x25519, "its X25519 public key (hex)");
    }
    if (k == "add" || k == "update") {
      sub->add_option("--p2p", o->p2p, "its P2P address HOST:PORT");
      sub->add_option("--power", o->power, "its consensus voting power (0: no validator)");
      sub->add_option("--roles", o->roles, "its roles, comma-separated (admin,validator,...)");
    }
    sub->add_option("--expires-in", o->expires_in, "the change lapses this many blocks from now");
    sub->add_option("--expires-at", o->expires_at,
                    "the change lapses at this height (what the first approver printed)");
    sub->add_option("--expect-id", o->expect_id, "refuse unless the change has this id");
    sub->add_flag("--dry-run", o->dry_run, "print the change id and payload, submit nothing");
    add_signer_options(sub, o->genesis_file, o->key_file, o->node, o->json);
    sub->callback([o] { change(*o); });
  }
  {
    auto o = std::make_shared<RotateOptions>();
    auto* sub = member->add_subcommand(
        "rotate-key", "Replace this hospital's own keys: new key file, rotation signed by both");
    sub->add_option("--new-key-file", o->new_key_file, "where to write the new key")->required();
    add_signer_options(sub, o->genesis_file, o->key_file, o->node, o->json);
    sub->callback([o] {
      if (o->genesis_file.empty() || o->key_file.empty())
        fail("give --genesis FILE and --key NAME.key (the current key)", Exit::usage);
      rotate(*o);
    });
  }
}

}  // namespace baton::tools

// `baton genesis init|validate|hash`: write and check the consortium's genesis
// file (schema in docs/PROTOCOL.md, "Genesis file"). `validate` also checks a
// genesis training plan for what the partner agents need of it.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>

#include "chain/genesis.h"
#include "chain/keys.h"
#include "chain/protocol.h"
#include "chain/validator_set.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/plan_check.h"

namespace baton::tools {
namespace {

namespace fs = std::filesystem;

struct InitOptions {
  std::string chain_id;
  std::vector<std::string> member_files;
  std::vector<std::string> powers;    // NAME=N
  std::vector<std::string> balances;  // NAME=N credits
  std::vector<std::string> sponsors;  // members with role "sponsor" (power 0, no partner role)
  std::vector<std::string> admins;
  std::string time;
  std::string timeouts = "continent";  // lan, continent or world
  std::string out;
  bool json = false;
};

// The consensus timeouts a new genesis gets for the validators' round trip
// (docs/BENCHMARKS.md, "Over an emulated WAN": 4 and 7 validators committed at
// 20 and 50 ms one-way with 1% loss under the LAN values, p99 about 0.6 s; a
// lost segment costs one retransmission timeout, 200 ms plus a round trip).
// Each is several times what a step needs at that distance, so a round fails
// only when a proposer or a quorum is really missing; what they cost is the
// wait for a proposer that is down: about timeout_propose.
//   lan        one site or a metropolitan network (one-way under 5 ms)
//   continent  hospitals in one country or continent (one-way up to ~50 ms)
//   world      CometBFT's defaults (chain::ConsensusParams'), for any distance
void apply_timeouts(const std::string& preset, chain::ConsensusParams& c) {
  if (preset == "world") return;  // the struct's defaults
  const bool lan = preset == "lan";
  c.timeout_propose_ms = lan ? 500 : 1000;
  c.timeout_propose_delta_ms = lan ? 100 : 500;
  c.timeout_prevote_ms = lan ? 250 : 500;
  c.timeout_prevote_delta_ms = lan ? 100 : 250;
  c.timeout_precommit_ms = lan ? 250 : 500;
  c.timeout_precommit_delta_ms = lan ? 100 : 250;
}

struct FileOptions {
  std::string file;
  bool json = false;
};

std::uint64_t quorum_power(std::uint64_t total) { return total * 2 / 3 + 1; }

nlohmann::json summary(const chain::Genesis& g, const chain::Hash& hash) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : g.members)
    members.push_back(
        {{"name", m.name}, {"power", m.power}, {"roles", m.roles}, {"balance", m.balance}});
  return {{"chain_id", g.chain_id},
          {"genesis_time", chain::format_rfc3339_ms(g.genesis_time_unix_ms)},
          {"genesis_hash", hash.hex()},
          {"total_power", g.total_power()},
          {"quorum_power", quorum_power(g.total_power())},
          {"members", members}};
}

// The N of a --power or --balance NAME=N argument.
std::uint64_t parse_count(const std::string& text, const std::string& flag,
                          const std::string& arg) {
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || text[0] == '-') {
    fail(flag + " " + arg + ": the value must be a non-negative integer", Exit::usage);
  }
  return v;
}

void init(const InitOptions& o) {
  if (auto s = chain::validate_chain_id(o.chain_id); !s) fail(s.error().message, Exit::usage);
  std::error_code ec;
  if (fs::exists(o.out, ec)) fail(o.out + " already exists; remove it or choose another path");

  chain::Genesis g;
  g.chain_id = o.chain_id;
  apply_timeouts(o.timeouts, g.consensus);
  if (o.time.empty()) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    g.genesis_time_unix_ms = std::chrono::duration_cast<std::chrono::seconds>(now).count() * 1000;
  } else {
    auto t = chain::parse_rfc3339_ms(o.time);
    if (!t) fail("--time: " + t.error().message, Exit::usage);
    g.genesis_time_unix_ms = *t;
  }
  for (const auto& path : o.member_files) {
    auto keys = chain::parse_public_keys(read_file(path, "member public key file"));
    if (!keys) fail(path + ": " + keys.error().message);
    chain::GenesisMember m;
    m.name = keys->name;
    m.ed25519 = keys->ed25519;
    m.x25519 = keys->x25519;
    m.p2p_address = keys->p2p_address;
    g.members.push_back(std::move(m));
  }
  auto by_name = [&](const std::vector<std::string>& args, const std::string& flag) {
    std::map<std::string, std::uint64_t> out;
    for (const auto& arg : args) {
      const auto eq = arg.find('=');
      if (eq == std::string::npos) fail(flag + " " + arg + ": expected NAME=N", Exit::usage);
      const std::string name = arg.substr(0, eq);
      if (g.find_member(name) == nullptr)
        fail(flag + " " + arg + ": no member is named \"" + name + "\"", Exit::usage);
      out[name] = parse_count(arg.substr(eq + 1), flag, arg);
    }
    return out;
  };
  const std::map<std::string, std::uint64_t> power = by_name(o.powers, "--power");
  const std::map<std::string, std::uint64_t> balance = by_name(o.balances, "--balance");
  for (const auto& name : o.sponsors) {
    if (g.find_member(name) == nullptr)
      fail("--sponsor " + name + ": no member is named \"" + name + "\"", Exit::usage);
    if (power.contains(name) && power.at(name) > 0)
      fail("--sponsor " + name + ": a sponsor has voting power 0", Exit::usage);
  }
  for (const auto& name : o.admins) {
    if (g.find_member(name) == nullptr)
      fail("--admin " + name + ": no member is named \"" + name + "\"", Exit::usage);
  }
  for (auto& m : g.members) {
    if (auto it = power.find(m.name); it != power.end()) m.power = it->second;
    if (auto it = balance.find(m.name); it != balance.end()) m.balance = it->second;
    if (std::find(o.sponsors.begin(), o.sponsors.end(), m.name) != o.sponsors.end()) {
      // Keys, credits, no data and no vote (docs/PROTOCOL.md §19.6).
      m.power = 0;
      m.roles = {std::string(chain::kRoleSponsor)};
    }
    if (std::find(o.admins.begin(), o.admins.end(), m.name) != o.admins.end())
      m.roles.emplace_back(chain::kRoleAdmin);
    if (m.has_role(chain::kRoleSponsor)) continue;
    if (m.power > 0) m.roles.emplace_back(chain::kRoleValidator);
    m.roles.emplace_back(chain::kRolePartner);
  }
  if (auto s = chain::validate_genesis(g); !s) fail(s.error().message);
  const std::string text = chain::encode_genesis(g);
  // What we write must be what every node will read back.
  auto back = chain::parse_genesis(text);
  if (!back)
    fail("internal error: the encoded genesis does not parse back: " + back.error().message);
  write_file_atomic(o.out, text);
  const chain::Hash hash = chain::genesis_hash(text);
  if (o.json) {
    auto j = summary(g, hash);
    j["path"] = o.out;
    print_json(j);
  } else {
    std::cout << "wrote " << o.out << ": chain id " << g.chain_id << ", " << g.members.size()
              << " members, total power " << g.total_power() << "\n"
              << "genesis hash " << hash.hex() << "\n";
  }
}

std::pair<chain::Genesis, chain::Hash> load(const std::string& path) {
  const std::string text = read_file(path, "genesis file");
  auto g = chain::parse_genesis(text);
  if (!g) fail(path + ": " + g.error().message);
  return {std::move(*g), chain::genesis_hash(text)};
}

// parse_genesis has decoded and checked the plan as the ledger will; this
// adds what the partner agents need of it (tools/plan_check.h), which the
// ledger leaves to them.
void check_genesis_plan(const std::string& path, const chain::Genesis& g) {
  if (!g.training_plan) return;
  if (auto s = check_plan_for_agents(*g.training_plan); !s)
    fail(path + ": training_plan: " + s.error().message);
}

void validate(const FileOptions& o) {
  const auto [g, hash] = load(o.file);
  check_genesis_plan(o.file, g);
  if (o.json) {
    auto j = summary(g, hash);
    j["valid"] = true;
    print_json(j);
    return;
  }
  std::cout << o.file << " is valid: chain id " << g.chain_id << ", " << g.members.size()
            << " members (";
  for (std::size_t i = 0; i < g.members.size(); ++i) {
    std::cout << (i ? ", " : "") << g.members[i].name << " power " << g.members[i].power;
  }
  std::cout << "), total power " << g.total_power() << ", a commit needs power "
            << quorum_power(g.total_power()) << "\n"
            << "genesis hash " << hash.hex() << "\n";
}

void hash(const FileOptions& o) {
  const auto [g, h] = load(o.file);
  if (o.json) {
    print_json({{"chain_id", g.chain_id}, {"genesis_hash", h.hex()}});
  } else {
    std::cout << h.hex() << "\n";
  }
}

}  // namespace

void register_genesis_commands(CLI::App& app) {
  auto* genesis = app.add_subcommand("genesis", "Write and check the genesis file");
  genesis->require_subcommand(1);

  auto init_opts = std::make_shared<InitOptions>();
  auto* init_cmd =
      genesis->add_subcommand("init", "Write a genesis file from members' NAME.pub.json files");
  init_cmd->add_option("--chain-id", init_opts->chain_id, "Chain id: 1-64 of [A-Za-z0-9._-]")
      ->required();
  init_cmd
      ->add_option("--member", init_opts->member_files,
                   "A member's NAME.pub.json (repeat, in validator order)")
      ->required();
  init_cmd->add_option("--power", init_opts->powers,
                       "NAME=N voting power (default 1; 0 = not a validator)");
  init_cmd->add_option("--balance", init_opts->balances,
                       "NAME=N credits allocated at genesis (default 0; docs/PROTOCOL.md, "
                       "\"Accounts and escrow\")");
  init_cmd->add_option("--sponsor", init_opts->sponsors,
                       "Make NAME a sponsor: power 0, role \"sponsor\" only (repeatable)");
  init_cmd->add_option("--admin", init_opts->admins, "Give NAME the admin role (repeatable)");
  init_cmd->add_option("--time", init_opts->time, "Genesis time, RFC 3339 (default: now)");
  init_cmd
      ->add_option("--timeouts", init_opts->timeouts,
                   "Consensus timeouts for the validators' distance: lan (one site), continent "
                   "(default: one-way delays up to ~50 ms) or world (CometBFT's)")
      ->check(CLI::IsMember({"lan", "continent", "world"}));
  init_cmd
      ->add_option("--out", init_opts->out, "Path of the genesis file to write (never overwritten)")
      ->required();
  init_cmd->add_flag("--json", init_opts->json, "Print the result as JSON");
  init_cmd->callback([init_opts] { init(*init_opts); });

  auto validate_opts = std::make_shared<FileOptions>();
  auto* validate_cmd = genesis->add_subcommand("validate", "Check a genesis file and summarise it");
  validate_cmd->add_option("file", validate_opts->file, "genesis.json")->required();
  validate_cmd->add_flag("--json", validate_opts->json, "Print the result as JSON");
  validate_cmd->callback([validate_opts] { validate(*validate_opts); });

  auto hash_opts = std::make_shared<FileOptions>();
  auto* hash_cmd = genesis->add_subcommand(
      "hash", "Print the network identity: SHA-256 of the genesis file's bytes");
  hash_cmd->add_option("file", hash_opts->file, "genesis.json")->required();
  hash_cmd->add_flag("--json", hash_opts->json, "Print the result as JSON");
  hash_cmd->callback([hash_opts] { hash(*hash_opts); });
}

}  // namespace baton::tools

#include "tests/cli/cli_fixture.h"

#include <algorithm>
#include <optional>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chain/genesis.h"

namespace baton::testing {

namespace fs = std::filesystem;

std::size_t count_entries(const fs::path& dir) {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

namespace {

// The message of a failure's one stderr line: after "baton: ", or under
// --json the "error" of {"error": ..., "exit": N} whose N is the exit code.
// nullopt when the line is neither.
std::optional<std::string> error_message(const RunResult& r) {
  if (r.err.empty() || r.err.find('\n') != r.err.size() - 1) return std::nullopt;
  const std::string line = r.err.substr(0, r.err.size() - 1);
  if (line.rfind("baton: ", 0) == 0) return line.substr(7);
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object() || j.size() != 2 || !j.contains("error") || !j["error"].is_string() ||
      j.value("exit", -1) != r.exit_code)
    return std::nullopt;
  return j["error"].get<std::string>();
}

}  // namespace

bool one_sentence_error(const RunResult& r) {
  return r.signal == 0 && error_message(r).has_value();
}

void expect_one_sentence_failure(const RunResult& r, int exit_code,
                                 const std::string& must_contain) {
  EXPECT_EQ(r.signal, 0) << r.err;
  EXPECT_EQ(r.exit_code, exit_code) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  const std::optional<std::string> message = error_message(r);
  ASSERT_TRUE(message.has_value()) << "not one `baton: ` or JSON error line: " << r.err;
  EXPECT_NE(message->find(must_contain), std::string::npos) << "stderr: " << r.err;
}

chain::MemberSecretKeys write_member_keys(const fs::path& dir, const std::string& name,
                                          const std::string& p2p_address) {
  fs::create_directories(dir);
  auto keys = chain::generate_member_keys(name);
  write_text(dir / (name + ".key"), chain::encode_secret_keys(keys));
  fs::permissions(dir / (name + ".key"), fs::perms::owner_read | fs::perms::owner_write);
  write_text(dir / (name + ".pub.json"), chain::encode_public_keys(keys.public_keys(p2p_address)));
  return keys;
}

void write_consortium(const fs::path& dir, const ConsortiumSpec& spec) {
  fs::create_directories(dir / "keys");
  chain::Genesis genesis;
  genesis.chain_id = spec.chain_id;
  genesis.genesis_time_unix_ms = 1795478400000;
  for (std::size_t i = 0; i < spec.members; ++i) {
    const auto keys = chain::generate_member_keys(spec.name_prefix + std::to_string(i));
    write_text(dir / "keys" / (keys.name + ".key"), chain::encode_secret_keys(keys));
    fs::permissions(dir / "keys" / (keys.name + ".key"),
                    fs::perms::owner_read | fs::perms::owner_write);
    chain::GenesisMember m;
    m.name = keys.name;
    m.ed25519 = keys.signing.public_key();
    m.x25519 = keys.x25519.public_key();
    m.p2p_address = "127.0.0.1:1";
    if (i < spec.powers.size()) m.power = spec.powers[i];
    m.roles = {"validator", "partner"};
    if (i == 0 && spec.first_is_admin) m.roles.push_back("admin");
    genesis.members.push_back(m);
  }
  write_text(dir / "genesis.json", chain::encode_genesis(genesis));
}

OneNode::OneNode(const OneNodeSpec& spec) {
  chain::Genesis genesis;
  genesis.chain_id = "cli-test";
  genesis.genesis_time_unix_ms = 1795478400000;
  const auto add = [&](const std::string& name, std::uint64_t power, const std::string& p2p_address,
                       bool is_admin) {
    const auto keys = write_member_keys(dir / "keys", name, p2p_address);
    chain::GenesisMember m;
    m.name = keys.name;
    m.ed25519 = keys.signing.public_key();
    m.x25519 = keys.x25519.public_key();
    m.p2p_address = p2p_address;
    m.power = power;
    if (power > 0) m.roles.emplace_back("validator");
    m.roles.emplace_back("partner");
    if (is_admin) m.roles.emplace_back("admin");
    genesis.members.push_back(std::move(m));
  };
  add("a", 1, "127.0.0.1:" + std::to_string(p2p), spec.admin);
  for (const auto& name : spec.idle_partners) add(name, 0, "127.0.0.1:1", false);
  write_text(dir / "genesis.json", chain::encode_genesis(genesis));
  write_config("keys/a.key", "genesis.json", "data");
}

void OneNode::write_config(const std::string& key, const std::string& genesis,
                           const std::string& data) {
  write_text(config, "name = \"a\"\nkey_file = \"" + key + "\"\ngenesis_file = \"" + genesis +
                         "\"\ndata_dir = \"" + data +
                         "\"\np2p_listen = \"127.0.0.1:" + std::to_string(p2p) +
                         "\"\nadmin_listen = \"127.0.0.1:" + std::to_string(admin) + "\"\n");
}

RunResult make_chain(const fs::path& dir, const fs::path& data_dir, int blocks, int txs_per_block,
                     const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"dev",
                                   "make-chain",
                                   "--genesis",
                                   (dir / "genesis.json").string(),
                                   "--keys",
                                   (dir / "keys").string(),
                                   "--blocks",
                                   std::to_string(blocks),
                                   "--txs-per-block",
                                   std::to_string(txs_per_block),
                                   "--data-dir",
                                   data_dir.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_baton(args);
}

}  // namespace baton::testing

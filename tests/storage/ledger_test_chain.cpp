#include "ledger_test_chain.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace baton::storage::testing {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "test consortium: %s\n", why.c_str());
  std::abort();
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) die("cannot write " + path.string());
}

chain::ChainSpec spec_of(const std::string& genesis_text) {
  auto spec = chain::load_chain_spec(genesis_text);
  if (!spec) die("genesis does not load: " + spec.error().message);
  return std::move(spec).value();
}

}  // namespace

std::vector<chain::SigningKey> TestConsortium::signing_keys() const {
  std::vector<chain::SigningKey> out;
  for (const auto& m : members) out.push_back(m.signing);
  return out;
}

TestConsortium make_test_consortium(std::size_t count, const std::string& chain_id) {
  std::vector<chain::MemberSecretKeys> members;
  chain::Genesis genesis;
  genesis.chain_id = chain_id;
  genesis.genesis_time_unix_ms = 1795478400000;  // 2026-11-24T00:00:00Z
  for (std::size_t i = 0; i < count; ++i) {
    members.push_back(chain::generate_member_keys("hospital-" + std::to_string(i)));
    const auto pub = members.back().public_keys("127.0.0.1:" + std::to_string(26600 + i));
    chain::GenesisMember m;
    m.name = pub.name;
    m.ed25519 = pub.ed25519;
    m.x25519 = pub.x25519;
    m.p2p_address = pub.p2p_address;
    m.power = 1;
    m.roles = {"validator", "partner"};
    genesis.members.push_back(m);
  }
  std::string text = chain::encode_genesis(genesis);
  chain::ChainSpec spec = spec_of(text);
  return TestConsortium{std::move(members), std::move(text), std::move(spec)};
}

void write_consortium(const TestConsortium& consortium, const fs::path& dir) {
  fs::create_directories(dir / "keys");
  spit(dir / "genesis.json", consortium.genesis_text);
  for (const auto& m : consortium.members) {
    spit(dir / "keys" / (m.name + ".key"), chain::encode_secret_keys(m));
    fs::permissions(dir / "keys" / (m.name + ".key"),
                    fs::perms::owner_read | fs::perms::owner_write);  // as baton keygen
  }
}

TestConsortium read_consortium(const fs::path& dir) {
  std::string text = slurp(dir / "genesis.json");
  chain::ChainSpec spec = spec_of(text);
  std::vector<chain::MemberSecretKeys> members;
  for (const auto& member : spec.genesis.members) {
    auto keys = chain::parse_secret_keys(slurp(dir / "keys" / (member.name + ".key")));
    if (!keys) die("bad key file for " + member.name + ": " + keys.error().message);
    members.push_back(std::move(keys).value());
  }
  return TestConsortium{std::move(members), std::move(text), std::move(spec)};
}

}  // namespace baton::storage::testing

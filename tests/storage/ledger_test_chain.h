// A small test consortium (members' keys and a genesis) for the ledger tests
// and the crash-writer child, written to and read back from a directory
// laid out like the demo's: DIR/genesis.json and DIR/keys/NAME.key.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "chain/chain_spec.h"
#include "chain/keys.h"

namespace baton::storage::testing {

struct TestConsortium {
  std::vector<chain::MemberSecretKeys> members;
  std::string genesis_text;  // the exact genesis file bytes
  chain::ChainSpec spec;

  std::vector<chain::SigningKey> signing_keys() const;
};

// `count` members named hospital-0.. with power 1 each and fresh keys.
TestConsortium make_test_consortium(std::size_t count, const std::string& chain_id = "test-chain");

// Writes DIR/genesis.json and DIR/keys/NAME.key.
void write_consortium(const TestConsortium& consortium, const std::filesystem::path& dir);

// Reads what write_consortium wrote; aborts the test helper on bad files.
TestConsortium read_consortium(const std::filesystem::path& dir);

}  // namespace baton::storage::testing

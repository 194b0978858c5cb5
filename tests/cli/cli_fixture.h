// Setup and checks shared by the CLI tests (tests/cli/*_cli_test.cpp): small
// files, member keys and consortia written in-process (each run of the real
// binary costs time; keygen and genesis init have their own tests), a chain
// made by `baton dev make-chain`, and the rules every failure follows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "chain/keys.h"
#include "tests/support/test_support.h"

namespace baton::testing {

// Whole-file write (truncating) and read, binary.

// Number of entries in a directory.
std::size_t count_entries(const std::filesystem::path& dir);

// The rules every failure of `baton` follows: an exit code (not a signal),
// exactly one line on stderr that starts "baton: ", or under --json is
// {"error": MESSAGE, "exit": the exit code}.
bool one_sentence_error(const RunResult& r);

// one_sentence_error(r) with `exit_code`, the line containing `must_contain`,
// and nothing on stdout; each part is its own EXPECT.
void expect_one_sentence_failure(const RunResult& r, int exit_code,
                                 const std::string& must_contain);

// DIR/NAME.key (the secret keys) and DIR/NAME.pub.json (with `p2p_address`);
// creates DIR. Returns the keys.
chain::MemberSecretKeys write_member_keys(const std::filesystem::path& dir, const std::string& name,
                                          const std::string& p2p_address = "127.0.0.1:0");

// A consortium on disk: DIR/genesis.json and DIR/keys/NAME.key for members
// named `name_prefix` + 0, 1, ...; every member is a validator and partner at
// 127.0.0.1:1 of power 1 (or powers[i] where given, at least 1), and the
// first is also an admin when asked.
struct ConsortiumSpec {
  std::size_t members = 3;
  std::string chain_id = "cli-chain";
  std::string name_prefix = "site-";
  bool first_is_admin = false;
  std::vector<std::uint64_t> powers = {};
};
void write_consortium(const std::filesystem::path& dir, const ConsortiumSpec& spec = {});

// The files of one member "a" that `batond --config config` can run, with
// free loopback ports: DIR/keys/a.{key,pub.json}, DIR/genesis.json and
// DIR/node.toml (paths relative to DIR, data in DIR/data). "a" is the only
// validator (power 1) and a partner, an admin when asked; each name in
// `idle_partners` is a member of power 0 with the partner role and keys in
// DIR/keys, whose node nobody starts (a plan may name it: the chain needs a
// partner's models to be voted on by someone else).
struct OneNodeSpec {
  bool admin = false;
  std::vector<std::string> idle_partners;
};
struct OneNode {
  explicit OneNode(const OneNodeSpec& spec = {});
  // Rewrites DIR/node.toml with these paths (relative to DIR).
  void write_config(const std::string& key, const std::string& genesis, const std::string& data);
  std::string admin_url() const { return "http://127.0.0.1:" + std::to_string(admin); }

  TempDir dir;
  std::filesystem::path config = dir / "node.toml";
  int p2p = free_port();
  int admin = free_port();
};

// `baton dev make-chain` on DIR/genesis.json and DIR/keys into `data_dir`,
// with `extra` flags appended (e.g. "--json").
RunResult make_chain(const std::filesystem::path& dir, const std::filesystem::path& data_dir,
                     int blocks, int txs_per_block, const std::vector<std::string>& extra = {});

}  // namespace baton::testing

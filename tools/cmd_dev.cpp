// `baton dev make-chain`: builds a valid, fully signed chain for tests,
// benchmarks and the demo, playing every member of the consortium (it needs
// every member's secret key, which no real deployment has in one place).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "chain/chain_spec.h"
#include "chain/keys.h"
#include "storage/ledger_maker.h"
#include "storage/ledger_store.h"
#include "storage/ledger_verify.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace baton::tools {

namespace fs = std::filesystem;

namespace {

struct MakeChainOptions {
  std::string genesis;
  std::string keys;
  std::uint64_t blocks = 0;
  std::size_t txs_per_block = 10;
  std::string data_dir;
  bool synced = false;
  bool json = false;
};

std::vector<chain::SigningKey> read_member_keys(const chain::ChainSpec& spec, const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail("keys directory " + dir.string() + " does not exist");
  std::vector<chain::SigningKey> out;
  for (const auto& member : spec.genesis.members) {
    const fs::path path = dir / (member.name + ".key");
    auto keys = chain::parse_secret_keys(read_secret_file(path, "key file").view());
    if (!keys) fail("key file " + path.string() + " is not valid: " + keys.error().message);
    if (keys->signing.public_key() != member.ed25519) {
      fail("key file " + path.string() +
           " does not hold the ed25519 key that the genesis gives member \"" + member.name +
           "\"; use the keys the genesis was made from");
    }
    out.push_back(keys->signing);
  }
  return out;
}

void make_chain(const MakeChainOptions& o) {
  // Read and check every input before touching --data-dir, so that bad input
  // creates nothing.
  const std::string genesis_text = read_file(o.genesis, "genesis file");
  auto spec = chain::load_chain_spec(genesis_text);
  if (!spec) fail("genesis file " + o.genesis + " is not valid: " + spec.error().message);
  const std::vector<chain::SigningKey> keys = read_member_keys(*spec, o.keys);
  if (o.txs_per_block > spec->params().max_block_txs) {
    fail("--txs-per-block " + std::to_string(o.txs_per_block) + " exceeds the genesis limit of " +
             std::to_string(spec->params().max_block_txs),
         Exit::usage);
  }

  const auto started = std::chrono::steady_clock::now();
  auto store = storage::LedgerStore::open_writer({.dir = o.data_dir,
                                                  .genesis_hash = spec->genesis_hash,
                                                  .genesis_document = genesis_text,
                                                  .sync_each_append = o.synced});
  if (!store) fail(store.error().message);

  // Extending an existing ledger: verify it first, which also yields the
  // state the new blocks build on.
  chain::LedgerState start = chain::initial_state(spec->genesis_hash);
  const std::uint64_t before = (*store)->tip().height;
  if (before > 0) {
    auto verdict = storage::verify_ledger(
        **store, *spec, {.threads = std::max(1u, std::thread::hardware_concurrency())});
    if (!verdict) fail(verdict.error().message);
    if (!*verdict) {
      fail("the existing ledger in " + o.data_dir + " does not verify (height " +
               std::to_string(verdict->reason().height) + ": " + verdict->reason().what +
               "); use a new --data-dir",
           Exit::verify_failed);
    }
    start = verdict->value().state;
  }

  storage::ChainMakerOptions maker_options;
  maker_options.txs_per_block = o.txs_per_block;
  maker_options.first_block_time_unix_ms = spec->genesis.genesis_time_unix_ms + 1000;
  auto maker = storage::ChainMaker::create(*spec, keys, start, maker_options);
  if (!maker) fail(maker.error().message);
  for (std::uint64_t i = 0; i < o.blocks; ++i) {
    auto block = maker->next_block();
    if (!block) fail(block.error().message);
    if (auto appended = (*store)->append(*block); !appended) fail(appended.error().message);
  }
  if (auto synced = (*store)->sync(); !synced) fail(synced.error().message);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const storage::Tip tip = (*store)->tip();
  if (o.json) {
    print_json({{"data_dir", o.data_dir},
                {"chain_id", spec->chain_id()},
                {"blocks_added", o.blocks},
                {"transactions_added", o.blocks * o.txs_per_block},
                {"height", tip.height},
                {"tip", tip.block_id.hex()},
                {"seconds", seconds}});
    return;
  }
  std::printf("made %llu block(s) of %zu transaction(s) in %s (%.2f s)\n",
              static_cast<unsigned long long>(o.blocks), o.txs_per_block, o.data_dir.c_str(),
              seconds);
  std::printf("chain %s, height %llu, tip %s\n", spec->chain_id().c_str(),
              static_cast<unsigned long long>(tip.height), tip.block_id.hex().c_str());
}

}  // namespace

void register_dev_commands(CLI::App& app) {
  CLI::App* dev =
      app.add_subcommand("dev", "Developer tools (test chains); not for production ledgers");
  dev->require_subcommand(1);
  auto o = std::make_shared<MakeChainOptions>();
  CLI::App* sub = dev->add_subcommand("make-chain",
                                      "Build (or extend) a valid signed chain: notes from every "
                                      "member, commits from every validator");
  sub->add_option("--genesis", o->genesis, "genesis file")->required();
  sub->add_option("--keys", o->keys, "directory with NAME.key for every genesis member")
      ->required();
  sub->add_option("--blocks", o->blocks, "blocks to add")
      ->required()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}));
  sub->add_option("--txs-per-block", o->txs_per_block, "transactions per block (default 10)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{100'000}));
  sub->add_option("--data-dir", o->data_dir,
                  "ledger directory (created if missing; extended if it holds this chain)")
      ->required();
  sub->add_flag(
      "--synced", o->synced,
      "fsync every block as a node does (slow); by default the log is synced once at the end");
  sub->add_flag("--json", o->json, "print JSON for scripts");
  sub->callback([o] { make_chain(*o); });
}

}  // namespace baton::tools

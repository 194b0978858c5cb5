// `baton ledger show|block|tx|verify|export`: read a ledger, also while a node
// writes it (every command opens the store read-only). See README, "The
// ledger CLI", and docs/PROTOCOL.md for the formats shown.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "chain/block.h"
#include "chain/chain_spec.h"
#include "chain/transaction.h"
#include "storage/ledger_store.h"
#include "storage/ledger_verify.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/ledger_json.h"

namespace baton::tools {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// DIR is a ledger directory, or a node's data directory whose ledger is
// DIR/ledger (batond's layout).
std::unique_ptr<storage::LedgerStore> open_ledger(const fs::path& dir) {
  std::error_code ec;
  const bool node_dir =
      !fs::exists(dir / "CURRENT", ec) && fs::exists(dir / "ledger" / "CURRENT", ec);
  auto store = storage::LedgerStore::open_reader(node_dir ? dir / "ledger" : dir);
  if (!store) fail(store.error().message);
  return std::move(store).value();
}

// The ledger's own genesis copy and its members by name (tools/ledger_names.h);
// nullopt when that copy is missing or altered (verify reports that; the
// viewing commands still work and show keys instead of names).
struct Named {
  chain::ChainSpec spec;
  LedgerMembers members;
};
std::optional<Named> names_for(const storage::LedgerStore& store) {
  auto spec = storage::stored_chain_spec(store);
  if (!spec) return std::nullopt;
  LedgerMembers members = ledger_members(*spec, store);
  return Named{std::move(spec).value(), std::move(members)};
}

std::string read_block_or_fail(const storage::LedgerStore& store, std::uint64_t height) {
  auto bytes = store.block_at(height);
  if (!bytes) fail(bytes.error().message);
  if (!bytes->has_value()) {
    // State sync (docs/PROTOCOL.md §24.4): history below history_from is
    // still being backfilled.
    if (const std::uint64_t from = store.history_from(); height < from) {
      fail("the ledger holds blocks only from height " + std::to_string(from) +
               " (it joined by state sync and is still backfilling); height " +
               std::to_string(height) + " is not stored yet",
           Exit::verify_failed);
    }
    // Below the tip a block must be there: its absence is a damaged ledger.
    const std::uint64_t tip = store.tip().height;
    if (height <= tip) {
      fail("the ledger is missing the block at height " + std::to_string(height) +
               " below its tip at height " + std::to_string(tip) + "; run baton ledger verify",
           Exit::verify_failed);
    }
    fail("the ledger has no block at height " + std::to_string(height) + "; its tip is at height " +
         std::to_string(tip));
  }
  return std::move(bytes->value());
}

struct CommonOptions {
  std::string data_dir;
  bool json = false;
};

void add_common(CLI::App* sub, CommonOptions& o) {
  sub->add_option("--data-dir", o.data_dir,
                  "ledger directory (make-chain's --data-dir), or a node's data directory")
      ->required();
  sub->add_flag("--json", o.json, "print JSON for scripts");
}

void show(const CommonOptions& o, std::uint64_t last) {
  auto store = open_ledger(o.data_dir);
  const auto names = names_for(*store);
  const storage::Tip tip = store->tip();
  json blocks = json::array();
  // From history_from at least: a ledger made by state sync starts there.
  const std::uint64_t first =
      std::max(tip.height > last ? tip.height - last + 1 : 1, store->history_from());
  auto recent = store->blocks_from(first, static_cast<std::size_t>(tip.height - first + 1));
  if (!recent) fail(recent.error().message);
  for (std::size_t i = 0; i < recent->size(); ++i) {
    blocks.push_back(
        block_summary_json((*recent)[i], first + i, names ? &names->members.names : nullptr));
  }
  json out = {{"data_dir", o.data_dir},
              {"chain_id", names ? json(names->spec.chain_id()) : json(nullptr)},
              {"genesis_hash", store->genesis_hash().hex()},
              {"height", tip.height},
              {"tip", tip.block_id.hex()},
              {"members", json::array()},
              {"recent_blocks", blocks}};
  // The members after the tip: the genesis ones until the ledger changes
  // them by vote (docs/PROTOCOL.md §25).
  if (names) {
    out["members_after_height"] = names->members.height;
    for (const auto& m : names->members.current) {
      out["members"].push_back(
          {{"name", m.name}, {"ed25519", m.ed25519.hex()}, {"power", m.power}});
    }
  }
  if (o.json) return print_json(out);

  std::cout << "ledger       " << o.data_dir << "\n"
            << "chain id     "
            << (names ? names->spec.chain_id() : "(genesis copy missing or altered)") << "\n"
            << "genesis      " << store->genesis_hash().hex() << "\n"
            << "height       " << tip.height << "\n"
            << "tip          " << tip.block_id.hex() << "\n";
  if (names) {
    std::cout << "members      ";
    const auto& current = names->members.current;
    for (std::size_t i = 0; i < current.size(); ++i) {
      std::cout << (i ? ", " : "") << current[i].name << " (power " << current[i].power << ")";
    }
    if (names->members.height < tip.height)
      std::cout << " (after block " << names->members.height << ")";
    std::cout << "\n";
  }
  if (tip.height == 0) {
    std::cout << "\nno blocks yet\n";
    return;
  }
  // Validators now (power > 0); a block from before a membership change had
  // the set of its own height.
  std::size_t validators = 0;
  if (names) {
    for (const auto& m : names->members.current) validators += m.power > 0 ? 1 : 0;
  }
  std::cout << "\nlast " << blocks.size() << " block(s):\n";
  std::printf("%8s  %-16s  %-24s  %4s  %-14s  %s\n", "height", "block id", "time (UTC)", "txs",
              "proposer", "commit");
  for (const auto& b : blocks) {
    std::printf("%8llu  %-16.16s  %-24s  %4zu  %-14s  %zu of %zu validators\n",
                static_cast<unsigned long long>(b["height"].get<std::uint64_t>()),
                b["block_id"].get<std::string>().c_str(), b["time"].get<std::string>().c_str(),
                b["transactions"].get<std::size_t>(), b["proposer"].get<std::string>().c_str(),
                b["commit_signatures"].get<std::size_t>(), validators);
  }
}

void block(const CommonOptions& o, std::uint64_t height) {
  if (height == 0) fail("--height must be 1 or more (block 1 is the first block)", Exit::usage);
  auto store = open_ledger(o.data_dir);
  const auto names = names_for(*store);
  const std::string bytes = read_block_or_fail(*store, height);
  const json j =
      block_json(bytes, height, names ? &names->members.names : nullptr, /*with_stored_hex=*/false);
  if (o.json) return print_json(j);
  print_block_human(j);
}

void tx(const CommonOptions& o, const std::string& hash_hex) {
  auto hash = chain::Hash::from_hex(hash_hex);
  if (!hash)
    fail("--hash must be 64 hex characters (a transaction's SHA-256), got \"" + hash_hex + "\"",
         Exit::usage);
  auto store = open_ledger(o.data_dir);
  auto where = store->find_tx(*hash);
  if (!where) fail(where.error().message);
  if (!where->has_value())
    fail("no transaction with hash " + hash->hex() + " is in the ledger at " + o.data_dir);
  const auto names = names_for(*store);
  const std::string bytes = read_block_or_fail(*store, (*where)->height);
  const json b =
      block_json(bytes, (*where)->height, names ? &names->members.names : nullptr, false);
  const auto& txs = b["transactions"];
  if ((*where)->index >= txs.size())
    fail("the ledger's transaction index points past the end of block " +
             std::to_string((*where)->height) + "; run baton ledger verify",
         Exit::verify_failed);
  json t = txs[(*where)->index];
  t["height"] = (*where)->height;
  t["index"] = (*where)->index;
  if (t["hash"] != hash->hex())
    fail("the ledger's transaction index is inconsistent with block " +
             std::to_string((*where)->height) + "; run baton ledger verify",
         Exit::verify_failed);
  if (o.json) return print_json(t);
  print_tx_human(t);
}

void verify(const CommonOptions& o, const std::string& genesis_path, unsigned threads) {
  auto store = open_ledger(o.data_dir);
  const auto started = std::chrono::steady_clock::now();
  auto report_fault = [&](const storage::LedgerFault& f) {
    const std::string where =
        f.height == 0 ? std::string("genesis") : "height " + std::to_string(f.height);
    if (o.json) print_json({{"ok", false}, {"height", f.height}, {"error", f.what}});
    fail(where + ": " + f.what, Exit::verify_failed);
  };

  // The stored genesis copy must match the hash the ledger was created for;
  // a genesis given on the command line must be that same genesis.
  auto stored = storage::stored_chain_spec(*store);
  std::optional<chain::ChainSpec> spec;
  if (!genesis_path.empty()) {
    const std::string text = read_file(genesis_path, "genesis file");
    auto given = chain::load_chain_spec(text);
    if (!given) fail("genesis file " + genesis_path + " is not valid: " + given.error().message);
    spec = std::move(given).value();
    if (!stored && !store->genesis_document().empty()) report_fault(stored.reason());
  } else {
    if (!stored) report_fault(stored.reason());
    spec = std::move(stored).value();
  }

  storage::VerifyOptions options;
  options.threads = threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : threads;
  auto verdict = storage::verify_ledger(*store, *spec, options);
  if (!verdict) fail(verdict.error().message);
  if (!*verdict) report_fault(verdict->reason());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto& ok = verdict->value();
  if (o.json) {
    return print_json({{"ok", true},
                       {"chain_id", spec->chain_id()},
                       {"height", ok.state.height},
                       {"tip", ok.state.last_block_id.hex()},
                       {"transactions", ok.transactions},
                       {"signatures_checked", ok.signatures},
                       {"snapshots_checked", ok.snapshots},
                       {"threads", options.threads},
                       {"seconds", seconds}});
  }
  std::printf("ledger verified: height %llu, tip %s\n",
              static_cast<unsigned long long>(ok.state.height),
              ok.state.last_block_id.hex().c_str());
  std::printf("chain %s, %llu transactions, %llu signatures checked on %u thread(s) in %.2f s\n",
              spec->chain_id().c_str(), static_cast<unsigned long long>(ok.transactions),
              static_cast<unsigned long long>(ok.signatures), options.threads, seconds);
  if (ok.snapshots > 0)
    std::printf("%llu state snapshot(s) checked against the chain\n",
                static_cast<unsigned long long>(ok.snapshots));
}

void export_lines(const CommonOptions& o, const std::string& out_path) {
  auto store = open_ledger(o.data_dir);
  const auto names = names_for(*store);
  std::error_code ec;
  if (fs::exists(out_path, ec))
    fail(out_path + " already exists; remove it or choose another --out");
  const fs::path out(out_path);
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) fail("directory " + dir.string() + " for --out does not exist");

  // Stream to a temporary file, then rename: a reader never sees half an export.
  const fs::path tmp = out_path + ".tmp." + std::to_string(::getpid());
  std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
  if (!file) fail("cannot create " + tmp.string());
  const storage::Tip tip = store->tip();
  std::uint64_t written = 0;
  for (std::uint64_t next = 1; next <= tip.height;) {
    auto blocks = store->blocks_from(next, 512);
    if (!blocks || blocks->empty()) {
      file.close();
      fs::remove(tmp, ec);
      if (!blocks) fail(blocks.error().message);
      fail("the ledger is missing the block at height " + std::to_string(next) +
               " below its tip at height " + std::to_string(tip.height) +
               "; run baton ledger verify",
           Exit::verify_failed);
    }
    for (const std::string& bytes : *blocks) {
      file << block_json(bytes, next++, names ? &names->members.names : nullptr,
                         /*with_stored_hex=*/true)
                  .dump()
           << '\n';
      ++written;
    }
  }
  file.flush();
  file.close();
  if (!file) {
    fs::remove(tmp, ec);
    fail("cannot write " + out_path + " (disk full?)");
  }
  fs::rename(tmp, out, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail("cannot rename the export into " + out_path + ": " + ec.message());
  }
  if (o.json) return print_json({{"out", out_path}, {"blocks", written}, {"height", tip.height}});
  std::cout << "exported " << written << " block(s) (heights 1.." << tip.height << ") to "
            << out_path << "\n";
}

}  // namespace

void register_ledger_commands(CLI::App& app) {
  CLI::App* ledger = app.add_subcommand(
      "ledger", "Inspect, verify and export a ledger (read-only; works while a node runs)");
  ledger->require_subcommand(1);

  {
    auto o = std::make_shared<CommonOptions>();
    auto last = std::make_shared<std::uint64_t>(10);
    CLI::App* sub =
        ledger->add_subcommand("show", "Chain id, height, tip and the most recent blocks");
    add_common(sub, *o);
    sub->add_option("--last", *last, "how many recent blocks to list (default 10)");
    sub->callback([o, last] { show(*o, *last); });
  }
  {
    auto o = std::make_shared<CommonOptions>();
    auto height = std::make_shared<std::uint64_t>(0);
    CLI::App* sub = ledger->add_subcommand("block", "One block: header, transactions and commit");
    add_common(sub, *o);
    sub->add_option("--height", *height, "block height (1 is the first block)")->required();
    sub->callback([o, height] { block(*o, *height); });
  }
  {
    auto o = std::make_shared<CommonOptions>();
    auto hash = std::make_shared<std::string>();
    CLI::App* sub = ledger->add_subcommand("tx", "One transaction by its hash, and where it is");
    add_common(sub, *o);
    sub->add_option("--hash", *hash, "the transaction's SHA-256 (64 hex characters)")->required();
    sub->callback([o, hash] { tx(*o, *hash); });
  }
  {
    auto o = std::make_shared<CommonOptions>();
    auto genesis = std::make_shared<std::string>();
    auto threads = std::make_shared<unsigned>(0);
    CLI::App* sub = ledger->add_subcommand("verify",
                                           "Recompute every hash, root, signature, nonce, "
                                           "commit and index entry from genesis (exit 3 on the "
                                           "first bad block)");
    add_common(sub, *o);
    sub->add_option("--genesis", *genesis,
                    "genesis file to verify against (default: the copy stored in the ledger)");
    sub->add_option("--threads", *threads,
                    "threads that read and check blocks ahead of the one applying them "
                    "(default: all cores)");
    sub->callback([o, genesis, threads] { verify(*o, *genesis, *threads); });
  }
  {
    auto o = std::make_shared<CommonOptions>();
    auto out = std::make_shared<std::string>();
    CLI::App* sub = ledger->add_subcommand(
        "export",
        "Write JSON Lines, one block per line, decoded and with its exact stored bytes in hex");
    add_common(sub, *o);
    sub->add_option("--out", *out, "output file (must not exist)")->required();
    sub->callback([o, out] { export_lines(*o, *out); });
  }
}

}  // namespace baton::tools

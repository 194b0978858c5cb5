// `baton account balance|transfer|history` (issue 13): credit balances on the
// ledger (chain/accounts.h). `balance` reads the state like `run status`
// (a ledger on disk, replayed and verified, or a node's GET /training);
// `transfer` signs a TX_TRANSFER with a member's key and submits it;
// `history` replays the ledger's blocks from genesis (chain/account_history.h)
// and lists every credit and debit: from a ledger directory, or block by
// block from a node's GET /block/H, each checked (signatures, commit, state
// hash) against the genesis file given with --genesis.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>

#include <nlohmann/json.hpp>

#include "chain/account_history.h"
#include "chain/block.h"
#include "chain/genesis.h"
#include "chain/membership.h"
#include "api/http_client.h"
#include "api/training_json.h"
#include "storage/ledger_store.h"
#include "storage/ledger_verify.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/node_connect.h"
#include "tools/signed_submit.h"

namespace baton::tools {
namespace {

using nlohmann::json;

struct AccountReadOptions {
  std::string data_dir;
  std::string node;
  std::string genesis_file;  // history --node: the chain to check the blocks against
  std::string member;        // empty: every member
  bool json = false;
};

void add_read_options(CLI::App* sub, AccountReadOptions& o) {
  auto* d = sub->add_option("--data-dir", o.data_dir,
                            "ledger directory, or a node's data directory (read from disk)");
  auto* n = sub->add_option("--node", o.node, "a node's admin API URL");
  add_node_cert_option(sub);
  d->excludes(n);
  n->excludes(d);
  sub->add_option("--member", o.member, "one member's name (default: every member)");
  sub->add_flag("--json", o.json, "print JSON for scripts");
}

void balance(const AccountReadOptions& o) {
  const json st = training_status_or_exit(o.data_dir, o.node);
  const json balances = st.value("balances", json::object());
  json out{{"height", st["height"]}};
  if (o.member.empty()) {
    out["balances"] = balances;
  } else {
    out["member"] = o.member;
    out["balance"] = balances.value(o.member, std::uint64_t{0});
  }
  if (o.json) {
    print_json(out);
    return;
  }
  std::cout << "height   " << out["height"].get<std::uint64_t>() << "\n";
  if (!o.member.empty()) {
    std::cout << o.member << "  " << out["balance"].get<std::uint64_t>() << " credits\n";
    return;
  }
  if (balances.empty()) std::cout << "no member holds credits\n";
  for (const auto& [name, credits] : balances.items())
    std::cout << name << "  " << credits.get<std::uint64_t>() << " credits\n";
}

// Replays `next_block(h)` for h = 1..tip through an AccountHistory.
template <class NextBlock>
std::vector<chain::AccountEntry> replay(const chain::ChainSpec& spec, const std::string& member,
                                        std::uint64_t tip, NextBlock next_block) {
  chain::AccountHistory history(spec, member);
  chain::LedgerState state = chain::initial_state(spec.genesis_hash);
  for (std::uint64_t h = 1; h <= tip; ++h) {
    const std::string stored = next_block(h);
    auto committed = chain::decode_committed_block(stored);
    if (!committed)
      fail("block " + std::to_string(h) + " does not decode: " + committed.error().message,
           Exit::verify_failed);
    // Block h's senders and commit are the members after h - 1 (§25).
    auto decoded =
        chain::check_block_stateless(spec, chain::current_validators(spec, state), *committed);
    if (!decoded)
      fail("block " + std::to_string(h) +
               " is invalid: " + std::string(chain::to_string(decoded.reason().reason)),
           Exit::verify_failed);
    auto after = history.apply(state, *decoded);
    if (!after)
      fail("block " + std::to_string(h) + " does not follow the ledger before it: " +
               std::string(chain::to_string(after.reason().reason)),
           Exit::verify_failed);
    state = std::move(after).value();
  }
  return history.entries();
}

std::vector<chain::AccountEntry> history_from_ledger(const AccountReadOptions& o) {
  namespace fs = std::filesystem;
  const fs::path dir(o.data_dir);
  std::error_code ec;
  const bool node_dir =
      !fs::exists(dir / "CURRENT", ec) && fs::exists(dir / "ledger" / "CURRENT", ec);
  auto store = storage::LedgerStore::open_reader(node_dir ? dir / "ledger" : dir);
  if (!store) fail(store.error().message);
  auto spec = storage::stored_chain_spec(**store);
  if (!spec)
    fail("the ledger in " + o.data_dir + " has no valid genesis copy: " + spec.reason().what,
         Exit::verify_failed);
  return replay(*spec, o.member, (*store)->tip().height, [&](std::uint64_t h) {
    auto b = (*store)->block_at(h);
    if (!b) fail(b.error().message);
    if (!b->has_value()) fail("the ledger has no block at height " + std::to_string(h));
    return **b;
  });
}

std::vector<chain::AccountEntry> history_from_node(const AccountReadOptions& o) {
  if (o.genesis_file.empty())
    fail("history from a node needs --genesis FILE, the chain's genesis, to check its blocks",
         Exit::usage);
  auto spec = chain::load_chain_spec(read_file(o.genesis_file, "genesis file"));
  if (!spec) fail("genesis file " + o.genesis_file + " is not valid: " + spec.error().message);
  auto client = connect_node(o.node, std::chrono::seconds(30));
  if (!client) fail(client.error().message, Exit::usage);
  auto get = [&](const std::string& target) {
    auto r = (*client)->get(target);
    if (!r) fail(r.error().message, Exit::unavailable);
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || r->status != 200)
      fail("the node at " + o.node + " did not answer " + target, Exit::unavailable);
    return j;
  };
  const json st = get("/status");
  if (st.value("genesis_hash", "") != spec->genesis_hash.hex()) {
    fail("the node at " + o.node + " runs genesis " + st.value("genesis_hash", "") + ", not " +
         spec->genesis_hash.hex() + " (" + o.genesis_file + ")");
  }
  return replay(*spec, o.member, st.value("height", std::uint64_t{0}), [&](std::uint64_t h) {
    const json b = get("/block/" + std::to_string(h));
    auto bytes = chain::from_hex(b.value("stored_hex", ""));
    if (!bytes) fail("the node's block " + std::to_string(h) + " is not hex", Exit::unavailable);
    return std::string(bytes->begin(), bytes->end());
  });
}

void history(const AccountReadOptions& o) {
  if (o.data_dir.empty() == o.node.empty())
    fail("give either --data-dir DIR or --node URL", Exit::usage);
  const auto entries = o.data_dir.empty() ? history_from_node(o) : history_from_ledger(o);
  json list = json::array();
  for (const auto& e : entries) {
    list.push_back({{"height", e.height},
                    {"member", e.member},
                    {"direction", e.credit ? "credit" : "debit"},
                    {"amount", e.amount},
                    {"balance_after", e.balance_after},
                    {"kind", e.kind},
                    {"counterparty", e.counterparty},
                    {"tx_hash", e.tx_hash ? e.tx_hash->hex() : std::string()}});
  }
  if (o.json) {
    print_json({{"member", o.member.empty() ? json(nullptr) : json(o.member)}, {"entries", list}});
    return;
  }
  if (entries.empty())
    std::cout << "no credit or debit" << (o.member.empty() ? "" : " of " + o.member) << "\n";
  for (const auto& e : entries) {
    std::cout << "height " << e.height << "  " << e.member << (e.credit ? "  +" : "  -") << e.amount
              << "  " << e.kind
              << (e.counterparty.empty() ? std::string()
                                         : (e.credit ? " from " : " to ") + e.counterparty)
              << "  balance " << e.balance_after << "\n";
  }
}

struct TransferOptions {
  std::string to;
  std::string amount;  // parsed by credits_argument
  std::string genesis_file;
  std::string key_file;
  std::string node = "http://127.0.0.1:26680";
  bool json = false;
};

void transfer(const TransferOptions& o) {
  const std::uint64_t amount = credits_argument(o.amount, "--amount");
  const MemberSigner signer = load_member_signer(o.genesis_file, o.key_file);
  if (signer.spec.genesis.find_member(o.to) == nullptr)
    fail("\"" + o.to + "\" is not a member of chain " + signer.spec.chain_id() +
             "; credits go to genesis members only",
         Exit::usage);
  chain::pb::Transfer t;
  t.set_to(o.to);
  t.set_amount(amount);
  json out = submit_signed(signer, o.node, chain::pb::TX_TRANSFER, t.SerializeAsString());
  out["from"] = signer.member;
  out["to"] = o.to;
  out["amount"] = amount;
  if (o.json) {
    print_json(out);
    return;
  }
  std::cout << "submitted a transfer of " << amount << " credits from " << signer.member << " to "
            << o.to << ": " << out["hash"].get<std::string>() << "\n"
            << "`baton account history --member " << signer.member
            << "` shows it once committed; `baton run status` lists it if the ledger refused it\n";
}

}  // namespace

void register_account_commands(CLI::App& app) {
  auto* account = app.add_subcommand("account", "Credit balances: show, transfer, history");
  account->require_subcommand(1);
  {
    auto o = std::make_shared<AccountReadOptions>();
    auto* sub = account->add_subcommand("balance", "Members' credit balances at the ledger's tip");
    add_read_options(sub, *o);
    sub->callback([o] { balance(*o); });
  }
  {
    auto o = std::make_shared<AccountReadOptions>();
    auto* sub = account->add_subcommand(
        "history", "Every credit and debit, replayed from the ledger's blocks");
    add_read_options(sub, *o);
    sub->add_option("--genesis", o->genesis_file,
                    "with --node: the chain's genesis file, to check the node's blocks");
    sub->callback([o] { history(*o); });
  }
  {
    auto o = std::make_shared<TransferOptions>();
    auto* sub = account->add_subcommand(
        "transfer", "Sign a transfer of credits with a member's key and submit it to a node");
    sub->add_option("--to", o->to, "the recipient's member name")->required();
    sub->add_option("--amount", o->amount, "credits to send (a positive integer)")->required();
    sub->add_option("--genesis", o->genesis_file, "the chain's genesis file")->required();
    sub->add_option("--key", o->key_file, "the sender's NAME.key")->required();
    sub->add_option("--node", o->node, "the node's admin API URL")->capture_default_str();
    add_node_cert_option(sub);
    sub->add_flag("--json", o->json, "print JSON for scripts");
    sub->callback([o] { transfer(*o); });
  }
}

}  // namespace baton::tools

// The chain pages: overview, blocks, a block, a transaction, search.
#include <algorithm>
#include <cctype>
#include <charconv>

#include "chain/block.h"
#include "chain/transaction.h"
#include "node/block_json.h"
#include "node/console_html.h"
#include "node/console_pages.h"

namespace baton::node::console {
namespace {

using nlohmann::json;

std::optional<std::uint64_t> parse_height(std::string_view text) {
  std::uint64_t h = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), h);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return h;
}

bool is_hash_text(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c));
         });
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string name_of(const Names& names, const std::string& key_hex) {
  const auto it = names.find(key_hex);
  return it == names.end() ? short_hash(key_hex) : it->second;
}

std::string block_href(std::uint64_t height) { return "/console/block/" + std::to_string(height); }
std::string tx_href(std::string_view hash) { return "/console/tx/" + url_component(hash); }
std::string run_href(std::string_view id) { return "/console/run/" + url_component(id); }

std::string time_text(const json& block) {
  const auto ms = block.value("time_unix_ms", std::int64_t{0});
  return ms > 0 ? chain::format_rfc3339_ms(ms) : "";
}

// Every refusal the state still keeps (the run logs and the global one).
std::vector<const chain::Refusal*> refusals(const chain::LedgerState* state) {
  std::vector<const chain::Refusal*> out;
  if (state == nullptr) return out;
  for (const auto& r : state->training.refusals.recent) out.push_back(&r);
  for (const auto& [id, run] : state->training.runs)
    for (const auto& r : run.refusals.recent) out.push_back(&r);
  return out;
}

std::vector<std::string> refusal_row(const chain::Refusal& r) {
  return {link(tx_href(r.tx_hash.hex()), short_hash(r.tx_hash.hex())),
          escape(r.sender),
          escape(chain::pb::TxType_Name(r.type)),
          escape(chain::to_string(r.reason)),
          r.run_id.empty() ? "" : link(run_href(r.run_id), r.run_id),
          r.turn ? std::to_string(*r.turn) : ""};
}

// One row per block, newest first, from `top` down to `bottom`.
std::vector<std::vector<std::string>> block_rows(const ChainView& view, std::uint64_t top,
                                                 std::uint64_t bottom) {
  std::vector<std::vector<std::string>> rows;
  for (std::uint64_t h = top; h >= bottom && h > 0; --h) {
    auto stored = view.ledger.block_at(h);
    if (!stored || !stored->has_value()) {
      rows.push_back({std::to_string(h), "", "", "", "(not readable)"});
      continue;
    }
    const json b = block_json(**stored);
    rows.push_back(
        {link(block_href(h), std::to_string(h)),
         "<span class=\"mono\">" + escape(short_hash(text_of(b, "block_id"))) + "</span>",
         escape(time_text(b)),
         "<span class=\"num\">" + std::to_string(b.value("transactions", json::array()).size()) +
             "</span>",
         escape(name_of(view.names, text_of(b, "proposer")))});
  }
  return rows;
}

const std::vector<std::string> kBlockHeader{"height", "block id", "time", "txs", "proposer"};

}  // namespace

Page not_found_page(std::string_view what) {
  return {404, "Not found", "<h1>Not found</h1><p>" + escape(what) + "</p>", ""};
}

Page overview_page(const ChainView& view, const NodeSnapshot& node) {
  std::string body = "<h1>Chain</h1>";
  if (node.halted) {
    body += "<p class=\"warn\">" + tag("halted") + " " + escape(node.halt_reason) + " (" +
            escape(node.halt_cause) + ")</p>";
  }
  body += "<table class=\"kv\">";
  body += "<tr><th>height</th><td>" + std::to_string(node.height) + "</td></tr>";
  body += "<tr><th>tip</th><td class=\"mono\">" + escape(node.tip_hash.hex()) + "</td></tr>";
  body += "<tr><th>consensus</th><td>round " + std::to_string(node.round) + ", " +
          escape(node.step) + "</td></tr>";
  body += "<tr><th>mempool</th><td>" + std::to_string(node.mempool_txs) + " txs, " +
          std::to_string(node.mempool_bytes) + " bytes</td></tr>";
  body += "<tr><th>halted</th><td>" + tag(node.halted ? "halted" : "no") + "</td></tr>";
  if (view.state != nullptr && view.state->training.active_run) {
    body += "<tr><th>active run</th><td>" +
            link(run_href(*view.state->training.active_run), *view.state->training.active_run) +
            "</td></tr>";
  }
  body += "</table>";
  const std::uint64_t tip = view.ledger.tip().height;
  body += "<h2>Latest blocks</h2>";
  const std::uint64_t bottom = tip > kOverviewBlocks ? tip - kOverviewBlocks + 1 : 1;
  body += table(kBlockHeader, block_rows(view, tip, bottom));
  body += "<p>" + link("/console/blocks", "all blocks") + "</p>";
  return {200, "Chain", body, ""};
}

Page blocks_page(const ChainView& view, std::string_view top_text) {
  const std::uint64_t tip = view.ledger.tip().height;
  std::uint64_t top = tip;
  if (!top_text.empty()) {
    const auto h = parse_height(top_text);
    if (!h) return {400, "Blocks", "<h1>Blocks</h1><p>?top= must be a height.</p>", ""};
    top = std::min(*h, tip);
  }
  const std::uint64_t bottom = top > kBlocksPerPage ? top - kBlocksPerPage + 1 : 1;
  std::string body = "<h1>Blocks " + std::to_string(bottom) + "\xE2\x80\x93" + std::to_string(top) +
                     " of " + std::to_string(tip) + "</h1>";
  body += table(kBlockHeader, block_rows(view, top, bottom));
  body += "<p class=\"pager\">";
  if (top < tip) {
    body +=
        link("/console/blocks?top=" + std::to_string(std::min(tip, top + kBlocksPerPage)), "newer");
  }
  if (bottom > 1) body += link("/console/blocks?top=" + std::to_string(bottom - 1), "older");
  body += "</p>";
  return {200, "Blocks", body, ""};
}

Page block_page(const ChainView& view, std::string_view height_text) {
  const auto height = parse_height(height_text);
  if (!height || *height == 0) return not_found_page("A block is named by its height, 1 or more.");
  auto stored = view.ledger.block_at(*height);
  if (!stored) return {500, "Block", "<p>" + escape(stored.error().message) + "</p>", ""};
  if (!stored->has_value())
    return not_found_page("There is no block at height " + std::to_string(*height) + " yet.");
  const json b = block_json(**stored);
  const std::string title = "Block " + std::to_string(*height);
  std::string body = "<h1>" + escape(title) + "</h1><table class=\"kv\">";
  const auto row = [&](std::string_view k, const std::string& html) {
    body += "<tr><th>" + escape(k) + "</th><td>" + html + "</td></tr>";
  };
  const auto mono = [](const std::string& t) {
    return "<span class=\"mono\">" + escape(t, 0) + "</span>";
  };
  row("block id", mono(text_of(b, "block_id")));
  row("time", escape(time_text(b)));
  row("previous block", *height > 1
                            ? link(block_href(*height - 1), text_of(b, "previous_block_hash"))
                            : mono(text_of(b, "previous_block_hash")) + " (genesis)");
  row("transactions root", mono(text_of(b, "tx_merkle_root")));
  row("state hash", mono(text_of(b, "app_state_hash")));
  row("proposer", escape(name_of(view.names, text_of(b, "proposer"))));
  std::string signers;
  for (const auto& s : b.value("commit", json::object()).value("signers", json::array()))
    signers += escape(name_of(view.names, s.is_string() ? s.get<std::string>() : "")) + " ";
  row("commit signed by", signers);
  row("evidence", std::to_string(b.value("evidence_count", 0)));
  body += "</table><p class=\"pager\">";
  if (*height > 1) body += link(block_href(*height - 1), "previous block");
  if (*height < view.ledger.tip().height) body += link(block_href(*height + 1), "next block");
  body += "</p>";

  std::map<std::string, const chain::Refusal*> refused;
  for (const chain::Refusal* r : refusals(view.state))
    if (r->height == *height) refused[r->tx_hash.hex()] = r;
  std::vector<std::vector<std::string>> rows;
  std::size_t index = 0;
  for (const auto& t : b.value("transactions", json::array())) {
    const std::string hash = text_of(t, "hash");
    const auto r = refused.find(hash);
    std::string what = escape(text_of(t, "note"));
    if (r != refused.end())
      what = tag("refused") + " " + escape(chain::to_string(r->second->reason));
    rows.push_back({std::to_string(index++), link(tx_href(hash), short_hash(hash)),
                    escape(text_of(t, "type")), escape(name_of(view.names, text_of(t, "sender"))),
                    escape(text_of(t, "nonce")), what});
  }
  body += "<h2>Transactions</h2>";
  body += table({"#", "hash", "type", "sender", "nonce", "refused / note"}, rows);
  std::vector<std::vector<std::string>> refusal_rows;
  for (const auto& [hash, r] : refused) refusal_rows.push_back(refusal_row(*r));
  body += "<h2>Refusals in this block</h2>";
  body += table({"tx", "sender", "type", "reason", "run", "turn"}, refusal_rows);
  return {200, title, body, ""};
}

Page tx_page(const ChainView& view, std::string_view hash_text,
             const std::optional<std::string>& pending) {
  auto hash = chain::Hash::from_hex(hash_text);
  if (!hash) return not_found_page("A transaction is named by its hash: 64 hex characters.");
  auto loc = view.ledger.find_tx(*hash);
  if (!loc) return {500, "Transaction", "<p>" + escape(loc.error().message) + "</p>", ""};
  std::optional<std::string> bytes;
  std::string where;
  if (loc->has_value()) {
    auto stored = view.ledger.block_at((*loc)->height);
    if (stored && stored->has_value()) {
      auto committed = chain::decode_committed_block(**stored);
      const int index = static_cast<int>((*loc)->index);
      if (committed && index < committed->block().transactions_size())
        bytes = committed->block().transactions(index);
    }
    where = "committed in " +
            link(block_href((*loc)->height), "block " + std::to_string((*loc)->height)) +
            " at index " + std::to_string((*loc)->index);
  } else if (pending) {
    bytes = *pending;
    where = "waiting in this node's mempool";
  } else {
    return not_found_page("Transaction " + hash->hex() +
                          " is neither committed nor waiting in this node's mempool.");
  }
  const std::string title = "Transaction " + short_hash(hash->hex());
  std::string body = "<h1>" + escape(title) + "</h1><table class=\"kv\">";
  const auto row = [&](std::string_view k, const std::string& html) {
    body += "<tr><th>" + escape(k) + "</th><td>" + html + "</td></tr>";
  };
  row("hash", "<span class=\"mono\">" + escape(hash->hex()) + "</span>");
  row("status", where);
  if (bytes) {
    const json t = tx_json(*bytes);
    row("type", escape(text_of(t, "type")));
    row("sender", escape(name_of(view.names, text_of(t, "sender"))) +
                      " <span class=\"mono muted\">" + escape(text_of(t, "sender")) + "</span>");
    row("nonce", escape(text_of(t, "nonce")));
    row("size", escape(text_of(t, "size")) + " bytes");
    if (t.contains("note")) row("note", escape(text_of(t, "note")));
    chain::pb::Transaction tx;
    if (tx.ParseFromString(*bytes)) {
      const std::string& payload = tx.payload();
      const std::size_t shown = std::min(payload.size(), kMaxPayloadBytesShown);
      std::string hex = chain::to_hex(chain::as_bytes(std::string_view(payload).substr(0, shown)));
      if (shown < payload.size())
        hex += " \xE2\x80\xA6 (" + std::to_string(payload.size() - shown) + " more bytes)";
      row("payload (hex)", "<span class=\"mono\">" + escape(hex, 0) + "</span>");
    }
  }
  for (const chain::Refusal* r : refusals(view.state)) {
    if (r->tx_hash != *hash) continue;
    row("refused",
        tag("refused") + " " + escape(chain::to_string(r->reason)) +
            (r->run_id.empty() ? "" : " (run " + link(run_href(r->run_id), r->run_id) + ")"));
  }
  body += "</table>";
  return {200, title, body, ""};
}

Page search_page(const ChainView& view, std::string_view query, bool pending_known) {
  std::string_view q = query;
  while (!q.empty() && std::isspace(static_cast<unsigned char>(q.front()))) q.remove_prefix(1);
  while (!q.empty() && std::isspace(static_cast<unsigned char>(q.back()))) q.remove_suffix(1);
  if (q.empty())
    return {200, "Search",
            "<h1>Search</h1><p>Type a block height, a block or transaction hash, or a run id.</p>",
            ""};
  if (const auto h = parse_height(q)) {
    if (*h >= 1 && *h <= view.ledger.tip().height) return {303, "", "", block_href(*h)};
    return not_found_page("There is no block at height " + std::string(q) + ".");
  }
  if (is_hash_text(q)) {
    const std::string hex = lower(q);
    const auto hash = chain::Hash::from_hex(hex);
    if (hash) {
      auto loc = view.ledger.find_tx(*hash);
      if ((loc && loc->has_value()) || pending_known) return {303, "", "", tx_href(hex)};
      auto height = view.ledger.height_of(*hash);
      if (height && height->has_value()) return {303, "", "", block_href(**height)};
    }
    return not_found_page("No block or transaction has the hash " + hex + ".");
  }
  if (view.state != nullptr && view.state->training.find_run(q) != nullptr)
    return {303, "", "", run_href(q)};
  return not_found_page("Nothing matches \xE2\x80\x9C" + std::string(q) +
                        "\xE2\x80\x9D: give a height, a 64-hex hash or a run id.");
}

}  // namespace baton::node::console

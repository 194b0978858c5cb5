// The web console's pages (node/console.h routes to them), one renderer per
// page, each pure: it reads the committed views and the JSON the admin API
// serves (node/block_json.h, api/training_json.h) and returns HTML. Nothing
// here recomputes protocol logic.
//
//   console_chain.cpp    overview, blocks, a block, a transaction, search
//   console_members.cpp  members and peers with their health
//   console_runs.cpp     runs, a run (console_svg.cpp: its two graphics)
//
// Bounds: a page of blocks is kBlocksPerPage; any list is cut at
// kMaxListRows (console_html.h) with "n more"; ledger strings at
// kMaxShownChars. Every string is escaped (console_html.h).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/genesis.h"
#include "chain/ledger_state.h"
#include "node/admin_node.h"
#include "storage/block_store.h"

namespace baton::node::console {

inline constexpr std::size_t kBlocksPerPage = 25;
// The overview's latest blocks.
inline constexpr std::size_t kOverviewBlocks = 10;
// Blocks the members page reads back to find each validator's last signed
// commit.
inline constexpr std::size_t kSignerScanBlocks = 50;
// Models the lineage graph draws (the rest are counted).
inline constexpr std::size_t kMaxLineageNodes = 60;
// Turns the AUC chart draws (the last ones; the rest are counted).
inline constexpr std::size_t kMaxChartTurns = 200;
// Bytes of a transaction's payload shown in hex.
inline constexpr std::size_t kMaxPayloadBytesShown = 2048;

struct Page {
  int status = 200;
  std::string title;
  std::string body;      // HTML inside <main>
  std::string location;  // non-empty: answer 303 See Other to this (safe) path instead
};

// Member names by Ed25519 public key hex (the ledger's current members).
using Names = std::map<std::string, std::string>;

// What the chain pages read. `state` may be null (not loaded yet).
struct ChainView {
  const storage::BlockStore& ledger;
  const chain::LedgerState* state;
  const Names& names;
};

Page not_found_page(std::string_view what);

// console_chain.cpp
Page overview_page(const ChainView& view, const NodeSnapshot& node);
// Blocks `top`, top-1, ... (kBlocksPerPage of them); `top_text` "" = the tip.
Page blocks_page(const ChainView& view, std::string_view top_text);
Page block_page(const ChainView& view, std::string_view height_text);
// `pending`: the transaction's bytes when it waits in the mempool.
Page tx_page(const ChainView& view, std::string_view hash_text,
             const std::optional<std::string>& pending);
// A height, a block or transaction hash, or a run id: a redirect to its page,
// else a 404 page. `pending_known`: whether a hash waits in the mempool.
Page search_page(const ChainView& view, std::string_view query, bool pending_known);

// console_members.cpp
Page members_page(const ChainView& view, const NodeSnapshot& node,
                  const std::vector<PeerStatus>& peers, const MembersView& members,
                  std::string_view self);

// console_runs.cpp: `status` is api::training_status_json().
Page runs_page(const nlohmann::json& status);
Page run_page(const nlohmann::json& status, std::string_view run_id);

// console_svg.cpp: the AUC per turn (each turn's median voter AUC of the
// candidate and of the head, marked by the turn's decision) and the lineage
// (models and parents, the final head marked), as inline SVG.
std::string auc_chart_svg(const nlohmann::json& turns);
std::string lineage_svg(const nlohmann::json& models, std::string_view head);

}  // namespace baton::node::console

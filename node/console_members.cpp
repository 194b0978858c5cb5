// The members page: each current member (the ledger's, issue 18) with its power, roles, balance and
// last signed commit, its peer link from this node (connected, last error,
// reported height), and this node's own health (height, halted).
#include <algorithm>

#include "node/block_json.h"
#include "node/console_html.h"
#include "node/console_pages.h"

namespace baton::node::console {
namespace {

using nlohmann::json;

struct LedgerSeen {
  std::uint64_t signed_height = 0;    // the last scanned block whose commit it signed
  std::uint64_t proposed_height = 0;  // the last scanned block it proposed
};

// The last kSignerScanBlocks blocks' commit signers and proposers, by key hex.
std::map<std::string, LedgerSeen> scan_recent_blocks(const storage::BlockStore& ledger) {
  std::map<std::string, LedgerSeen> seen;
  const std::uint64_t tip = ledger.tip().height;
  const std::uint64_t first = tip > kSignerScanBlocks ? tip - kSignerScanBlocks + 1 : 1;
  if (tip == 0) return seen;
  auto blocks = ledger.blocks_from(first, kSignerScanBlocks);
  if (!blocks) return seen;
  for (const auto& stored : *blocks) {
    const json b = block_json(stored);
    const std::uint64_t h = b.value("height", std::uint64_t{0});
    if (b.contains("proposer")) {
      auto& p = seen[text_of(b, "proposer")];
      p.proposed_height = std::max(p.proposed_height, h);
    }
    for (const auto& s : b.value("commit", json::object()).value("signers", json::array())) {
      if (!s.is_string()) continue;
      auto& v = seen[s.get<std::string>()];
      v.signed_height = std::max(v.signed_height, h);
    }
  }
  return seen;
}

std::string height_or_dash(std::uint64_t h) {
  return h == 0 ? "<span class=\"muted\">\xE2\x80\x94</span>" : std::to_string(h);
}

}  // namespace

Page members_page(const ChainView& view, const NodeSnapshot& node,
                  const std::vector<PeerStatus>& peers, const MembersView& view_of_members,
                  std::string_view self) {
  const std::vector<chain::GenesisMember>& members = view_of_members.members;
  std::string body = "<h1>Members and peers</h1>";
  body += "<h2>This node</h2><table class=\"kv\">";
  body += "<tr><th>name</th><td>" + escape(self) + "</td></tr>";
  body += "<tr><th>height</th><td>" + std::to_string(node.height) + "</td></tr>";
  body +=
      "<tr><th>halted</th><td>" + tag(node.halted ? "halted" : "no") +
      (node.halted ? " " + escape(node.halt_reason) + " (" + escape(node.halt_cause) + ")" : "") +
      "</td></tr>";
  std::size_t connected = 0;
  for (const auto& p : peers) connected += p.connected ? 1 : 0;
  body += "<tr><th>connected peers</th><td>" + std::to_string(connected) + " of " +
          std::to_string(peers.size()) + "</td></tr></table>";

  const auto seen = scan_recent_blocks(view.ledger);
  std::map<std::string, const PeerStatus*> peer_of;
  for (const auto& p : peers) peer_of[p.name] = &p;
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : members) {
    std::string roles;
    for (const auto& r : m.roles) roles += (roles.empty() ? "" : ", ") + escape(r);
    const std::string key = m.ed25519.hex();
    const auto s = seen.find(key);
    std::string link_cell;
    std::string reported;
    if (m.name == self) {
      link_cell = tag(node.halted ? "halted" : "ok") + " this node";
      reported = std::to_string(node.height);
    } else if (const auto p = peer_of.find(m.name); p != peer_of.end()) {
      link_cell = tag(p->second->connected ? "connected" : "disconnected");
      if (!p->second->connected && !p->second->last_error.empty())
        link_cell += " " + escape(p->second->last_error);
      const auto h = node.peer_heights.find(m.name);
      reported = h == node.peer_heights.end() ? height_or_dash(0) : std::to_string(h->second);
    } else {
      link_cell = "<span class=\"muted\">no node</span>";
      reported = height_or_dash(0);
    }
    const std::uint64_t balance =
        view.state != nullptr ? view.state->training.accounts.balance(m.name) : 0;
    const std::uint64_t nonce = view.state != nullptr ? view.state->next_nonce(m.ed25519) : 1;
    rows.push_back({escape(m.name), "<span class=\"num\">" + std::to_string(m.power) + "</span>",
                    roles, escape(m.p2p_address), link_cell, reported,
                    s == seen.end() ? height_or_dash(0) : height_or_dash(s->second.signed_height),
                    s == seen.end() ? height_or_dash(0) : height_or_dash(s->second.proposed_height),
                    std::to_string(balance), std::to_string(nonce - 1),
                    "<span class=\"mono\">" + escape(short_hash(key)) + "</span>"});
  }
  body += "<h2>Members</h2>";
  body += table({"name", "power", "roles", "p2p address", "link from this node", "reported height",
                 "last signed commit", "last proposed", "balance", "transactions", "ed25519"},
                rows);
  body +=
      "<p class=\"muted\">Reported height: the peer's last ChainStatus to this node. Last "
      "signed commit and last proposed: within the latest " +
      std::to_string(kSignerScanBlocks) +
      " blocks. Transactions: the nonces the member has used.</p>";
  // Membership changes waiting for their quorum (issue 18).
  std::vector<std::vector<std::string>> pending;
  for (const auto& c : view_of_members.pending) {
    std::string approvers;
    for (const auto& a : c.approvers) approvers += (approvers.empty() ? "" : ", ") + escape(a);
    pending.push_back({escape(c.kind), escape(c.name), approvers,
                       std::to_string(c.approved_power) + " of " + std::to_string(c.quorum_power),
                       std::to_string(c.expires_at_height),
                       "<span class=\"mono\">" + escape(short_hash(c.id_hex)) + "</span>"});
  }
  body += "<h2>Pending membership changes</h2>";
  body +=
      pending.empty()
          ? std::string("<p class=\"muted\">none</p>")
          : table({"change", "member", "approved by", "power (needed)", "lapses at height", "id"},
                  pending);
  return {200, "Members", body, ""};
}

}  // namespace baton::node::console

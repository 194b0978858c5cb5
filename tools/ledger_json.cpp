#include "tools/ledger_json.h"

#include <cstdio>
#include <iostream>
#include <optional>

#include "chain/block.h"
#include "chain/genesis.h"
#include "chain/training.h"
#include "chain/transaction.h"

namespace baton::tools {

using nlohmann::json;

namespace {

std::string hex_of(const std::string& bytes) { return chain::to_hex(chain::as_bytes(bytes)); }

std::string member_name(const std::string& key_bytes, const KeyNames* names) {
  auto key = chain::PublicKey::from_bytes(chain::as_bytes(key_bytes));
  if (!key) return "(malformed key " + hex_of(key_bytes) + ")";
  if (names != nullptr) {
    if (auto it = names->find(*key); it != names->end()) return it->second;
  }
  return key->hex().substr(0, 16);
}

std::string type_name(chain::pb::TxType type) {
  const std::string& name = chain::pb::TxType_Name(type);
  return name.empty() ? "TX_" + std::to_string(static_cast<int>(type)) : name;
}

json hex_list(const google::protobuf::RepeatedPtrField<std::string>& list) {
  json out = json::array();
  for (const auto& b : list) out.push_back(hex_of(b));
  return out;
}

// A federated round's transaction (TxType 20..22, docs/PROTOCOL.md §21.2)
// decoded, as it claims it: whether the ledger accepted it is the training
// state's word. nullopt for other types or a payload that does not decode.
std::optional<json> round_tx_json(const chain::pb::Transaction& tx) {
  switch (tx.type()) {
    case chain::pb::TX_ROUND_SHARE: {
      chain::pb::RoundShare s;
      if (!s.ParseFromString(tx.payload())) return std::nullopt;
      return json{{"run_id", s.run_id()},
                  {"round", s.round()},
                  {"ephemeral_public", hex_of(s.ephemeral_public())},
                  {"self_seed_commitment", hex_of(s.self_seed_commitment())},
                  {"share_boxes", hex_list(s.share_boxes())},
                  {"self_share_commitments", hex_list(s.self_share_commitments())},
                  {"key_share_commitments", hex_list(s.key_share_commitments())}};
    }
    case chain::pb::TX_ROUND_UPLOAD: {
      chain::pb::RoundUpload u;
      if (!u.ParseFromString(tx.payload())) return std::nullopt;
      return json{{"run_id", u.run_id()},
                  {"round", u.round()},
                  {"head_model_id", hex_of(u.head_model_id())},
                  {"object_key", u.object_key()},
                  {"masked_sha256", hex_of(u.masked_sha256())},
                  {"weight", u.weight()}};
    }
    case chain::pb::TX_ROUND_UNMASK: {
      chain::pb::RoundUnmask u;
      if (!u.ParseFromString(tx.payload())) return std::nullopt;
      return json{{"run_id", u.run_id()}, {"round", u.round()}, {"shares", hex_list(u.shares())}};
    }
    default:
      return std::nullopt;
  }
}

// An unsigned 128-bit integer hi * 2^64 + lo in decimal.
std::string u128_decimal(std::uint64_t hi, std::uint64_t lo) {
  unsigned __int128 v = (static_cast<unsigned __int128>(hi) << 64) | lo;
  std::string out;
  do {
    out.insert(out.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  return out;
}

// A DataSummary (TxType 25, docs/PROTOCOL.md §23.1) decoded per column, as
// its sender claims it; lists shorter than the columns (a summary the ledger
// refused as malformed) leave the missing values out.
json data_summary_json(const chain::pb::DataSummary& m) {
  json columns = json::array();
  int numeric = 0;  // index into the per-numeric-column lists
  for (int i = 0; i < m.column_names_size(); ++i) {
    json c = {{"name", m.column_names(i)}};
    const std::uint32_t kind = i < m.column_kinds_size() ? m.column_kinds(i) : 0;
    c["kind"] = kind == 1 ? "numeric" : kind == 2 ? "categorical" : "unknown";
    if (i < m.missing_size()) c["missing"] = m.missing(i);
    if (kind == 1) {
      const int k = numeric++;
      if (k < m.sum_micro_size()) c["sum_micro"] = m.sum_micro(k);
      if (k < m.sum_squares_hi_size() && k < m.sum_squares_lo_size())
        c["sum_squares_micro2"] = u128_decimal(m.sum_squares_hi(k), m.sum_squares_lo(k));
      if (k < m.min_micro_size()) c["min_micro"] = m.min_micro(k);
      if (k < m.max_micro_size()) c["max_micro"] = m.max_micro(k);
    } else if (kind == 2) {
      c["levels"] = json::object();
    }
    columns.push_back(std::move(c));
  }
  std::size_t levels = 0;
  for (int j = 0; j < m.level_columns_size(); ++j) {
    const std::uint32_t col = m.level_columns(j);
    if (col >= columns.size() || !columns[col].contains("levels") || j >= m.level_names_size() ||
        j >= m.level_counts_size())
      continue;
    columns[col]["levels"][m.level_names(j)] = m.level_counts(j);
    ++levels;
  }
  return json{{"schema_id", m.schema_id()},
              {"positive_value", m.positive_value()},
              {"na_values", std::vector<std::string>(m.na_values().begin(), m.na_values().end())},
              {"rows", m.rows()},
              {"columns", std::move(columns)},
              {"levels", levels}};
}

// Run control's transactions (TxType 23 RunReady, 24 CancelRun,
// docs/PROTOCOL.md §22.2-22.3) decoded, as their sender claims them: whether
// the ledger accepted one is the training state's word. nullopt for other
// types or a payload that does not decode.
std::optional<json> run_control_json(const chain::pb::Transaction& tx) {
  switch (tx.type()) {
    case chain::pb::TX_RUN_READY: {
      chain::pb::RunReady r;
      if (!r.ParseFromString(tx.payload())) return std::nullopt;
      json j = {{"run_id", r.run_id()},
                {"ready", r.ready()},
                {"schema_sha256", hex_of(r.schema_sha256())},
                {"train_rows", r.train_rows()},
                {"reason_code", r.reason()},
                {"reason", ""},
                {"detail", r.detail()}};
      if (r.reason() >= 1 && r.reason() <= chain::kMaxReadinessFailure)
        j["reason"] =
            std::string(chain::to_string(static_cast<chain::ReadinessFailure>(r.reason())));
      else if (r.reason() != 0)
        j["reason"] = "unknown";
      return j;
    }
    case chain::pb::TX_CANCEL_RUN: {
      chain::pb::CancelRun c;
      if (!c.ParseFromString(tx.payload())) return std::nullopt;
      return json{{"run_id", c.run_id()}, {"reason", c.reason()}};
    }
    default:
      return std::nullopt;
  }
}

// Membership's transactions (TxType 26 MemberChange, 27 KeyRotation,
// docs/PROTOCOL.md §25.1-25.2) decoded, as their sender claims them: whether
// the ledger accepted one is the state's word. nullopt for other types or a
// payload that does not decode.
std::optional<json> membership_json(const chain::pb::Transaction& tx) {
  if (tx.type() == chain::pb::TX_MEMBER_CHANGE) {
    chain::pb::MemberChange c;
    if (!c.ParseFromString(tx.payload())) return std::nullopt;
    const std::string& kind = chain::pb::MemberChange::Kind_Name(c.kind());
    json roles = json::array();
    for (const auto& r : c.roles()) roles.push_back(r);
    return json{{"id", chain::sha256(tx.payload()).hex()},
                {"kind", kind.empty() ? std::to_string(static_cast<int>(c.kind())) : kind},
                {"name", c.name()},
                {"ed25519", hex_of(c.ed25519())},
                {"x25519", hex_of(c.x25519())},
                {"p2p_address", c.p2p_address()},
                {"power", c.power()},
                {"roles", std::move(roles)},
                {"expires_at_height", c.expires_at_height()}};
  }
  if (tx.type() == chain::pb::TX_KEY_ROTATION) {
    chain::pb::KeyRotation r;
    if (!r.ParseFromString(tx.payload())) return std::nullopt;
    return json{{"new_ed25519", hex_of(r.new_ed25519())},
                {"new_x25519", hex_of(r.new_x25519())},
                {"new_key_signature", hex_of(r.new_key_signature())}};
  }
  return std::nullopt;
}

json tx_json(const std::string& bytes, const KeyNames* names, bool with_hex) {
  json t = {{"hash", chain::tx_hash(bytes).hex()}, {"size", bytes.size()}};
  if (with_hex) t["bytes_hex"] = hex_of(bytes);
  chain::pb::Transaction tx;
  if (!tx.ParseFromString(bytes)) {
    t["error"] = "the transaction bytes do not decode";
    return t;
  }
  t["chain_id"] = tx.chain_id();
  t["sender"] = hex_of(tx.sender());
  t["sender_name"] = member_name(tx.sender(), names);
  t["nonce"] = tx.nonce();
  t["type"] = type_name(tx.type());
  t["payload_hex"] = hex_of(tx.payload());
  t["signature"] = hex_of(tx.signature());
  if (tx.type() == chain::pb::TX_NOTE) {
    chain::pb::Note note;
    if (note.ParseFromString(tx.payload())) t["note"] = note.text();
  }
  // A SaveRequest's privacy spend (docs/PROTOCOL.md §20.2), as it claims it:
  // whether the ledger accepted it is the training state's word.
  chain::pb::SaveRequest save;
  if (tx.type() == chain::pb::TX_SAVE_REQUEST && save.ParseFromString(tx.payload()) &&
      (save.dp_steps_total() || save.epsilon_turn_micro() || save.epsilon_total_micro())) {
    t["privacy"] = {{"run_id", save.run_id()},
                    {"turn", save.turn()},
                    {"dp_steps_total", save.dp_steps_total()},
                    {"epsilon_turn_micro", save.epsilon_turn_micro()},
                    {"epsilon_total_micro", save.epsilon_total_micro()}};
  }
  if (auto round = round_tx_json(tx)) t["round"] = std::move(*round);
  // A DataSummary (docs/PROTOCOL.md §23), as it claims it.
  chain::pb::DataSummary summary;
  if (tx.type() == chain::pb::TX_DATA_SUMMARY && summary.ParseFromString(tx.payload()))
    t["data_summary"] = data_summary_json(summary);
  if (auto control = run_control_json(tx)) {
    t[tx.type() == chain::pb::TX_RUN_READY ? "run_ready" : "cancel_run"] = std::move(*control);
  }
  if (auto member = membership_json(tx)) {
    t[tx.type() == chain::pb::TX_MEMBER_CHANGE ? "member_change" : "key_rotation"] =
        std::move(*member);
  }
  return t;
}

// One line of what a transaction says, for the block listing: a note's
// text, or what a run-control or DataSummary transaction claims.
std::string tx_brief(const json& t) {
  if (t.contains("note")) return t["note"].get<std::string>();
  if (t.contains("run_ready")) {
    const json& r = t["run_ready"];
    return "run " + r["run_id"].get<std::string>() + ": " +
           (r["ready"].get<bool>() ? std::string("ready")
                                   : "refuses (" + r["reason"].get<std::string>() + ")");
  }
  if (t.contains("cancel_run")) {
    const json& c = t["cancel_run"];
    return "run " + c["run_id"].get<std::string>() + ": cancel: " + c["reason"].get<std::string>();
  }
  if (t.contains("member_change")) {
    const json& c = t["member_change"];
    return "member change " + c["kind"].get<std::string>() + " " + c["name"].get<std::string>() +
           " (id " + c["id"].get<std::string>().substr(0, 16) + ")";
  }
  if (t.contains("key_rotation"))
    return "key rotation to " + t["key_rotation"]["new_ed25519"].get<std::string>().substr(0, 16);
  if (t.contains("data_summary")) {
    const json& d = t["data_summary"];
    return "schema " + d["schema_id"].get<std::string>() + ": " +
           std::to_string(d["rows"].get<std::uint64_t>()) + " rows, " +
           std::to_string(d["columns"].size()) + " columns";
  }
  return "";
}

}  // namespace

json block_summary_json(const std::string& stored_bytes, std::uint64_t height,
                        const KeyNames* names) {
  json s = {{"height", height},  {"block_id", "?"}, {"time", "?"},
            {"transactions", 0}, {"proposer", "?"}, {"commit_signatures", 0}};
  auto committed = chain::decode_committed_block(stored_bytes);
  if (!committed) {
    s["error"] = committed.error().message;
    return s;
  }
  s["block_id"] = chain::block_id(committed->block()).hex();
  s["transactions"] = committed->block().transactions_size();
  s["commit_signatures"] = committed->commit().signatures_size();
  chain::pb::BlockHeader header;
  if (header.ParseFromString(committed->block().header())) {
    s["time"] = chain::format_rfc3339_ms(header.time_unix_ms());
    s["proposer"] = member_name(header.proposer(), names);
  }
  return s;
}

json block_json(const std::string& stored_bytes, std::uint64_t height, const KeyNames* names,
                bool with_stored_hex) {
  json b = {{"height", height}, {"stored_size", stored_bytes.size()}};
  if (with_stored_hex) b["stored_hex"] = hex_of(stored_bytes);
  auto committed = chain::decode_committed_block(stored_bytes);
  if (!committed) {
    b["error"] = committed.error().message;
    return b;
  }
  const chain::pb::Block& block = committed->block();
  b["block_id"] = chain::block_id(block).hex();
  chain::pb::BlockHeader header;
  if (header.ParseFromString(block.header())) {
    b["header"] = {{"chain_id", header.chain_id()},
                   {"height", header.height()},
                   {"time_unix_ms", header.time_unix_ms()},
                   {"time", chain::format_rfc3339_ms(header.time_unix_ms())},
                   {"previous_block_hash", hex_of(header.previous_block_hash())},
                   {"tx_merkle_root", hex_of(header.tx_merkle_root())},
                   {"evidence_merkle_root", hex_of(header.evidence_merkle_root())},
                   {"app_state_hash", hex_of(header.app_state_hash())},
                   {"proposer", hex_of(header.proposer())},
                   {"proposer_name", member_name(header.proposer(), names)}};
  } else {
    b["header"] = {{"error", "the header bytes do not decode"}};
  }
  if (with_stored_hex) b["header"]["bytes_hex"] = hex_of(block.header());
  b["transactions"] = json::array();
  for (const auto& tx : block.transactions())
    b["transactions"].push_back(tx_json(tx, names, with_stored_hex));
  b["evidence"] = json::array();
  for (const auto& e : block.evidence()) b["evidence"].push_back({{"bytes_hex", hex_of(e)}});
  const chain::pb::Commit& commit = committed->commit();
  json sigs = json::array();
  for (const auto& sig : commit.signatures()) {
    sigs.push_back({{"validator", hex_of(sig.validator())},
                    {"name", member_name(sig.validator(), names)},
                    {"signature", hex_of(sig.signature())}});
  }
  b["commit"] = {{"height", commit.height()},
                 {"round", commit.round()},
                 {"block_id", hex_of(commit.block_id())},
                 {"signatures", sigs}};
  return b;
}

void print_block_human(const json& b) {
  std::cout << "block        " << b["height"] << "\n";
  if (b.contains("error")) {
    std::cout << "undecodable  " << b["error"].get<std::string>() << "\n";
    return;
  }
  const json& h = b["header"];
  std::cout << "id           " << b["block_id"].get<std::string>() << "\n";
  if (!h.contains("error")) {
    std::cout << "chain id     " << h["chain_id"].get<std::string>() << "\n"
              << "time         " << h["time"].get<std::string>() << "\n"
              << "previous     " << h["previous_block_hash"].get<std::string>() << "\n"
              << "tx root      " << h["tx_merkle_root"].get<std::string>() << "\n"
              << "state hash   " << h["app_state_hash"].get<std::string>() << "\n"
              << "proposer     " << h["proposer_name"].get<std::string>() << "\n";
  }
  std::cout << "stored size  " << b["stored_size"] << " bytes\n";
  std::cout << "\n" << b["transactions"].size() << " transaction(s):\n";
  for (const auto& t : b["transactions"]) {
    if (t.contains("error")) {
      std::cout << "  " << t["hash"].get<std::string>() << "  (undecodable)\n";
      continue;
    }
    std::printf("  %.16s  %-14s nonce %-6llu %-8s %s\n", t["hash"].get<std::string>().c_str(),
                t["sender_name"].get<std::string>().c_str(),
                static_cast<unsigned long long>(t["nonce"].get<std::uint64_t>()),
                t["type"].get<std::string>().c_str(), tx_brief(t).substr(0, 60).c_str());
  }
  const json& c = b["commit"];
  std::cout << "\ncommit       round " << c["round"] << ", " << c["signatures"].size()
            << " signature(s): ";
  for (std::size_t i = 0; i < c["signatures"].size(); ++i) {
    std::cout << (i ? ", " : "") << c["signatures"][i]["name"].get<std::string>();
  }
  std::cout << "\n";
}

void print_tx_human(const json& t) {
  std::cout << "transaction  " << t["hash"].get<std::string>() << "\n"
            << "in block     " << t["height"] << " (index " << t["index"] << ")\n";
  if (t.contains("error")) {
    std::cout << "undecodable  " << t["error"].get<std::string>() << "\n";
    return;
  }
  std::cout << "sender       " << t["sender_name"].get<std::string>() << " ("
            << t["sender"].get<std::string>() << ")\n"
            << "nonce        " << t["nonce"] << "\n"
            << "type         " << t["type"].get<std::string>() << "\n"
            << "size         " << t["size"] << " bytes\n";
  if (t.contains("note")) std::cout << "note         " << t["note"].get<std::string>() << "\n";
  if (t.contains("privacy")) {
    const auto micro = [&](const char* k) {
      const std::uint64_t v = t["privacy"][k].get<std::uint64_t>();
      std::string frac = std::to_string(v % 1'000'000);
      return std::to_string(v / 1'000'000) + "." + std::string(6 - frac.size(), '0') + frac;
    };
    std::cout << "privacy      turn " << t["privacy"]["turn"] << ": epsilon turn "
              << micro("epsilon_turn_micro") << " total " << micro("epsilon_total_micro")
              << " (noisy steps " << t["privacy"]["dp_steps_total"] << ")\n";
  }
  if (t.contains("round")) {
    const json& r = t["round"];
    std::cout << "round        " << r["round"] << " of run " << r["run_id"].get<std::string>()
              << "\n";
    if (r.contains("weight")) {
      std::cout << "upload       " << r["object_key"].get<std::string>() << ", weight "
                << r["weight"] << ", masked sha256 " << r["masked_sha256"].get<std::string>()
                << "\n";
    } else if (r.contains("ephemeral_public")) {
      std::cout << "shares       " << r["share_boxes"].size() << " sealed boxes, ephemeral key "
                << r["ephemeral_public"].get<std::string>() << "\n";
    } else {
      std::size_t revealed = 0;
      for (const auto& s : r["shares"]) revealed += s.get<std::string>().empty() ? 0 : 1;
      std::cout << "unmask       " << revealed << " of " << r["shares"].size()
                << " dealers' shares revealed\n";
    }
  }
  if (t.contains("run_ready")) {
    const json& r = t["run_ready"];
    std::cout << "run          " << r["run_id"].get<std::string>() << "\n";
    if (r["ready"].get<bool>()) {
      const std::string schema = r["schema_sha256"].get<std::string>();
      std::cout << "readiness    ready, " << r["train_rows"] << " training rows, schema "
                << (schema.empty() ? std::string("none") : schema) << "\n";
    } else {
      std::cout << "readiness    refused: " << r["reason"].get<std::string>() << " ("
                << r["reason_code"] << "): " << r["detail"].get<std::string>() << "\n";
    }
  }
  if (t.contains("cancel_run")) {
    std::cout << "run          " << t["cancel_run"]["run_id"].get<std::string>() << "\n"
              << "cancel       " << t["cancel_run"]["reason"].get<std::string>() << "\n";
  }
  if (t.contains("member_change")) {
    const json& c = t["member_change"];
    std::cout << "change       " << c["kind"].get<std::string>() << " "
              << c["name"].get<std::string>() << ", id " << c["id"].get<std::string>()
              << ", expires at height " << c["expires_at_height"] << "\n";
    if (!c["ed25519"].get<std::string>().empty())
      std::cout << "  keys       ed25519 " << c["ed25519"].get<std::string>() << ", x25519 "
                << c["x25519"].get<std::string>() << "\n";
    if (c["kind"] == "ADD" || c["kind"] == "UPDATE") {
      std::cout << "  member     " << c["p2p_address"].get<std::string>() << ", power "
                << c["power"] << ", roles " << c["roles"].dump() << "\n";
    }
  }
  if (t.contains("key_rotation")) {
    const json& r = t["key_rotation"];
    std::cout << "rotation     new ed25519 " << r["new_ed25519"].get<std::string>()
              << ", new x25519 " << r["new_x25519"].get<std::string>() << "\n";
  }
  if (t.contains("data_summary")) {
    const json& d = t["data_summary"];
    std::cout << "summary      schema " << d["schema_id"].get<std::string>() << ", " << d["rows"]
              << " rows, positive value '" << d["positive_value"].get<std::string>() << "'\n";
    for (const auto& c : d["columns"]) {
      std::cout << "  column     " << c["name"].get<std::string>() << " "
                << c["kind"].get<std::string>() << ", missing "
                << c.value("missing", std::uint64_t{0});
      if (c.contains("sum_micro")) {
        std::cout << ", sum_micro " << c["sum_micro"] << ", min_micro "
                  << c.value("min_micro", std::int64_t{0}) << ", max_micro "
                  << c.value("max_micro", std::int64_t{0});
      }
      if (c.contains("levels")) std::cout << ", " << c["levels"].size() << " levels";
      std::cout << "\n";
    }
  }
  std::cout << "signature    " << t["signature"].get<std::string>() << "\n";
}

}  // namespace baton::tools

#include "node/block_json.h"

#include "chain/block.h"
#include "chain/transaction.h"
#include "chain/validation.h"

namespace baton::node {
namespace {

using nlohmann::json;

std::string hex_of(const std::string& bytes) { return chain::to_hex(chain::as_bytes(bytes)); }

}  // namespace

json tx_json(const std::string& stored) {
  json j{{"hash", chain::tx_hash(stored).hex()}, {"size", stored.size()}};
  chain::pb::Transaction tx;
  if (!tx.ParseFromString(stored)) return j;
  j["sender"] = hex_of(tx.sender());
  j["nonce"] = tx.nonce();
  j["type"] = chain::pb::TxType_Name(tx.type());
  if (tx.type() == chain::pb::TX_NOTE) {
    chain::pb::Note note;
    if (note.ParseFromString(tx.payload())) j["note"] = note.text();
  }
  return j;
}

json block_json(const std::string& stored) {
  json j;
  auto committed = chain::decode_committed_block(stored);
  if (!committed) return json{{"error", committed.error().message}};
  const auto& block = committed->block();
  auto header = chain::decode_header(block.header());
  j["block_id"] = chain::block_id(block).hex();
  if (header) {
    j["height"] = header->height();
    j["chain_id"] = header->chain_id();
    j["time_unix_ms"] = header->time_unix_ms();
    j["previous_block_hash"] = hex_of(header->previous_block_hash());
    j["tx_merkle_root"] = hex_of(header->tx_merkle_root());
    j["app_state_hash"] = hex_of(header->app_state_hash());
    j["proposer"] = hex_of(header->proposer());
  }
  json txs = json::array();
  for (const auto& t : block.transactions()) txs.push_back(tx_json(t));
  j["transactions"] = std::move(txs);
  j["evidence_count"] = block.evidence_size();
  json signers = json::array();
  for (const auto& s : committed->commit().signatures()) signers.push_back(hex_of(s.validator()));
  j["commit"] = json{{"round", committed->commit().round()}, {"signers", std::move(signers)}};
  j["stored_hex"] = hex_of(stored);
  return j;
}

}  // namespace baton::node

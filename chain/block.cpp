#include "chain/block.h"

#include "chain/encoding.h"
#include "chain/merkle.h"

namespace baton::chain {

Hash block_id(const pb::Block& block) { return sha256(as_bytes(block.header())); }

Result<pb::BlockHeader> decode_header(std::string_view header_bytes) {
  pb::BlockHeader h;
  if (!parse_canonical(header_bytes, h))
    return make_error("the block header is not a canonical serialized BlockHeader");
  struct Field {
    const char* name;
    const std::string& value;
  };
  for (const auto& [name, value] :
       {Field{"previous_block_hash", h.previous_block_hash()},
        Field{"tx_merkle_root", h.tx_merkle_root()},
        Field{"evidence_merkle_root", h.evidence_merkle_root()},
        Field{"app_state_hash", h.app_state_hash()}, Field{"proposer", h.proposer()}}) {
    if (value.size() != 32) {
      return make_error(std::string("the block header field ") + name + " is " +
                        std::to_string(value.size()) + " bytes long; it must be 32");
    }
  }
  return h;
}

pb::Block assemble_block(const HeaderFields& fields, std::vector<std::string> transactions,
                         std::vector<std::string> evidence) {
  pb::BlockHeader h;
  h.set_chain_id(fields.chain_id);
  h.set_height(fields.height);
  h.set_time_unix_ms(fields.time_unix_ms);
  h.set_previous_block_hash(fields.previous_block_hash.bytes.data(), 32);
  const Hash tx_root = merkle_root(std::span<const std::string>(transactions));
  const Hash ev_root = merkle_root(std::span<const std::string>(evidence));
  h.set_tx_merkle_root(tx_root.bytes.data(), 32);
  h.set_evidence_merkle_root(ev_root.bytes.data(), 32);
  h.set_app_state_hash(fields.app_state_hash.bytes.data(), 32);
  h.set_proposer(fields.proposer.bytes.data(), 32);
  pb::Block block;
  block.set_header(h.SerializeAsString());
  for (auto& tx : transactions) block.add_transactions(std::move(tx));
  for (auto& ev : evidence) block.add_evidence(std::move(ev));
  return block;
}

std::string encode_committed_block(const pb::CommittedBlock& block) {
  return block.SerializeAsString();
}

namespace {

// Accepts the parsed `message` only when `bytes` are the canonical encoding
// of the whole message, nested messages included: no unknown field at any
// depth (dropped, recursively, before re-encoding) and re-encoding gives the
// same bytes (fields in order, each once, defaults omitted, minimal varints).
bool is_canonical_tree(std::string_view bytes, google::protobuf::Message& message) {
  message.DiscardUnknownFields();
  return message.SerializeAsString() == bytes;
}

}  // namespace

Result<pb::CommittedBlock> decode_committed_block(std::string_view stored_bytes) {
  pb::CommittedBlock block;
  if (stored_bytes.size() > static_cast<std::size_t>(INT32_MAX) ||
      !block.ParseFromArray(stored_bytes.data(), static_cast<int>(stored_bytes.size()))) {
    return make_error("the stored block bytes do not decode as a CommittedBlock");
  }
  if (!block.has_block() || !block.has_commit()) {
    return make_error("the stored block bytes lack the block or its commit");
  }
  if (!is_canonical_tree(stored_bytes, block)) {
    return make_error(
        "the stored block bytes are not the canonical encoding of a CommittedBlock (fields out "
        "of order, repeated, unknown or with default values)");
  }
  return block;
}

Result<pb::Block> decode_block(std::string_view block_bytes) {
  pb::Block block;
  if (block_bytes.size() > static_cast<std::size_t>(INT32_MAX) ||
      !block.ParseFromArray(block_bytes.data(), static_cast<int>(block_bytes.size()))) {
    return make_error("the block bytes do not decode as a Block");
  }
  if (!is_canonical_tree(block_bytes, block)) {
    return make_error(
        "the block bytes are not the canonical encoding of a Block (fields out of order, "
        "repeated, unknown or with default values)");
  }
  return block;
}

}  // namespace baton::chain

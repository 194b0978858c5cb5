#include "storage/block_store.h"

#include <algorithm>
#include <map>

#include "chain/proto/ledger.pb.h"

namespace baton::storage {

namespace {

Error undecodable(std::string what) {
  return make_error("the block cannot be stored because " + std::move(what),
                    static_cast<int>(AppendRefused::undecodable));
}

}  // namespace

Result<BlockDescription> describe_block(std::string_view committed_block_bytes) {
  chain::pb::CommittedBlock committed;
  if (!committed.ParseFromArray(committed_block_bytes.data(),
                                static_cast<int>(committed_block_bytes.size()))) {
    return undecodable("its bytes are not a serialized CommittedBlock");
  }
  const chain::pb::Block& block = committed.block();
  chain::pb::BlockHeader header;
  if (!header.ParseFromString(block.header())) return undecodable("its header bytes do not parse");
  if (header.height() == 0) return undecodable("its header has height 0 (the first block is 1)");

  BlockDescription out;
  out.height = header.height();
  out.block_id = chain::sha256(chain::as_bytes(block.header()));
  auto previous = chain::Hash::from_bytes(chain::as_bytes(header.previous_block_hash()));
  if (!previous) return undecodable("its previous_block_hash is not 32 bytes");
  out.previous_block_hash = *previous;

  std::map<chain::PublicKey, std::uint64_t> last;
  out.tx_hashes.reserve(static_cast<std::size_t>(block.transactions_size()));
  for (int i = 0; i < block.transactions_size(); ++i) {
    const std::string& tx_bytes = block.transactions(i);
    out.tx_hashes.push_back(chain::sha256(chain::as_bytes(tx_bytes)));
    chain::pb::Transaction tx;
    if (!tx.ParseFromString(tx_bytes)) {
      return undecodable("transaction " + std::to_string(i) + " does not parse");
    }
    auto sender = chain::PublicKey::from_bytes(chain::as_bytes(tx.sender()));
    if (!sender)
      return undecodable("transaction " + std::to_string(i) + " has a sender that is not 32 bytes");
    auto [it, inserted] = last.try_emplace(*sender, tx.nonce());
    if (!inserted) it->second = std::max(it->second, tx.nonce());
  }
  for (const auto& [sender, nonce] : last) out.last_nonces.push_back({sender, nonce});
  return out;
}

Status check_successor(const Tip& tip, const BlockDescription& block) {
  if (block.height <= tip.height) {
    return make_error("height " + std::to_string(block.height) +
                          " is already written (the tip is at height " +
                          std::to_string(tip.height) + "); a height is written once",
                      static_cast<int>(AppendRefused::height_taken));
  }
  if (block.height != tip.height + 1) {
    return make_error("block at height " + std::to_string(block.height) +
                          " does not follow the tip at height " + std::to_string(tip.height) +
                          "; append height " + std::to_string(tip.height + 1) + " first",
                      static_cast<int>(AppendRefused::not_successor));
  }
  if (block.previous_block_hash != tip.block_id) {
    return make_error("block at height " + std::to_string(block.height) + " names previous hash " +
                          block.previous_block_hash.hex() + " but the tip's id is " +
                          tip.block_id.hex(),
                      static_cast<int>(AppendRefused::not_successor));
  }
  return {};
}

}  // namespace baton::storage

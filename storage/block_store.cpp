#include "storage/block_store.h"

#include <algorithm>
#include <cstring>
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

Result<std::vector<std::optional<TxLocation>>> BlockStore::find_txs(
    const std::vector<chain::Hash>& tx_hashes) const {
  std::vector<std::optional<TxLocation>> out;
  out.reserve(tx_hashes.size());
  for (const chain::Hash& hash : tx_hashes) {
    auto where = find_tx(hash);
    if (!where) return where.error();
    out.push_back(*where);
  }
  return out;
}

namespace {

void add_limbs(std::array<std::uint64_t, 4>& sum, const std::array<std::uint64_t, 4>& x) {
  unsigned carry = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const std::uint64_t a = sum[i] + x[i];
    const unsigned c1 = a < x[i];
    sum[i] = a + carry;
    carry = c1 | (sum[i] < a);
  }
}

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

void IndexDigest::add(std::string_view key, std::string_view value) {
  // salt || key || value in one buffer on the stack (55 bytes for the
  // ledger's entries; verify hashes one per block and per transaction).
  std::array<std::uint8_t, 128> buffer{};
  std::vector<std::uint8_t> large;
  const std::size_t n = salt.size() + key.size() + value.size();
  std::uint8_t* out = buffer.data();
  if (n > buffer.size()) {
    large.resize(n);
    out = large.data();
  }
  std::memcpy(out, salt.data(), salt.size());
  std::memcpy(out + salt.size(), key.data(), key.size());
  std::memcpy(out + salt.size() + key.size(), value.data(), value.size());
  const chain::Hash h = chain::sha256(chain::ByteView(out, n));
  std::array<std::uint64_t, 4> limbs{};
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t b = 0; b < 8; ++b)
      limbs[i] |= static_cast<std::uint64_t>(h.bytes[8 * i + b]) << (8 * b);
  }
  add_limbs(sum, limbs);
  ++count;
}

void IndexDigest::add(const IndexDigest& other) {
  add_limbs(sum, other.sum);
  count += other.count;
}

void IndexDigest::add_block_id(const chain::Hash& id, std::uint64_t height) {
  std::string value;
  put_be(value, height, 8);
  add(std::string_view(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size()), value);
}

void IndexDigest::add_tx(const chain::Hash& hash, TxLocation where) {
  std::string value;
  put_be(value, where.height, 8);
  put_be(value, where.index, 4);
  add(std::string_view(reinterpret_cast<const char*>(hash.bytes.data()), hash.bytes.size()), value);
}

}  // namespace baton::storage

#include "chain/merkle.h"

#include <cstddef>

namespace baton::chain {
namespace {

// Largest power of two strictly smaller than n (n >= 2).
std::size_t split_point(std::size_t n) {
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hash root_of(std::span<const Hash> leaves) {
  if (leaves.size() == 1) return leaves[0];
  const std::size_t k = split_point(leaves.size());
  return merkle_node_hash(root_of(leaves.first(k)), root_of(leaves.subspan(k)));
}

}  // namespace

Hash merkle_leaf_hash(ByteView data) {
  Sha256Stream s;
  const std::uint8_t prefix = 0x00;
  s.update({&prefix, 1});
  s.update(data);
  return s.finish();
}

Hash merkle_node_hash(const Hash& left, const Hash& right) {
  Sha256Stream s;
  const std::uint8_t prefix = 0x01;
  s.update({&prefix, 1});
  s.update(left.view());
  s.update(right.view());
  return s.finish();
}

Hash merkle_root_from_leaf_hashes(std::span<const Hash> leaf_hashes) {
  if (leaf_hashes.empty()) return sha256(ByteView{});
  return root_of(leaf_hashes);
}

Hash merkle_root(std::span<const ByteView> leaves) {
  std::vector<Hash> hashes;
  hashes.reserve(leaves.size());
  for (const auto& leaf : leaves) hashes.push_back(merkle_leaf_hash(leaf));
  return merkle_root_from_leaf_hashes(hashes);
}

Hash merkle_root(std::span<const std::string> leaves) {
  std::vector<Hash> hashes;
  hashes.reserve(leaves.size());
  for (const auto& leaf : leaves) hashes.push_back(merkle_leaf_hash(as_bytes(leaf)));
  return merkle_root_from_leaf_hashes(hashes);
}

}  // namespace baton::chain

// RFC 6962 (Certificate Transparency) Merkle tree hash, section 2.1:
//   MTH({})        = SHA-256()                         (the empty string)
//   MTH({d0})      = SHA-256(0x00 || d0)               (leaf)
//   MTH(D[0..n))   = SHA-256(0x01 || MTH(D[0..k)) || MTH(D[k..n)))
//                    where k is the largest power of two smaller than n.
// The 0x00/0x01 prefixes keep leaves and inner nodes apart, so no list of
// leaves has the same root as another list (no second-preimage by
// reinterpreting an inner node as a leaf). Pure functions; docs/PROTOCOL.md,
// "Merkle roots".
#pragma once

#include <span>
#include <string>
#include <vector>

#include "chain/crypto.h"

namespace baton::chain {

// SHA-256(0x00 || data).
Hash merkle_leaf_hash(ByteView data);
// SHA-256(0x01 || left || right).
Hash merkle_node_hash(const Hash& left, const Hash& right);

// The tree hash over the leaf data, in order.
Hash merkle_root(std::span<const ByteView> leaves);
// The same over serialized messages as protobuf keeps them (repeated bytes).
Hash merkle_root(std::span<const std::string> leaves);
// The same when the leaf hashes are already known (each = merkle_leaf_hash).
Hash merkle_root_from_leaf_hashes(std::span<const Hash> leaf_hashes);

}  // namespace baton::chain

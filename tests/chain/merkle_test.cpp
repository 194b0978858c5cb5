#include "chain/merkle.h"

#include <gtest/gtest.h>

namespace baton::chain {
namespace {

// Leaves and roots from the Certificate Transparency reference tests
// (certificate-transparency/cpp/merkletree/merkle_tree_test.cc, the vectors
// also used by Trillian's RFC 6962 hasher tests), recomputed independently
// with python3 hashlib before being copied here.
const char* const kLeaves[] = {"",
                               "00",
                               "10",
                               "2021",
                               "3031",
                               "40414243",
                               "5051525354555657",
                               "606162636465666768696a6b6c6d6e6f"};
const char* const kRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

std::vector<std::string> leaves(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    const Bytes b = from_hex(kLeaves[i]).value();
    out.emplace_back(b.begin(), b.end());
  }
  return out;
}

TEST(Merkle, MatchesCertificateTransparencyVectorsForZeroToEightLeaves) {
  for (std::size_t n = 0; n <= 8; ++n) {
    EXPECT_EQ(merkle_root(std::span<const std::string>(leaves(n))).hex(), kRoots[n])
        << n << " leaves";
  }
}

TEST(Merkle, EmptyTreeIsSha256OfEmptyString) {
  EXPECT_EQ(merkle_root(std::span<const ByteView>{}), sha256(std::string_view("")));
}

// Hand-computed: one leaf "abc" is SHA-256(0x00 'a' 'b' 'c').
TEST(Merkle, SingleLeafIsPrefixedLeafHash) {
  const std::string abc = "abc";
  const std::string prefixed = std::string(1, '\0') + abc;
  EXPECT_EQ(merkle_root(std::span<const std::string>(&abc, 1)), sha256(std::string_view(prefixed)));
}

// Hand-computed: three leaves split 2 + 1, so the root is
// node(node(leaf a, leaf b), leaf c), not node(leaf a, node(leaf b, leaf c)).
TEST(Merkle, ThreeLeavesSplitAtLargestPowerOfTwoBelow) {
  const std::vector<std::string> l = {"a", "b", "c"};
  const Hash a = merkle_leaf_hash(as_bytes(l[0])), b = merkle_leaf_hash(as_bytes(l[1])),
             c = merkle_leaf_hash(as_bytes(l[2]));
  EXPECT_EQ(merkle_root(std::span<const std::string>(l)),
            merkle_node_hash(merkle_node_hash(a, b), c));
  EXPECT_NE(merkle_root(std::span<const std::string>(l)),
            merkle_node_hash(a, merkle_node_hash(b, c)));
}

TEST(Merkle, InnerNodeBytesAsALeafGiveAnotherRoot) {
  const std::vector<std::string> two = {"a", "b"};
  const Hash a = merkle_leaf_hash(as_bytes(two[0])), b = merkle_leaf_hash(as_bytes(two[1]));
  std::string forged(a.bytes.begin(), a.bytes.end());
  forged.append(b.bytes.begin(), b.bytes.end());
  EXPECT_NE(merkle_root(std::span<const std::string>(&forged, 1)),
            merkle_root(std::span<const std::string>(two)));
}

TEST(Merkle, OverloadsAgree) {
  const auto l = leaves(7);
  std::vector<ByteView> views;
  std::vector<Hash> hashes;
  for (const auto& s : l) {
    views.push_back(as_bytes(s));
    hashes.push_back(merkle_leaf_hash(as_bytes(s)));
  }
  EXPECT_EQ(merkle_root(std::span<const ByteView>(views)),
            merkle_root(std::span<const std::string>(l)));
  EXPECT_EQ(merkle_root_from_leaf_hashes(hashes), merkle_root(std::span<const std::string>(l)));
}

TEST(Merkle, ChangingOneLeafChangesTheRoot) {
  auto l = leaves(8);
  const Hash before = merkle_root(std::span<const std::string>(l));
  l[5][0] ^= 1;
  EXPECT_NE(merkle_root(std::span<const std::string>(l)), before);
}

}  // namespace
}  // namespace baton::chain

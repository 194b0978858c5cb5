// docs/PROTOCOL.md §13.1 and §13.4 as an auditor reads them: the associated
// data of a node-sealed blob built byte by byte from the worked example, the
// envelope rebuilt from a SaveRequest's key_recipients / wrapped_keys /
// key_commitment and the members' public keys, and the blob that the agent's
// seal_and_upload made opened with libsodium alone (no Baton vault code).
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <map>
#include <string>

#include "agent/agent_keys.h"
#include "agent/model_handoff.h"
#include "chain/keys.h"
#include "chain/proto/ledger.pb.h"
#include "chain/protocol.h"
#include "learning/model.h"
#include "storage/file_store.h"
#include "tests/support/test_support.h"

namespace baton::agent {
namespace {

using chain::Bytes;

void append(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }
void append_len(Bytes& out, std::uint32_t n) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(n >> shift));
}
std::uint32_t read_u32be(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// §13.1: "baton/vault/ad/v1" 0x00, then three u32be-length-prefixed parts:
// chain_id, run_id "/" "turn-N", parent model id as lowercase hex text.
Bytes protocol_ad(std::string_view chain_id, std::string_view run_id, std::uint64_t turn,
                  const std::string& parent_hex) {
  Bytes ad;
  append(ad, "baton/vault/ad/v1");
  ad.push_back(0);
  const std::string model = std::string(run_id) + "/turn-" + std::to_string(turn);
  for (std::string_view part : {chain_id, std::string_view(model), std::string_view(parent_hex)}) {
    append_len(ad, static_cast<std::uint32_t>(part.size()));
    append(ad, part);
  }
  return ad;
}

const char* const kParentHex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

TEST(ProtocolBlob, AssociatedDataIsTheWorkedExample) {
  // The hex dump of §13.1's worked example, row by row as printed there.
  const std::string rows[] = {"62 61 74 6f 6e 2f 76 61 75 6c 74 2f 61 64 2f 76",
                              "31 00 00 00 00 0a 62 61 74 6f 6e 2d 64 65 6d 6f",
                              "00 00 00 0b 64 65 6d 6f 2f 74 75 72 6e 2d 31 00",
                              "00 00 40 39 66 38 36 64 30 38 31 38 38 34 63 37",
                              "64 36 35 39 61 32 66 65 61 61 30 63 35 35 61 64",
                              "30 31 35 61 33 62 66 34 66 31 62 32 62 30 62 38",
                              "32 32 63 64 31 35 64 36 63 31 35 62 30 66 30 30",
                              "61 30 38"};
  std::string hex;
  for (const std::string& row : rows)
    for (char c : row)
      if (c != ' ') hex.push_back(c);
  auto example = chain::from_hex(hex);
  ASSERT_TRUE(example.ok());
  ASSERT_EQ(example->size(), 115u);
  EXPECT_EQ(protocol_ad("baton-demo", "demo", 1, kParentHex), *example);
  // The agent's binding: run, "turn-N", parent as hex (agent/agent.cpp binding_for).
  const ModelBinding binding{"baton-demo", "demo", "turn-1", kParentHex};
  EXPECT_EQ(binding.associated_data(), *example);
  // Turn 0 without a parent: 51 bytes ending in an empty third part.
  const Bytes first = ModelBinding{"baton-demo", "demo", "turn-0", ""}.associated_data();
  EXPECT_EQ(first, protocol_ad("baton-demo", "demo", 0, ""));
  ASSERT_EQ(first.size(), 51u);
  EXPECT_EQ(chain::to_hex(chain::ByteView(first).subspan(32)),
            "0000000b64656d6f2f7475726e2d3000000000");
}

// §13.4 step by step with libsodium: rebuild the envelope entry from the
// SaveRequest, unwrap, check the commitment, decrypt every chunk, check the
// hashes.
Result<Bytes> open_by_hand(const Bytes& blob, const chain::pb::SaveRequest& save,
                           const std::map<std::string, chain::X25519PublicKey>& genesis_keys,
                           const chain::MemberSecretKeys& me, const Bytes& ad) {
  if (save.key_recipients_size() != save.wrapped_keys_size()) return make_error("lists differ");
  int mine = -1;
  for (int i = 0; i < save.key_recipients_size(); ++i) {
    auto it = genesis_keys.find(save.key_recipients(i));
    if (it == genesis_keys.end()) return make_error("recipient not a member");
    if (it->second == me.x25519.public_key()) mine = i;
  }
  if (mine < 0) return make_error("not a recipient");
  const std::string& wrapped = save.wrapped_keys(mine);
  if (wrapped.size() != 80) return make_error("wrapped key not 80 bytes");
  std::uint8_t key[32];
  const auto pk = me.x25519.public_key().bytes;
  if (crypto_box_seal_open(key, reinterpret_cast<const std::uint8_t*>(wrapped.data()), 80,
                           pk.data(), me.x25519.secret().data()) != 0)
    return make_error("cannot unwrap");
  Bytes commit_input;
  append(commit_input, "baton/vault/key-commitment/v1");
  commit_input.push_back(0);
  commit_input.insert(commit_input.end(), key, key + 32);
  const chain::Hash commitment = chain::sha256(commit_input);
  if (save.key_commitment() !=
      std::string(reinterpret_cast<const char*>(commitment.bytes.data()), 32))
    return make_error("key does not match the commitment");
  // Header (56 bytes).
  if (blob.size() < 56 || std::memcmp(blob.data(), "BATONVLT", 8) != 0 || blob[8] != 1 ||
      blob[9] != 1 || blob[10] != 0 || blob[11] != 0 || blob[23] != 0)
    return make_error("bad header");
  if (std::memcmp(blob.data() + 24, commitment.bytes.data(), 32) != 0)
    return make_error("header commitment");
  const std::uint32_t chunk_size = read_u32be(blob.data() + 12);
  Bytes aad(blob.begin(), blob.begin() + 56);
  aad.insert(aad.end(), ad.begin(), ad.end());
  Bytes plain;
  std::size_t at = 56;
  for (std::uint32_t i = 0;; ++i) {
    const std::size_t take = std::min<std::size_t>(chunk_size + 16, blob.size() - at);
    if (take < 16) return make_error("truncated chunk");
    const bool final = at + take == blob.size();
    std::uint8_t nonce[12];
    std::memcpy(nonce, blob.data() + 16, 7);
    nonce[7] = static_cast<std::uint8_t>(i >> 24);
    nonce[8] = static_cast<std::uint8_t>(i >> 16);
    nonce[9] = static_cast<std::uint8_t>(i >> 8);
    nonce[10] = static_cast<std::uint8_t>(i);
    nonce[11] = final ? 1 : 0;
    std::vector<std::uint8_t> out(take - 16);
    unsigned long long out_len = 0;
    if (crypto_aead_aes256gcm_decrypt(out.data(), &out_len, nullptr, blob.data() + at, take,
                                      aad.data(), aad.size(), nonce, key) != 0)
      return make_error("chunk " + std::to_string(i) + " does not authenticate");
    plain.insert(plain.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(out_len));
    at += take;
    if (final) break;
  }
  sodium_memzero(key, sizeof key);
  if (chain::sha256(blob).hex() != chain::to_hex(chain::as_bytes(save.ciphertext_sha256())))
    return make_error("blob hash");
  if (chain::sha256(plain).hex() != chain::to_hex(chain::as_bytes(save.model_sha256())))
    return make_error("model hash");
  return plain;
}

TEST(ProtocolBlob, AnAuditorOpensTheAgentsBlobFromTheLedgerRecordAlone) {
  if (sodium_init() < 0 || crypto_aead_aes256gcm_is_available() == 0)
    GTEST_SKIP() << "libsodium's AES-256-GCM needs AES-NI on this CPU";
  testing::TempDir dir;
  storage::FileObjectStore store(dir.path() / "store");
  const auto alice = chain::generate_member_keys("alice");
  const auto bob = chain::generate_member_keys("bob");
  const auto carol = chain::generate_member_keys("carol");
  auto model = learning::Model::create(learning::ModelSpec::mlp(4, {8}), 5);
  ASSERT_TRUE(model.ok());
  const Bytes model_bytes = learning::serialize(*model);

  HandoffOptions options;
  options.work_dir = dir.path() / "work";
  options.chunk_size = 128;  // several chunks
  auto parent = chain::Hash::from_hex(kParentHex);
  ASSERT_TRUE(parent.ok());
  // What the agent does for turn 1 of run "demo" trained from `parent`.
  const ModelBinding binding{"baton-demo", "demo", "turn-1", parent->hex()};
  auto sealed =
      seal_and_upload(store, model_bytes, binding,
                      {alice.public_keys(), bob.public_keys(), carol.public_keys()}, options);
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  EXPECT_EQ(sealed->object_key, "runs/demo/models/turn-1.blob");

  // The SaveRequest as it goes on the ledger, through its wire bytes.
  const auto record = save_record_for(*sealed, *parent, 10, "{}");
  std::string wire;
  ASSERT_TRUE(chain::save_request_to_proto("demo", 1, record).SerializeToString(&wire));
  chain::pb::SaveRequest save;
  ASSERT_TRUE(save.ParseFromString(wire));
  ASSERT_EQ(save.key_recipients_size(), 3);
  EXPECT_EQ(save.key_recipients(0), "alice");
  EXPECT_EQ(save.key_recipients(2), "carol");

  auto blob = store.get(save.object_key());
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  const std::map<std::string, chain::X25519PublicKey> genesis_keys = {
      {"alice", alice.x25519.public_key()},
      {"bob", bob.x25519.public_key()},
      {"carol", carol.x25519.public_key()}};
  const Bytes ad = protocol_ad("baton-demo", save.run_id(), save.turn(),
                               chain::to_hex(chain::as_bytes(save.parent_model_id())));
  auto opened = open_by_hand(*blob, save, genesis_keys, bob, ad);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, model_bytes);

  // Under another reading of §13.1 the blob does not open: the raw parent
  // bytes instead of hex text, or the ledger's turn without the run prefix.
  Bytes raw_parent;
  append(raw_parent, "baton/vault/ad/v1");
  raw_parent.push_back(0);
  for (std::string_view part : {std::string_view("baton-demo"), std::string_view("demo/turn-1"),
                                std::string_view(save.parent_model_id())}) {
    append_len(raw_parent, static_cast<std::uint32_t>(part.size()));
    append(raw_parent, part);
  }
  EXPECT_FALSE(open_by_hand(*blob, save, genesis_keys, bob, raw_parent).ok());
  EXPECT_FALSE(open_by_hand(*blob, save, genesis_keys, bob,
                            protocol_ad("baton-demo", "demo", 2, parent->hex()))
                   .ok());
}

}  // namespace
}  // namespace baton::agent

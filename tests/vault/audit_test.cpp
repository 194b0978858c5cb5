// docs/PROTOCOL.md §13 is enough to decrypt a blob: an independent Python
// implementation (tests/vault/audit_decrypt.py: `cryptography` AESGCM and
// PyNaCl SealedBox, no Baton code) opens what the vault sealed, and refuses
// what the vault refuses.
#include <gtest/gtest.h>

#include <fstream>

#include "chain/keys.h"
#include "storage/envelope.h"
#include "storage/vault.h"
#include "tests/support/test_support.h"

namespace baton::storage {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Debian's python3 has python3-cryptography and python3-nacl; a python3
// earlier on PATH (pyenv) may not.
const fs::path kPython = "/usr/bin/python3";

void write_bytes(const fs::path& p, const chain::Bytes& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

chain::Bytes read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return chain::Bytes(std::istreambuf_iterator<char>(f), {});
}

class AuditDecrypt : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kPython));
    const auto alice = chain::generate_member_keys("alice");
    const auto bob = chain::generate_member_keys("bob");
    std::ofstream(dir_ / "bob.key") << chain::encode_secret_keys(bob);
    fs::permissions(dir_ / "bob.key", fs::perms::owner_read | fs::perms::owner_write);
    chain::Bytes plain(5 * 1000 + 17);
    for (std::size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<std::uint8_t>(i * 7 + 3);
    write_bytes(dir_ / "plain", plain);
    ad_ = model_associated_data("chain-x", "model-7", "model-6");
    const auto key = DataKey::generate();
    auto s = seal_file(dir_ / "plain", dir_ / "blob", key, ad_, SealOptions{1000});
    ASSERT_TRUE(s.ok());
    auto env = make_envelope(key, {alice.public_keys(), bob.public_keys()});
    ASSERT_TRUE(env.ok());
    env->blob_size = s->blob_size;
    env->blob_sha256 = s->blob_sha256;
    std::ofstream(dir_ / "blob.envelope.json") << encode_envelope(*env);
  }

  testing::RunResult audit(const std::string& blob, const chain::Bytes& ad) {
    return testing::run_program(
        kPython,
        {(testing::source_dir() / "tests/vault/audit_decrypt.py").string(), "--key",
         (dir_ / "bob.key").string(), "--envelope", (dir_ / "blob.envelope.json").string(),
         "--ad-hex", chain::to_hex(ad), "--in", (dir_ / blob).string(), "--out",
         (dir_ / "audited").string()},
        std::chrono::seconds(60));
  }

  TempDir dir_;
  chain::Bytes ad_;
};

TEST_F(AuditDecrypt, PythonFollowingTheSpecOpensABatonBlob) {
  auto r = audit("blob", ad_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_bytes(dir_ / "audited"), read_bytes(dir_ / "plain"));
}

TEST_F(AuditDecrypt, PythonFollowingTheSpecRefusesWhatTheVaultRefuses) {
  auto other_ad = audit("blob", model_associated_data("chain-x", "model-8", "model-6"));
  EXPECT_EQ(other_ad.exit_code, 3) << other_ad.err;
  // Drop the envelope's hash so the chunk checks themselves are exercised.
  std::string env_text;
  {
    std::ifstream f(dir_ / "blob.envelope.json");
    env_text.assign(std::istreambuf_iterator<char>(f), {});
  }
  auto env = parse_envelope(env_text);
  ASSERT_TRUE(env.ok());
  env->blob_sha256.reset();
  std::ofstream(dir_ / "blob.envelope.json") << encode_envelope(*env);
  const chain::Bytes blob = read_bytes(dir_ / "blob");
  write_bytes(dir_ / "cut",
              chain::Bytes(blob.begin(), blob.begin() + kBlobHeaderSize + 2 * (1000 + 16)));
  auto cut = audit("cut", ad_);
  EXPECT_EQ(cut.exit_code, 3) << cut.err;
  chain::Bytes flipped = blob;
  flipped[kBlobHeaderSize + 1500] ^= 1;
  write_bytes(dir_ / "flipped", flipped);
  auto bad = audit("flipped", ad_);
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
  EXPECT_FALSE(fs::exists(dir_ / "audited"));
}

}  // namespace
}  // namespace baton::storage

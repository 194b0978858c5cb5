// The s3:// object store against a real s3rver process on loopback, and AWS
// CLI interop on the same server.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include "storage/object_store.h"
#include "storage/s3_store.h"
#include "storage/sigv4.h"
#include "tests/support/test_support.h"
#include "tests/vault/s3_server.h"

namespace baton::storage {
namespace {

namespace fs = std::filesystem;
using testing::S3Server;
using testing::TempDir;

StoreErrc code_of(const Error& e) { return static_cast<StoreErrc>(e.code); }

// A file of `size` pseudo-random bytes (fast: a 64 KiB pattern varied per block).
void make_file(const fs::path& p, std::size_t size, std::uint8_t seed) {
  std::vector<std::uint8_t> block(1 << 16);
  chain::random_bytes(block);
  std::ofstream f(p, std::ios::binary);
  for (std::size_t off = 0; off < size; off += block.size()) {
    block[0] = static_cast<std::uint8_t>(off >> 16);
    block[1] = seed;
    f.write(reinterpret_cast<const char*>(block.data()),
            static_cast<std::streamsize>(std::min(block.size(), size - off)));
  }
}

std::string file_sha256(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  const std::string s((std::istreambuf_iterator<char>(f)), {});
  return sigv4::sha256_hex(chain::as_bytes(s));
}

class S3Store : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new S3Server("baton-test"); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(server_->ok()) << "s3rver is not running"; }

  std::unique_ptr<ObjectStore> open(const std::string& uri, S3Options o = server_->options()) {
    auto s = open_object_store(uri, o);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(*s) : nullptr;
  }

  static S3Server* server_;
  TempDir dir_;
};

S3Server* S3Store::server_ = nullptr;

TEST_F(S3Store, PutGetHeadListDelete) {
  auto store = open("s3://baton-test/crud");
  ASSERT_TRUE(store);
  const std::string a = "first object", b = "second";
  ASSERT_TRUE(store->put("models/a.blob", chain::as_bytes(a)).ok());
  ASSERT_TRUE(store->put("models/b.blob", chain::as_bytes(b)).ok());
  ASSERT_TRUE(store->put("other/c", chain::as_bytes("c")).ok());

  auto got = store->get("models/a.blob");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(std::string(got->begin(), got->end()), a);
  auto info = store->head("models/b.blob");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->size, b.size());

  auto all = store->list();
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].key, "models/a.blob");
  EXPECT_EQ((*all)[2].key, "other/c");
  auto models = store->list("models/");
  ASSERT_TRUE(models.ok());
  EXPECT_EQ(models->size(), 2u);

  ASSERT_TRUE(store->remove("models/a.blob").ok());
  auto gone = store->get("models/a.blob");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(code_of(gone.error()), StoreErrc::not_found);
  EXPECT_TRUE(store->remove("models/a.blob").ok()) << "deleting a missing key is not an error";
  EXPECT_EQ(store->list("models/")->size(), 1u);
}

TEST_F(S3Store, GetAtMostRefusesALargerObjectAndReturnsOneWithinTheLimit) {
  auto store = open("s3://baton-test/bounded");
  ASSERT_TRUE(store);
  const chain::Bytes body(100000, 0x5a);
  ASSERT_TRUE(store->put("m/blob", body).ok());
  auto whole = store->get_at_most("m/blob", body.size());
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_EQ(*whole, body);
  auto cut = store->get_at_most("m/blob", body.size() - 1);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(code_of(cut.error()), StoreErrc::too_large) << cut.error().message;
  auto missing = store->get_at_most("m/none", 10);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(code_of(missing.error()), StoreErrc::not_found);
}

TEST_F(S3Store, EmptyObjectRoundTripsThroughFiles) {
  auto store = open("s3://baton-test/empty");
  ASSERT_TRUE(store);
  make_file(dir_ / "zero", 0, 1);
  ASSERT_TRUE(store->put_file("z", dir_ / "zero").ok());
  ASSERT_TRUE(store->get_file("z", dir_ / "back").ok());
  EXPECT_EQ(fs::file_size(dir_ / "back"), 0u);
}

TEST_F(S3Store, MultipartUploadOf40MiBRoundTrips) {
  auto store = open("s3://baton-test/multipart");
  ASSERT_TRUE(store);
  const std::size_t size = (40u << 20) + 12345;
  make_file(dir_ / "big", size, 2);
  std::vector<unsigned> parts;
  std::mutex mu;
  S3Options o = server_->options();
  o.on_part_uploaded = [&](unsigned n) {
    std::lock_guard lock(mu);
    parts.push_back(n);
  };
  store = open("s3://baton-test/multipart", o);
  auto st = store->put_file("blob", dir_ / "big");
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(parts.size(), 9u) << "40 MiB in 5 MiB parts";
  auto info = store->head("blob");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, size);
  auto g = store->get_file("blob", dir_ / "back");
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(file_sha256(dir_ / "back"), file_sha256(dir_ / "big"));
}

TEST_F(S3Store, MissingKeyIsNotFoundAndCreatesNoFile) {
  auto store = open("s3://baton-test/missing");
  ASSERT_TRUE(store);
  auto h = store->head("nothing-here");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(code_of(h.error()), StoreErrc::not_found);
  auto g = store->get_file("nothing-here", dir_ / "out");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(code_of(g.error()), StoreErrc::not_found);
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_F(S3Store, MissingBucketIsNamedInTheError) {
  auto store = open("s3://no-such-bucket/x");
  ASSERT_TRUE(store);
  auto p = store->put("k", chain::as_bytes("v"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(code_of(p.error()), StoreErrc::no_bucket) << p.error().message;
  EXPECT_NE(p.error().message.find("no-such-bucket"), std::string::npos);
  auto h = store->head("k");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(code_of(h.error()), StoreErrc::no_bucket) << h.error().message;
  auto l = store->list();
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(code_of(l.error()), StoreErrc::no_bucket) << l.error().message;
}

TEST_F(S3Store, UnknownAccessKeyIsAccessDenied) {
  // s3rver checks the access key id (not the signature): a wrong id is 403.
  S3Options o = server_->options();
  o.access_key_id = "NOT-A-KEY";
  auto store = open("s3://baton-test/denied", o);
  ASSERT_TRUE(store);
  auto p = store->put("k", chain::as_bytes("v"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(code_of(p.error()), StoreErrc::access_denied) << p.error().message;
  EXPECT_NE(p.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST_F(S3Store, UnreachableEndpointIsUnavailable) {
  S3Options o = server_->options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(testing::free_port());
  auto store = open("s3://baton-test", o);
  ASSERT_TRUE(store);
  auto p = store->put("k", chain::as_bytes("v"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(code_of(p.error()), StoreErrc::unavailable);
  EXPECT_NE(p.error().message.find("cannot reach"), std::string::npos) << p.error().message;
}

TEST_F(S3Store, KeysOutsideTheRuleAreRefusedBeforeSending) {
  auto store = open("s3://baton-test");
  ASSERT_TRUE(store);
  for (const char* bad : {"", "/abs", "a//b", "../x", "a/.hidden", "sp ace", "q?x"}) {
    auto p = store->put(bad, chain::as_bytes("v"));
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(code_of(p.error()), StoreErrc::invalid_key) << bad;
  }
}

TEST(S3StoreKill, ServerKilledMidUploadLeavesNoObject) {
  TempDir dir;
  S3Server server("baton-kill");
  ASSERT_TRUE(server.ok());
  make_file(dir / "big", 20u << 20, 3);
  S3Options o = server.options();
  o.parallelism = 1;  // parts in order: the kill lands after part 1
  o.connect_timeout = std::chrono::milliseconds(500);
  o.on_part_uploaded = [&](unsigned n) {
    if (n == 1) server.kill();
  };
  auto store = open_object_store("s3://baton-kill/p", o);
  ASSERT_TRUE(store.ok());
  auto st = (*store)->put_file("model.blob", dir / "big");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(code_of(st.error()), StoreErrc::unavailable) << st.error().message;
  EXPECT_NE(st.error().message.find("cannot reach"), std::string::npos) << st.error().message;

  // Back up over the same data directory: the upload was never completed, so
  // no object exists under the key (its parts may linger, never as the object).
  server.start(server.port());
  ASSERT_TRUE(server.ok());
  auto h = (*store)->head("model.blob");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(code_of(h.error()), StoreErrc::not_found) << h.error().message;
  auto l = (*store)->list();
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_TRUE(l->empty());
}

// ---- AWS CLI interop: byte-identical in both directions ----

const fs::path kAws = "/usr/bin/aws";

TEST_F(S3Store, AwsCliReadsWhatBatonPut) {
  ASSERT_TRUE(fs::exists(kAws)) << "the AWS CLI (Debian awscli) is not installed";
  const std::size_t size = (12u << 20) + 7;  // multipart on our side
  make_file(dir_ / "ours", size, 4);
  auto store = open("s3://baton-test/interop");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put_file("from-baton", dir_ / "ours").ok());
  auto r = testing::run_program(kAws,
                                {"--endpoint-url", server_->endpoint(), "s3", "cp",
                                 "s3://baton-test/interop/from-baton", (dir_ / "theirs").string()},
                                std::chrono::seconds(60), server_->aws_env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(file_sha256(dir_ / "theirs"), file_sha256(dir_ / "ours"));
}

TEST_F(S3Store, BatonReadsWhatAwsCliPut) {
  ASSERT_TRUE(fs::exists(kAws)) << "the AWS CLI (Debian awscli) is not installed";
  const std::size_t size =
      (12u << 20) + 11;  // the AWS CLI uploads this multipart (8 MiB threshold)
  make_file(dir_ / "theirs", size, 5);
  auto r = testing::run_program(kAws,
                                {"--endpoint-url", server_->endpoint(), "s3", "cp",
                                 (dir_ / "theirs").string(), "s3://baton-test/interop/from-aws"},
                                std::chrono::seconds(60), server_->aws_env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto store = open("s3://baton-test/interop");
  ASSERT_TRUE(store);
  auto g = store->get_file("from-aws", dir_ / "ours");
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(file_sha256(dir_ / "ours"), file_sha256(dir_ / "theirs"));
}

}  // namespace
}  // namespace baton::storage

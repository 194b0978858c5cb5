// The ObjectStore contract on the file:// and in-memory backends, the key
// rule, store URIs, credentials resolution, and S3 retries against a tiny
// scripted HTTP server.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "storage/file_store.h"
#include "storage/memory_object_store.h"
#include "storage/object_store.h"
#include "storage/s3_http.h"
#include "storage/s3_xml.h"
#include "storage/s3_store.h"
#include "tests/support/test_support.h"

namespace baton::storage {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

StoreErrc code_of(const Error& e) { return static_cast<StoreErrc>(e.code); }

std::string text(const chain::Bytes& b) { return std::string(b.begin(), b.end()); }

enum class Backend { file, memory };

class ObjectStoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::file) {
      auto s = open_object_store("file://" + (dir_ / "store").string());
      ASSERT_TRUE(s.ok());
      store_ = std::move(*s);
    } else {
      store_ = std::make_unique<MemoryObjectStore>();
    }
  }
  TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(ObjectStoreContract, PutGetHeadListRemove) {
  ASSERT_TRUE(store_->put("m/2", chain::as_bytes("two")).ok());
  ASSERT_TRUE(store_->put("m/1", chain::as_bytes("one")).ok());
  ASSERT_TRUE(store_->put("z", chain::as_bytes("")).ok());
  EXPECT_EQ(text(*store_->get("m/1")), "one");
  EXPECT_EQ(store_->head("m/2")->size, 3u);
  auto all = store_->list();
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].key, "m/1");
  EXPECT_EQ((*all)[1].key, "m/2");
  EXPECT_EQ((*all)[2].size, 0u);
  EXPECT_EQ(store_->list("m/")->size(), 2u);
  ASSERT_TRUE(store_->put("m/1", chain::as_bytes("uno")).ok());
  EXPECT_EQ(text(*store_->get("m/1")), "uno");
  ASSERT_TRUE(store_->remove("m/1").ok());
  EXPECT_TRUE(store_->remove("m/1").ok());
  auto g = store_->get("m/1");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(code_of(g.error()), StoreErrc::not_found);
}

TEST_P(ObjectStoreContract, FilesStreamBothWays) {
  {
    std::ofstream f(dir_ / "in", std::ios::binary);
    for (int i = 0; i < 300000; ++i) f << static_cast<char>(i * 7);
  }
  ASSERT_TRUE(store_->put_file("blob", dir_ / "in").ok());
  ASSERT_TRUE(store_->get_file("blob", dir_ / "out").ok());
  std::ifstream a(dir_ / "in", std::ios::binary), b(dir_ / "out", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(a), {}),
            std::string(std::istreambuf_iterator<char>(b), {}));
  auto again = store_->get_file("blob", dir_ / "out");
  EXPECT_FALSE(again.ok()) << "get_file must not overwrite unless asked";
  EXPECT_TRUE(store_->get_file("blob", dir_ / "out", true).ok());
}

TEST_P(ObjectStoreContract, GetAtMostRefusesObjectsOverTheLimit) {
  ASSERT_TRUE(store_->put("blob", chain::as_bytes("0123456789")).ok());
  auto exact = store_->get_at_most("blob", 10);
  ASSERT_TRUE(exact.ok()) << exact.error().message;
  EXPECT_EQ(text(*exact), "0123456789");
  auto over = store_->get_at_most("blob", 9);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(code_of(over.error()), StoreErrc::too_large);
  auto missing = store_->get_at_most("absent", 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(code_of(missing.error()), StoreErrc::not_found);
}

TEST_P(ObjectStoreContract, MissingObjectCreatesNoFile) {
  ASSERT_TRUE(store_->put("present", chain::as_bytes("x")).ok());
  auto g = store_->get_file("absent", dir_ / "out");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(code_of(g.error()), StoreErrc::not_found);
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_P(ObjectStoreContract, RefusesKeysThatCouldEscape) {
  for (const char* bad :
       {"../etc/passwd", "/abs", "a/../../b", ".hidden", "a//b", "a/", "sp ace"}) {
    auto p = store_->put(bad, chain::as_bytes("v"));
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(code_of(p.error()), StoreErrc::invalid_key) << bad;
  }
  auto l = store_->list();
  EXPECT_TRUE(!l.ok() || l->empty());
  EXPECT_FALSE(fs::exists(dir_ / "etc"));
}

INSTANTIATE_TEST_SUITE_P(Backends, ObjectStoreContract,
                         ::testing::Values(Backend::file, Backend::memory), [](const auto& info) {
                           return info.param == Backend::file ? "File" : "Memory";
                         });

TEST(FileObjectStore, MissingDirectoryIsNoBucketForReads) {
  TempDir dir;
  FileObjectStore store(dir / "not-yet");
  auto l = store.list("");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(code_of(l.error()), StoreErrc::no_bucket);
  EXPECT_NE(l.error().message.find("not-yet"), std::string::npos);
  EXPECT_TRUE(store.put("a/b", chain::as_bytes("v")).ok()) << "put creates the directory";
  EXPECT_EQ(store.list("")->size(), 1u);
}

TEST(FileObjectStore, LeavesNoTemporaryFilesAndRemovesEmptyDirs) {
  TempDir dir;
  FileObjectStore store(dir / "s");
  ASSERT_TRUE(store.put("x/y/z", chain::as_bytes("v")).ok());
  ASSERT_TRUE(store.remove("x/y/z").ok());
  EXPECT_TRUE(fs::is_empty(dir / "s"));
}

TEST(MemoryObjectStore, InjectedFailuresSurfaceThenClear) {
  MemoryObjectStore store;
  store.fail_next(1, StoreErrc::unavailable);
  auto p = store.put("k", chain::as_bytes("v"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(code_of(p.error()), StoreErrc::unavailable);
  EXPECT_TRUE(store.put("k", chain::as_bytes("v")).ok());
}

TEST(StoreUri, ParsesAndRefuses) {
  EXPECT_TRUE(open_object_store("file:///tmp/x").ok());
  S3Options creds;
  creds.access_key_id = "a";
  creds.secret_access_key = "b";
  auto s3 = open_object_store("s3://my-bucket/some/prefix/", creds);
  ASSERT_TRUE(s3.ok()) << s3.error().message;
  EXPECT_EQ((*s3)->uri(), "s3://my-bucket/some/prefix");
  for (const char* bad : {"file://relative", "ftp://x", "s3://", "s3://UPPER",
                          "s3://ok-bucket/../x", "/plain/path"}) {
    auto r = open_object_store(bad, creds);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(code_of(r.error()), StoreErrc::invalid_uri) << bad;
  }
  auto nocreds = open_object_store("s3://my-bucket");
  ASSERT_FALSE(nocreds.ok());
  EXPECT_NE(nocreds.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(S3OptionsResolve, EnvironmentThenSharedCredentialsFile) {
  TempDir dir;
  {
    std::ofstream f(dir / "credentials");
    f << "[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n\n"
         "[work]\naws_access_key_id=WORK\naws_secret_access_key=worksecret\naws_session_token = "
         "tok\n";
  }
  auto from_env =
      resolve_s3_options({}, {{"AWS_ACCESS_KEY_ID", "ENV"},
                              {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                              {"AWS_REGION", "eu-west-3"},
                              {"BATON_S3_ENDPOINT", "http://127.0.0.1:9000"},
                              {"AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").string()}});
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->access_key_id, "ENV");
  EXPECT_EQ(from_env->region, "eu-west-3");
  EXPECT_EQ(from_env->endpoint, "http://127.0.0.1:9000");
  EXPECT_TRUE(from_env->path_style);

  auto from_file = resolve_s3_options(
      {},
      {{"AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").string()}, {"AWS_PROFILE", "work"}});
  ASSERT_TRUE(from_file.ok());
  EXPECT_EQ(from_file->access_key_id, "WORK");
  EXPECT_EQ(from_file->secret_access_key, "worksecret");
  EXPECT_EQ(from_file->session_token, "tok");

  auto home = resolve_s3_options({}, {{"HOME", dir.path().string()}});
  ASSERT_TRUE(home.ok());
  EXPECT_TRUE(home->access_key_id.empty()) << "no ~/.aws/credentials there";

  S3Options explicit_opts;
  explicit_opts.access_key_id = "TOML";
  explicit_opts.secret_access_key = "tomlsecret";
  auto kept = resolve_s3_options(explicit_opts,
                                 {{"AWS_ACCESS_KEY_ID", "ENV"}, {"AWS_SECRET_ACCESS_KEY", "e"}});
  EXPECT_EQ(kept->access_key_id, "TOML") << "values already set (node.toml) win";

  EXPECT_FALSE(parse_aws_credentials("[default\nx=y\n", "default").ok());
  EXPECT_FALSE(parse_aws_credentials("[default]\nnot a pair\n", "default").ok());
  auto missing = resolve_s3_options({}, {{"AWS_SHARED_CREDENTIALS_FILE", (dir / "nope").string()}});
  EXPECT_FALSE(missing.ok());
}

TEST(S3Xml, ExtractsAndDecodesValuesFromUntrustedText) {
  EXPECT_EQ(s3::xml_values("<a><Key>x&amp;y</Key><Key>z</Key></a>", "Key"),
            (std::vector<std::string>{"x&y", "z"}));
  EXPECT_TRUE(s3::xml_values("<Key>unterminated", "Key").empty());
  EXPECT_EQ(s3::xml_values("<Key>&bogus;</Key>", "Key"), (std::vector<std::string>{"&bogus;"}));
}

TEST(S3Xml, ReadsTheFirstCodeUploadIdAndAnErrorInA200Reply) {
  EXPECT_EQ(s3::error_code("<Error><Code>NoSuchBucket</Code><Code>X</Code></Error>"),
            "NoSuchBucket");
  EXPECT_EQ(s3::error_code("<Error><Message>no code</Message></Error>"), "");
  EXPECT_EQ(s3::upload_id("<InitiateMultipartUploadResult><UploadId>a&amp;b</UploadId>"
                          "</InitiateMultipartUploadResult>"),
            "a&b");
  EXPECT_EQ(s3::upload_id("<UploadId></UploadId>"), "");
  EXPECT_TRUE(s3::reports_error("<?xml?>\n<Error><Code>InternalError</Code></Error>"));
  EXPECT_FALSE(
      s3::reports_error("<CompleteMultipartUploadResult><ETag>\"x\"</ETag>"
                        "</CompleteMultipartUploadResult>"));
}

TEST(S3Xml, ListPageKeepsEntriesUnderTheBaseAndTheTokenOfATruncatedPage) {
  const std::string page =
      "<ListBucketResult><IsTruncated>true</IsTruncated>"
      "<Contents><Key>pre/a&lt;1</Key><Size>12</Size><ETag>&quot;e1&quot;</ETag></Contents>"
      "<Contents><Key>other/b</Key><Size>5</Size></Contents>"
      "<Contents><Key>pre/c</Key></Contents>"
      "<NextContinuationToken>t&amp;2</NextContinuationToken></ListBucketResult>";
  auto p = s3::parse_list_page(page, "pre/");
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->objects.size(), 2u);
  EXPECT_EQ(p->objects[0].key, "a<1");
  EXPECT_EQ(p->objects[0].size, 12u);
  EXPECT_EQ(p->objects[0].etag, "\"e1\"");
  EXPECT_EQ(p->objects[1].key, "c");
  EXPECT_EQ(p->objects[1].size, 0u);
  EXPECT_EQ(p->next_token, "t&2");

  // Not truncated, or truncated without a token: the last page.
  auto last = s3::parse_list_page(
      "<IsTruncated>false</IsTruncated>"
      "<NextContinuationToken>t</NextContinuationToken>",
      "");
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->next_token.empty());
  EXPECT_TRUE(s3::parse_list_page("<IsTruncated>true</IsTruncated>", "")->next_token.empty());
  // An unterminated entry ends the page.
  EXPECT_TRUE(s3::parse_list_page("<Contents><Key>a</Key>", "")->objects.empty());

  auto bad = s3::parse_list_page("<Contents><Key>pre/x</Key><Size>lots</Size></Contents>", "pre/");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, static_cast<int>(StoreErrc::bad_response));
  EXPECT_NE(bad.error().message.find("x with a bad Size"), std::string::npos);
  // A bad Size outside the base is never read.
  EXPECT_TRUE(
      s3::parse_list_page("<Contents><Key>y</Key><Size>lots</Size></Contents>", "pre/").ok());
}

// A loopback HTTP server that answers each request with the next scripted
// status (the last one repeats), counting requests. Just enough HTTP for
// libcurl: read the head, ignore any body, close.
class ScriptedHttpServer {
 public:
  explicit ScriptedHttpServer(std::vector<int> statuses) : statuses_(std::move(statuses)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0)
      std::abort();
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedHttpServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int requests() const { return count_.load(); }

 private:
  void serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      const int i = count_.fetch_add(1);
      const int status =
          statuses_[std::min<std::size_t>(static_cast<std::size_t>(i), statuses_.size() - 1)];
      const std::string body = status == 200 ? "" : "<Error><Code>SlowDown</Code></Error>";
      const std::string resp = "HTTP/1.1 " + std::to_string(status) +
                               " X\r\nContent-Length: " + std::to_string(body.size()) +
                               "\r\nConnection: close\r\n\r\n" + body;
      (void)::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  std::vector<int> statuses_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> count_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A loopback HTTP server that answers every request with 200 and a body of
// `body_bytes` zeros, as a store that lies about an object's size would,
// counting the bytes it managed to send before the client hung up.
class FloodingHttpServer {
 public:
  explicit FloodingHttpServer(std::uint64_t body_bytes) : body_bytes_(body_bytes) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0)
      std::abort();
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FloodingHttpServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::uint64_t bytes_sent() const { return sent_.load(); }
  int requests() const { return requests_.load(); }

 private:
  void serve() {
    for (;;) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++requests_;
      char buf[4096];
      (void)::recv(c, buf, sizeof buf, 0);
      const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body_bytes_) +
                               "\r\nConnection: close\r\n\r\n";
      (void)::send(c, head.data(), head.size(), MSG_NOSIGNAL);
      const std::vector<char> zeros(1 << 16, 0);
      for (std::uint64_t left = body_bytes_; left > 0;) {
        const auto n =
            ::send(c, zeros.data(), std::min<std::uint64_t>(left, zeros.size()), MSG_NOSIGNAL);
        if (n <= 0) break;
        sent_ += static_cast<std::uint64_t>(n);
        left -= static_cast<std::uint64_t>(n);
      }
      ::close(c);
    }
  }

  std::uint64_t body_bytes_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

S3Options scripted_options(int port, unsigned retries) {
  S3Options o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.bucket = "b-ucket";
  o.access_key_id = "k";
  o.secret_access_key = "s";
  o.retries = retries;
  o.backoff = std::chrono::milliseconds(5);
  return o;
}

TEST(S3Retry, RetriesServerErrorsThenSucceeds) {
  ScriptedHttpServer server({503, 500, 200});
  S3ObjectStore store(scripted_options(server.port(), 4));
  auto st = store.remove("k");
  EXPECT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(server.requests(), 3);
}

TEST(S3Retry, GivesUpAfterTheRetryBudgetAsUnavailable) {
  ScriptedHttpServer server({503});
  S3ObjectStore store(scripted_options(server.port(), 2));
  auto st = store.remove("k");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(code_of(st.error()), StoreErrc::unavailable) << st.error().message;
  EXPECT_EQ(server.requests(), 3);
}

TEST(S3Bounded, StopsReadingABodyPastTheLimitAndDoesNotRetry) {
  const std::uint64_t flood = 1ull << 30;  // 1 GiB announced and sent
  FloodingHttpServer server(flood);
  S3ObjectStore store(scripted_options(server.port(), 4));
  auto got = store.get_at_most("runs/r/models/turn-1.blob", 1 << 20);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(code_of(got.error()), StoreErrc::too_large) << got.error().message;
  // The client hung up after about 1 MiB: what the server got out is that
  // plus what the sockets' buffers held, far from the gigabyte.
  EXPECT_LT(server.bytes_sent(), 64ull << 20);
  EXPECT_EQ(server.requests(), 1);  // a body too large is refused, not retried
}

TEST(S3Retry, DoesNotRetryClientErrors) {
  ScriptedHttpServer server({403});
  S3ObjectStore store(scripted_options(server.port(), 4));
  auto st = store.remove("k");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(code_of(st.error()), StoreErrc::access_denied);
  EXPECT_EQ(server.requests(), 1);
}

}  // namespace
}  // namespace baton::storage

// The admin API's transports (issue 12): TLS with a pinned certificate, a
// Unix socket whose file mode is the authentication, and no token in clear
// text off the host. Real servers and clients on loopback and socket files.
#include <gtest/gtest.h>

#include <grp.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>

#include <boost/asio.hpp>

#include "api/admin_tls.h"
#include "api/http_client.h"
#include "api/http_server.h"
#include "tests/support/test_support.h"

namespace baton::api {
namespace {

namespace fs = std::filesystem;
using baton::testing::TempDir;

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::shared_ptr<const TlsIdentity> identity_in(const TempDir& dir, const std::string& name) {
  auto id = load_or_create_tls_identity(dir / (name + ".crt"), dir / (name + ".key"), true, name);
  EXPECT_TRUE(id.ok()) << id.error().message;
  return std::make_shared<const TlsIdentity>(std::move(*id));
}

// A handler that records what reached it.
struct Recorder {
  std::atomic<int> requests{0};
  std::string authorization;
  HttpTransport transport = HttpTransport::tcp;
  HttpHandler handler() {
    return [this](const HttpRequest& r) {
      authorization = r.authorization;
      transport = r.transport;
      ++requests;
      return HttpResponse{200, "text/plain", "ok"};
    };
  }
};

TEST(AdminTls, MakesASelfSignedP256PairOnceWithAPrivateKey) {
  TempDir dir;
  auto a = load_or_create_tls_identity(dir / "admin-tls.crt", dir / "admin-tls.key", true, "n1");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(mode_of(dir / "admin-tls.key"), 0600u);
  EXPECT_EQ(mode_of(dir / "admin-tls.crt"), 0644u);
  EXPECT_NE(a->key_pem.view().find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(a->cert_sha256.size(), 64u);
  EXPECT_EQ(certificate_sha256(a->cert_pem).value(), a->cert_sha256);
  // The next start keeps the pair: the pin stays valid.
  auto b = load_or_create_tls_identity(dir / "admin-tls.crt", dir / "admin-tls.key", true, "n1");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->cert_sha256, a->cert_sha256);
  // What openssl says about it: the key type and the fingerprint clients pin.
  const auto text = baton::testing::run_program(
      "/usr/bin/openssl", {"x509", "-in", (dir / "admin-tls.crt").string(), "-noout", "-text",
                           "-fingerprint", "-sha256"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("prime256v1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("CN = batond n1"), std::string::npos) << text.out;
  const auto eq = text.out.find("Fingerprint=");
  ASSERT_NE(eq, std::string::npos);
  EXPECT_EQ(parse_cert_sha256(text.out.substr(eq + 12, 95)).value(), a->cert_sha256);
}

TEST(AdminTls, RefusesAKeyOthersMayReadHalfAPairAndAForeignKey) {
  TempDir dir;
  ASSERT_TRUE(identity_in(dir, "a"));
  ASSERT_EQ(::chmod((dir / "a.key").c_str(), 0640), 0);
  auto r = load_or_create_tls_identity(dir / "a.crt", dir / "a.key", true, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos) << r.error().message;
  ASSERT_EQ(::chmod((dir / "a.key").c_str(), 0600), 0);

  fs::remove(dir / "a.key");
  r = load_or_create_tls_identity(dir / "a.crt", dir / "a.key", true, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("does not exist"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(dir / "a.key")) << "made a key for someone else's certificate";

  ASSERT_TRUE(identity_in(dir, "b"));
  fs::copy_file(dir / "b.key", dir / "a.key");
  r = load_or_create_tls_identity(dir / "a.crt", dir / "a.key", true, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("does not belong"), std::string::npos) << r.error().message;

  // Named files (no self-signed pair) are never made.
  r = load_or_create_tls_identity(dir / "c.crt", dir / "c.key", false, "x");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(fs::exists(dir / "c.key"));
}

TEST(AdminTls, ReadsPinsInHexAndInOpensslsForm) {
  const std::string hex(64, 'a');
  EXPECT_EQ(parse_cert_sha256(std::string(64, 'A')).value(), hex);
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += (i ? ":" : "") + std::string("AA");
  EXPECT_EQ(parse_cert_sha256(colons).value(), hex);
  EXPECT_EQ(parse_cert_sha256("sha256 Fingerprint=" + colons).value(), hex);
  EXPECT_EQ(parse_cert_sha256("sha256:" + hex).value(), hex);
  EXPECT_FALSE(parse_cert_sha256(std::string(63, 'a')).ok());
  EXPECT_FALSE(parse_cert_sha256(std::string(64, 'g')).ok());
  EXPECT_FALSE(parse_cert_sha256("").ok());
  EXPECT_FALSE(parse_cert_sha256(hex + ":").ok());
}

TEST(AdminTls, AClientThatPinsTheCertificateGetsItsAnswersOverTls) {
  TempDir dir;
  Recorder rec;
  HttpServerOptions o;
  o.tls = identity_in(dir, "node");
  HttpServer server(o, rec.handler());
  ASSERT_TRUE(server.start().ok());
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port());
  auto c = HttpClient::connect_to(url, std::chrono::seconds(5), o.tls->cert_sha256);
  ASSERT_TRUE(c.ok()) << c.error().message;
  (*c)->set_header("Authorization", "Bearer secret");
  for (int i = 0; i < 2; ++i) {  // kept alive
    auto r = (*c)->get("/agent/state");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->body, "ok");
  }
  EXPECT_EQ(rec.requests, 2);
  EXPECT_EQ(rec.transport, HttpTransport::tls);
  EXPECT_EQ(rec.authorization, "Bearer secret");
  // No https without a pin; plain http to a TLS port gets no answer.
  EXPECT_FALSE(HttpClient::connect_to(url, std::chrono::seconds(5)).ok());
  auto plain = HttpClient::connect_to("http://127.0.0.1:" + std::to_string(server.port()),
                                      std::chrono::seconds(2));
  EXPECT_FALSE((*plain)->get("/status").ok());
  EXPECT_EQ(rec.requests, 2);
}

// The attacker: a server at the node's address with a certificate of its
// own. The client, pinned to the node's, refuses it and sends it nothing.
TEST(AdminTls, AServerWithAnotherCertificateGetsNoRequestAndNoToken) {
  TempDir dir;
  const auto node = identity_in(dir, "node");
  Recorder attacker;
  HttpServerOptions o;
  o.tls = identity_in(dir, "attacker");
  HttpServer server(o, attacker.handler());
  ASSERT_TRUE(server.start().ok());
  auto c = HttpClient::connect_to("https://127.0.0.1:" + std::to_string(server.port()),
                                  std::chrono::seconds(5), node->cert_sha256);
  ASSERT_TRUE(c.ok());
  (*c)->set_header("Authorization", "Bearer secret");
  for (const char* method : {"GET", "POST"}) {
    auto r = (*c)->request(method, "/agent/tx", "{}");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, static_cast<int>(HttpFailure::wrong_certificate));
    EXPECT_NE(r.error().message.find(node->cert_sha256), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(o.tls->cert_sha256), std::string::npos);
    EXPECT_NE(r.error().message.find("nothing was sent"), std::string::npos);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(attacker.requests, 0);
  EXPECT_EQ(attacker.authorization, "");
}

// A non-loopback IPv4 address of this host, when it has one.
std::optional<std::string> outside_address() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> out;
  for (ifaddrs* a = list; a != nullptr && !out; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    const auto address = boost::asio::ip::address_v4(ntohl(in->sin_addr.s_addr));
    if (!address.is_loopback()) out = address.to_string();
  }
  ::freeifaddrs(list);
  return out;
}

TEST(AdminTls, ATokenIsNeverSentInClearTextOffLoopback) {
  const auto host = outside_address();
  if (!host) GTEST_SKIP() << "this host has no non-loopback IPv4 address to listen on";
  Recorder rec;
  HttpServerOptions o;
  o.listen = HostPort{*host, 0};
  HttpServer server(o, rec.handler());
  ASSERT_TRUE(server.start().ok());
  auto c = HttpClient::connect_to("http://" + *host + ":" + std::to_string(server.port()),
                                  std::chrono::seconds(5));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->get("/status").ok());  // without a token: fine
  EXPECT_EQ(rec.requests, 1);
  (*c)->set_header("Authorization", "Bearer secret");
  auto r = (*c)->get("/agent/state");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, static_cast<int>(HttpFailure::clear_text_token));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(rec.requests, 1);
  EXPECT_EQ(rec.authorization, "");
}

TEST(AdminSocket, ServesTheApiOnASocketFileOfMode0600) {
  TempDir dir;
  Recorder rec;
  HttpServerOptions o;
  o.unix_socket = dir / "admin.sock";
  HttpServer server(o, rec.handler());
  ASSERT_TRUE(server.start().ok());
  struct stat st {};
  ASSERT_EQ(::lstat(o.unix_socket.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, ::getuid());
  auto c = HttpClient::connect_to("unix:" + o.unix_socket.string(), std::chrono::seconds(5));
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto r = (*c)->get("/agent/state");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(rec.transport, HttpTransport::unix_socket);
  server.stop();
  EXPECT_FALSE(fs::exists(o.unix_socket)) << "stop() leaves the socket file behind";
}

TEST(AdminSocket, WithAGroupTheFileIsMode0660OfThatGroup) {
  TempDir dir;
  const group* g = ::getgrgid(::getgid());
  ASSERT_NE(g, nullptr);
  Recorder rec;
  HttpServerOptions o;
  o.unix_socket = dir / "admin.sock";
  o.unix_socket_mode = 0660;
  o.unix_socket_group = g->gr_name;
  HttpServer server(o, rec.handler());
  ASSERT_TRUE(server.start().ok());
  struct stat st {};
  ASSERT_EQ(::lstat(o.unix_socket.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, g->gr_gid);

  HttpServerOptions bad = o;
  bad.unix_socket = dir / "other.sock";
  bad.unix_socket_group = "no-such-group-baton";
  HttpServer refused(bad, rec.handler());
  auto s = refused.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("no-such-group-baton"), std::string::npos);
  EXPECT_FALSE(fs::exists(bad.unix_socket));
}

TEST(AdminSocket, ReplacesAStaleSocketAndRefusesALiveOneOrAnotherFile) {
  TempDir dir;
  Recorder rec;
  HttpServerOptions o;
  o.unix_socket = dir / "admin.sock";
  {
    // A socket file no one serves (a batond that was killed).
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::acceptor stale(
        io, boost::asio::local::stream_protocol::endpoint(o.unix_socket.string()));
  }
  ASSERT_TRUE(fs::exists(o.unix_socket));
  HttpServer first(o, rec.handler());
  ASSERT_TRUE(first.start().ok());
  HttpServer second(o, rec.handler());
  auto s = second.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("another process"), std::string::npos) << s.error().message;
  EXPECT_TRUE(HttpClient::connect_to("unix:" + o.unix_socket.string()).value()->get("/").ok());

  HttpServerOptions file = o;
  file.unix_socket = dir / "plain";
  std::ofstream(file.unix_socket) << "x";
  HttpServer third(file, rec.handler());
  s = third.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not a socket"), std::string::npos) << s.error().message;
  EXPECT_TRUE(fs::exists(file.unix_socket));
}

}  // namespace
}  // namespace baton::api

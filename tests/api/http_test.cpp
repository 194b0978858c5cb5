#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/time.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "api/http_client.h"
#include "api/http_server.h"
#include "tests/support/test_support.h"

namespace baton::api {
namespace {

HttpResponse echo(const HttpRequest& r) {
  if (r.target == "/boom") throw std::runtime_error("handler bug");
  return {200, "text/plain", r.method + " " + r.target + " " + r.content_type + " " + r.body};
}

TEST(HttpServer, ServesRequestsOverOneKeptAliveConnection) {
  HttpServer server(HttpServerOptions{}, echo);
  ASSERT_TRUE(server.start().ok());
  auto client = HttpClient::connect_to("http://127.0.0.1:" + std::to_string(server.port()));
  ASSERT_TRUE(client.ok());
  auto a = (*client)->get("/status");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(a->body, "GET /status  ");
  auto b = (*client)->request("POST", "/tx", "abcd", "text/plain");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->body, "POST /tx text/plain abcd");
}

TEST(HttpServer, AnswersAHandlerExceptionWith500AndKeepsServing) {
  HttpServer server(HttpServerOptions{}, echo);
  ASSERT_TRUE(server.start().ok());
  auto client = HttpClient::connect_to("http://127.0.0.1:" + std::to_string(server.port()));
  auto r = (*client)->get("/boom");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ((*client)->get("/ok")->status, 200);
}

TEST(HttpServer, RefusesABodyOverTheLimitWith413) {
  HttpServerOptions o;
  o.max_body_bytes = 100;
  HttpServer server(o, echo);
  ASSERT_TRUE(server.start().ok());
  auto client = HttpClient::connect_to("http://127.0.0.1:" + std::to_string(server.port()));
  auto r = (*client)->request("POST", "/tx", std::string(1000, 'x'), "text/plain");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 413);
}

TEST(HttpServer, FailsToStartOnAPortInUseWithASentence) {
  HttpServer first(HttpServerOptions{}, echo);
  ASSERT_TRUE(first.start().ok());
  HttpServerOptions o;
  o.listen.port = first.port();
  HttpServer second(o, echo);
  auto s = second.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("admin_listen"), std::string::npos) << s.error().message;
}

// A raw client socket, for requests the HttpClient would never send.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{0, 100 * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool ok() const { return ok_; }
  bool send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Whatever arrives within ~100 ms; "" when nothing; nullopt once closed.
  std::optional<std::string> poll() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) return std::nullopt;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return std::string();
      return std::nullopt;
    }
    return std::string(buf, static_cast<std::size_t>(n));
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

TEST(HttpServer, DropsARequestWhoseHeaderDripsInPastTheHeaderDeadline) {
  HttpServerOptions o;
  o.header_timeout_ms = 300;
  o.idle_timeout_ms = 60'000;
  HttpServer server(o, echo);
  ASSERT_TRUE(server.start().ok());
  RawConnection loris(server.port());
  ASSERT_TRUE(loris.ok());
  ASSERT_TRUE(loris.send("GET /status HTTP/1.1\r\n"));
  // One header byte every 100 ms: the connection is never idle, but its
  // header never ends. The server closes it (a 60 s idle limit would not).
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    loris.send("X");
    closed = !loris.poll().has_value();
  }
  EXPECT_TRUE(closed) << "a header dripping in for 10 s was still being read";
}

TEST(HttpServer, AnIdleConnectionOutlivesTheHeaderDeadline) {
  HttpServerOptions o;
  o.header_timeout_ms = 200;
  o.idle_timeout_ms = 60'000;
  HttpServer server(o, echo);
  ASSERT_TRUE(server.start().ok());
  RawConnection idle(server.port());
  ASSERT_TRUE(idle.ok());
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(idle.poll().has_value()) << "closed while idle";
  ASSERT_TRUE(idle.send("GET /late HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::string answer;
  for (int i = 0; i < 50 && answer.find("GET /late") == std::string::npos; ++i) {
    auto got = idle.poll();
    ASSERT_TRUE(got.has_value());
    answer += *got;
  }
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
}

TEST(HttpServer, IdleConnectionsAtTheLimitGiveWayToANewClient) {
  HttpServerOptions o;
  o.max_connections = 4;
  o.max_connections_per_client = 4;
  HttpServer server(o, echo);
  ASSERT_TRUE(server.start().ok());
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 20; ++i) {
    idle.push_back(std::make_unique<RawConnection>(server.port()));
    ASSERT_TRUE(idle.back()->ok());
  }
  // A slow-loris connection too, mid-header.
  RawConnection loris(server.port());
  ASSERT_TRUE(loris.send("GET / HTTP/1.1\r\nX-Slow: "));
  auto client = HttpClient::connect_to("http://127.0.0.1:" + std::to_string(server.port()),
                                       std::chrono::seconds(5));
  auto r = (*client)->get("/status");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  // The oldest idle ones were closed to make room.
  EXPECT_FALSE(idle.front()->poll().has_value());
}

TEST(HttpServer, PassesHostOriginAndVersionToTheHandler) {
  HttpServer server(HttpServerOptions{}, [](const HttpRequest& r) {
    return HttpResponse{200, "text/plain",
                        r.host + "|" + r.origin + "|" + std::to_string(r.version)};
  });
  ASSERT_TRUE(server.start().ok());
  RawConnection c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: localhost:1\r\nOrigin: http://x.example\r\n\r\n"));
  std::string answer;
  for (int i = 0; i < 50 && answer.find("|11") == std::string::npos; ++i) {
    auto got = c.poll();
    ASSERT_TRUE(got.has_value());
    answer += *got;
  }
  EXPECT_NE(answer.find("localhost:1|http://x.example|11"), std::string::npos) << answer;
}

TEST(HttpClient, ReportsAnUnreachableNodeAndABadUrl) {
  const int port = testing::free_port();
  auto client =
      HttpClient::connect_to("http://127.0.0.1:" + std::to_string(port), std::chrono::seconds(2));
  ASSERT_TRUE(client.ok());
  auto r = (*client)->get("/status");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, static_cast<int>(HttpFailure::unreachable));
  EXPECT_FALSE(HttpClient::connect_to("not a url").ok());
  EXPECT_FALSE(HttpClient::connect_to("https://127.0.0.1:1").ok());
}

}  // namespace
}  // namespace baton::api

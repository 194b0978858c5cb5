#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "api/http_client.h"
#include "api/http_server.h"
#include "tests/support/raw_socket.h"
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

using testing::RawSocket;

// A raw connection whose reads wait at most 100 ms: the tests below poll it.
testing::RawSocketOptions polling(const char* from = nullptr) {
  return {from, std::chrono::milliseconds(100)};
}

TEST(HttpServer, DropsARequestWhoseHeaderDripsInPastTheHeaderDeadline) {
  HttpServerOptions o;
  o.header_timeout_ms = 300;
  o.idle_timeout_ms = 60'000;
  HttpServer server(o, echo);
  ASSERT_TRUE(server.start().ok());
  RawSocket loris(server.port(), polling());
  ASSERT_TRUE(loris.ok());
  ASSERT_TRUE(loris.send("GET /status HTTP/1.1\r\n"));
  // One header byte every 100 ms: the connection is never idle, but its
  // header never ends. The server closes it (a 60 s idle limit would not).
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    loris.send("X");
    closed = !loris.read_some().has_value();
  }
  EXPECT_TRUE(closed) << "a header dripping in for 10 s was still being read";
}

TEST(HttpServer, AnIdleConnectionOutlivesTheHeaderDeadline) {
  HttpServerOptions o;
  o.header_timeout_ms = 200;
  o.idle_timeout_ms = 60'000;
  HttpServer server(o, echo);
  ASSERT_TRUE(server.start().ok());
  RawSocket idle(server.port(), polling());
  ASSERT_TRUE(idle.ok());
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(idle.read_some().has_value()) << "closed while idle";
  ASSERT_TRUE(idle.send("GET /late HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::string answer;
  for (int i = 0; i < 50 && answer.find("GET /late") == std::string::npos; ++i) {
    auto got = idle.read_some();
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
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < 20; ++i) {
    idle.push_back(std::make_unique<RawSocket>(server.port(), polling()));
    ASSERT_TRUE(idle.back()->ok());
  }
  // A slow-loris connection too, mid-header.
  RawSocket loris(server.port(), polling());
  ASSERT_TRUE(loris.send("GET / HTTP/1.1\r\nX-Slow: "));
  auto client = HttpClient::connect_to("http://127.0.0.1:" + std::to_string(server.port()),
                                       std::chrono::seconds(5));
  auto r = (*client)->get("/status");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  // The oldest idle ones were closed to make room.
  EXPECT_FALSE(idle.front()->read_some().has_value());
}

TEST(HttpServer, PassesHostOriginAndVersionToTheHandler) {
  HttpServer server(HttpServerOptions{}, [](const HttpRequest& r) {
    return HttpResponse{200, "text/plain",
                        r.host + "|" + r.origin + "|" + std::to_string(r.version)};
  });
  ASSERT_TRUE(server.start().ok());
  RawSocket c(server.port(), polling());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: localhost:1\r\nOrigin: http://x.example\r\n\r\n"));
  std::string answer;
  for (int i = 0; i < 50 && answer.find("|11") == std::string::npos; ++i) {
    auto got = c.read_some();
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

// --- long-polls (HttpWait) ---

// A handler whose /wait parks until `news` is set (or `wait` passes) and
// whose other paths answer at once.
struct LongPollServer {
  std::atomic<bool> news{false};
  std::atomic<int> parked{0};  // requests the handler answered with an HttpWait
  std::chrono::milliseconds wait{60'000};
  std::unique_ptr<HttpServer> server;

  explicit LongPollServer(HttpServerOptions o = {}) {
    server = std::make_unique<HttpServer>(o, [this](const HttpRequest& r) -> HttpAnswer {
      if (r.target != "/wait") return HttpResponse{200, "text/plain", "now"};
      auto ready = [this]() -> std::optional<HttpResponse> {
        if (!news.load()) return std::nullopt;
        return HttpResponse{200, "text/plain", "news"};
      };
      if (auto now = ready()) return *now;
      ++parked;
      return HttpWait{wait, ready, HttpResponse{204, "text/plain", ""}};
    });
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
};

TEST(HttpServer, ALongPollIsAnsweredWhenWokenWithNews) {
  LongPollServer s;
  ASSERT_TRUE(s.server->start().ok());
  auto client = HttpClient::connect_to(s.url(), std::chrono::seconds(30));
  std::optional<Result<HttpReply>> got;
  std::thread poller([&] { got = (*client)->get("/wait"); });
  ASSERT_TRUE(testing::wait_until([&] { return s.parked.load() == 1; }, std::chrono::seconds(30)));
  // Woken without news: it stays parked.
  s.server->wake_waiting();
  // The other client's request is answered while the poll waits.
  auto other = HttpClient::connect_to(s.url(), std::chrono::seconds(5));
  auto r = (*other)->get("/status");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "now");
  s.news = true;
  s.server->wake_waiting();
  poller.join();
  ASSERT_TRUE(got.has_value() && got->ok()) << (got ? got->error().message : "no answer");
  EXPECT_EQ((*got)->status, 200);
  EXPECT_EQ((*got)->body, "news");
  // The connection is kept alive for the next request.
  auto again = (*client)->get("/status");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->body, "now");
}

TEST(HttpServer, ALongPollWithoutNewsIsAnsweredWithItsTimeoutAnswer) {
  LongPollServer s;
  s.wait = std::chrono::milliseconds(200);
  ASSERT_TRUE(s.server->start().ok());
  auto client = HttpClient::connect_to(s.url(), std::chrono::seconds(30));
  auto r = (*client)->get("/wait");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 204);
}

TEST(HttpServer, ALongPollWaitsNoLongerThanMaxWait) {
  HttpServerOptions o;
  o.max_wait_ms = 200;  // the handler asks for 60 s
  LongPollServer s(o);
  ASSERT_TRUE(s.server->start().ok());
  auto client = HttpClient::connect_to(s.url(), std::chrono::seconds(30));
  auto r = (*client)->get("/wait");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 204);
}

TEST(HttpServer, SixtyFourParkedLongPollsGiveWayToOtherRequests) {
  LongPollServer s;  // the default limits: 64 connections, 32 per client
  ASSERT_TRUE(s.server->start().ok());
  std::vector<std::unique_ptr<RawSocket>> polls;
  for (int i = 0; i < 64; ++i) {
    polls.push_back(
        std::make_unique<RawSocket>(s.server->port(), polling(i < 32 ? "127.0.0.2" : "127.0.0.3")));
    ASSERT_TRUE(polls.back()->ok()) << "connection " << i;
    ASSERT_TRUE(polls.back()->send("GET /wait HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  }
  ASSERT_TRUE(testing::wait_until([&] { return s.parked.load() == 64; }, std::chrono::seconds(30)));
  // At the limit, another client still gets through: a parked poll gives
  // way (idle connections would first), and the server's thread is never
  // held by the 63 still parked.
  auto client = HttpClient::connect_to(s.url(), std::chrono::seconds(5));
  for (int i = 0; i < 3; ++i) {
    auto r = (*client)->get("/status");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->body, "now");
  }
  // The news reaches every poll still parked; one gave way (closed).
  s.news = true;
  s.server->wake_waiting();
  int answered = 0;
  int closed = 0;
  for (auto& p : polls) {
    std::string answer;
    for (int i = 0; i < 100 && answer.find("news") == std::string::npos; ++i) {
      auto got = p->read_some();
      if (!got) {
        ++closed;
        break;
      }
      answer += *got;
    }
    if (answer.find("news") != std::string::npos) ++answered;
  }
  EXPECT_EQ(answered, 63);
  EXPECT_EQ(closed, 1);
}

TEST(HttpClient, CancelEndsARequestInProgressAndEveryLaterOne) {
  LongPollServer s;
  ASSERT_TRUE(s.server->start().ok());
  auto client = HttpClient::connect_to(s.url(), std::chrono::seconds(30));
  std::optional<Result<HttpReply>> got;
  std::thread poller([&] { got = (*client)->get("/wait"); });
  // Cancelled while parked on the server.
  ASSERT_TRUE(testing::wait_until([&] { return s.parked.load() == 1; }, std::chrono::seconds(30)));
  (*client)->cancel();
  poller.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->ok());
  auto later = (*client)->get("/status");
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error().code, static_cast<int>(HttpFailure::unreachable));
}

}  // namespace
}  // namespace baton::api

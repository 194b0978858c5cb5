#include <gtest/gtest.h>

#include "node/http_client.h"
#include "node/http_server.h"
#include "tests/support/test_support.h"

namespace baton::node {
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
}  // namespace baton::node

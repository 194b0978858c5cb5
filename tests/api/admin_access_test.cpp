// The admin API's request checks (api/admin_access.h): Host, Origin and
// the content type of state changes. Each refusal plays the web page that
// would send it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/admin_access.h"

namespace baton::api {
namespace {

HttpRequest get(std::string host, std::string origin = "") {
  HttpRequest r;
  r.method = "GET";
  r.target = "/status";
  r.host = std::move(host);
  r.origin = std::move(origin);
  return r;
}

HttpRequest post(std::string content_type, std::string host = "127.0.0.1:26680") {
  HttpRequest r;
  r.method = "POST";
  r.target = "/tx";
  r.host = std::move(host);
  r.content_type = std::move(content_type);
  return r;
}

const AdminAccessPolicy kLoopback = admin_access_policy("127.0.0.1", {});

TEST(AdminAccess, AcceptsWhatTheCliCurlAndMonitoringSend) {
  for (const char* host : {"127.0.0.1", "127.0.0.1:26680", "localhost:26680", "LOCALHOST",
                           "[::1]:26680", "[::1]", "127.8.9.10:1", "[::ffff:127.0.0.1]:80"}) {
    EXPECT_EQ(check_admin_request(get(host), kLoopback), std::nullopt) << host;
  }
  EXPECT_EQ(check_admin_request(get("127.0.0.1", "http://127.0.0.1:26680"), kLoopback),
            std::nullopt);
  EXPECT_EQ(check_admin_request(get("localhost", "http://localhost"), kLoopback), std::nullopt);
  for (const char* type : {"application/octet-stream", "application/x-protobuf",
                           "application/json; charset=utf-8", "text/x-hex", "Application/JSON"}) {
    EXPECT_EQ(check_admin_request(post(type), kLoopback), std::nullopt) << type;
  }
  // HTTP/1.0 without Host: no browser sends that.
  HttpRequest old = get("");
  old.version = 10;
  EXPECT_EQ(check_admin_request(old, kLoopback), std::nullopt);
}

TEST(AdminAccess, RefusesAHostOfDnsRebinding) {
  for (const char* host : {"attacker.example:26680", "attacker.example", "127.0.0.1.nip.io",
                           "localhost.", "2130706433", "10.0.0.5:26680", "[::2]", "",
                           "127.0.0.1:99999", "user@127.0.0.1", "127.0.0.1/x", "127.0.0.1 x"}) {
    HttpRequest r = get(host);
    const auto refused = check_admin_request(r, kLoopback);
    ASSERT_TRUE(refused.has_value()) << "'" << host << "'";
    EXPECT_EQ(*refused, *host ? AdminRefusal::foreign_host : AdminRefusal::missing_host) << host;
  }
  const HttpResponse a = admin_refusal_response(AdminRefusal::foreign_host, get("evil"));
  EXPECT_EQ(a.status, 403);
  EXPECT_NE(nlohmann::json::parse(a.body)["error"].get<std::string>().find("Host"),
            std::string::npos);
  EXPECT_EQ(admin_refusal_response(AdminRefusal::missing_host, get("")).status, 400);
}

TEST(AdminAccess, RefusesAPageOfAnotherOrigin) {
  for (const char* origin :
       {"http://attacker.example", "https://attacker.example:443", "null", "file://",
        "http://127.0.0.1.attacker.example", "chrome-extension://abc", "http://"}) {
    EXPECT_EQ(check_admin_request(get("127.0.0.1:26680", origin), kLoopback),
              AdminRefusal::foreign_origin)
        << origin;
  }
  EXPECT_EQ(admin_refusal_response(AdminRefusal::foreign_origin, get("x")).status, 403);
}

TEST(AdminAccess, RefusesAStateChangeAPageCouldSendWithoutAPreflight) {
  for (const char* type :
       {"", "text/plain", "text/plain;charset=UTF-8", " Text/Plain ",
        "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}) {
    EXPECT_EQ(check_admin_request(post(type), kLoopback), AdminRefusal::simple_content_type)
        << "'" << type << "'";
  }
  HttpRequest del = post("");
  del.method = "DELETE";
  EXPECT_EQ(check_admin_request(del, kLoopback), AdminRefusal::simple_content_type);
  EXPECT_EQ(admin_refusal_response(AdminRefusal::simple_content_type, post("")).status, 415);
}

TEST(AdminAccess, TheConfiguredListenHostAndAllowedHostsAreAccepted) {
  const AdminAccessPolicy lan = admin_access_policy("10.0.0.5", {"Node-A.lan", "[fd00::5]"});
  EXPECT_EQ(check_admin_request(get("10.0.0.5:26680"), lan), std::nullopt);
  EXPECT_EQ(check_admin_request(get("node-a.lan:26680", "http://node-a.lan:26680"), lan),
            std::nullopt);
  EXPECT_EQ(check_admin_request(get("[fd00::5]:26680"), lan), std::nullopt);
  EXPECT_EQ(check_admin_request(get("node-b.lan"), lan), AdminRefusal::foreign_host);
  // A wildcard listen address names no host.
  const AdminAccessPolicy any = admin_access_policy("0.0.0.0", {});
  EXPECT_TRUE(any.extra_hosts.empty());
  EXPECT_EQ(check_admin_request(get("0.0.0.0:26680"), any), AdminRefusal::foreign_host);
  EXPECT_TRUE(admin_access_policy("::", {}).extra_hosts.empty());
}

TEST(AdminAccess, ParsesAuthoritiesAndMediaTypes) {
  EXPECT_EQ(authority_host("Example.ORG:80"), "example.org");
  EXPECT_EQ(authority_host("[::1]:8080"), "::1");
  EXPECT_EQ(authority_host("[::1"), std::nullopt);
  EXPECT_EQ(authority_host("[::1]x"), std::nullopt);
  EXPECT_EQ(authority_host("h:"), std::nullopt);
  EXPECT_EQ(authority_host(":80"), std::nullopt);
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_FALSE(is_loopback_host("128.0.0.1"));
  EXPECT_EQ(media_type(" Application/Octet-Stream ; x=y"), "application/octet-stream");
}

}  // namespace
}  // namespace baton::api

// The admin API of a real batond under attack from the same machine
// (issue 11, §3 and §4): a flood of idle and slow-loris connections, and
// requests a web page could send through the operator's browser.
#include <gtest/gtest.h>

#include <fstream>
#include <algorithm>
#include <sstream>
#include <map>
#include <thread>

#include "chain/transaction.h"
#include "tests/integration/testnet.h"
#include "tests/support/raw_socket.h"

namespace baton::integration {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::wait_until;

std::uint16_t port_of(const std::string& url) {
  return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

// Reads wait up to 5 s; `receive_buffer` > 0: a small receive window.
std::unique_ptr<testing::RawSocket> socket_to(std::uint16_t port, const char* from = "127.0.0.1",
                                              int receive_buffer = 0) {
  return std::make_unique<testing::RawSocket>(
      port, testing::RawSocketOptions{from, std::chrono::seconds(5), receive_buffer});
}

struct RawAnswer {
  int status = 0;
  std::string body;
};

// One request with exactly the given header lines (Connection: close added).
RawAnswer raw_request(std::uint16_t port, const std::string& method, const std::string& target,
                      const std::vector<std::string>& headers, const std::string& body = "") {
  auto s = socket_to(port);
  std::string req = method + " " + target + " HTTP/1.1\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  s->send(req);
  const std::string answer = s->read_all();
  RawAnswer out;
  if (answer.size() > 12 && answer.starts_with("HTTP/1.1 "))
    out.status = std::stoi(answer.substr(9, 3));
  if (const auto at = answer.find("\r\n\r\n"); at != std::string::npos)
    out.body = answer.substr(at + 4);
  return out;
}

TEST(AdminApi, TwoHundredIdleAndSlowLorisConnectionsDoNotLockOutTheCliOrATransaction) {
  Testnet net(1);
  ASSERT_TRUE(net.ok()) << net.error();
  const std::string url = net.nodes()[0].admin_url;
  const std::uint16_t port = port_of(url);

  // 200 connections that never send a byte, and 20 that send half a header.
  std::vector<std::unique_ptr<testing::RawSocket>> flood;
  for (int i = 0; i < 200; ++i) {
    flood.push_back(socket_to(port));
    ASSERT_TRUE(flood.back()->ok()) << "connection " << i;
  }
  for (int i = 0; i < 20; ++i) {
    flood.push_back(socket_to(port));
    flood.back()->send("POST /tx HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
  }

  // The operator's tools still get through, while every socket stays open
  // on the attacker's side.
  auto st = testing::run_baton({"status", "--node", url});
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find("height"), std::string::npos) << st.out;
  const std::string key = (net.net_dir() / "keys" / "node1.key").string();
  auto tx = testing::run_baton(
      {"tx", "submit", "--node", url, "--key", key, "--note", "through the flood", "--wait", "30"});
  EXPECT_EQ(tx.exit_code, 0) << tx.err;
  EXPECT_NE(tx.out.find("committed at height"), std::string::npos) << tx.out;
  // And again, with the flood renewed.
  for (int i = 0; i < 100; ++i) flood.push_back(socket_to(port));
  auto again = testing::run_baton({"status", "--node", url, "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_FALSE(json::parse(again.out).value("halted", true));
}

int status_of(const std::string& answer) {
  return answer.size() > 12 && answer.starts_with("HTTP/1.1 ") ? std::stoi(answer.substr(9, 3)) : 0;
}

TEST(AdminApi, AFloodFromOneAddressGivesWayFromItsOwnConnectionsIdleOnesFirst) {
  Testnet net(1);
  ASSERT_TRUE(net.ok()) << net.error();
  const std::uint16_t port = port_of(net.nodes()[0].admin_url);
  // A long header deadline, so that the request half sent below stays a
  // request being read for the whole test however slow the machine is.
  ASSERT_TRUE(net.stop(0));
  {
    std::ofstream config(net.nodes()[0].config, std::ios::app);
    config << "\n[admin_api]\nheader_timeout_ms = 120000\n";
  }
  ASSERT_TRUE(net.start(0));

  // Monitoring at 127.0.0.3 holds the oldest connection, idle between its
  // requests: the first to go if the node only counted connections.
  auto monitor = socket_to(port, "127.0.0.3");
  ASSERT_TRUE(monitor->ok());
  // At 127.0.0.2, a request whose header is still arriving, older than the
  // flood that follows from the same address.
  auto reading = socket_to(port, "127.0.0.2");
  ASSERT_TRUE(reading->ok());
  reading->send("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  std::vector<std::unique_ptr<testing::RawSocket>> flood;
  for (int i = 0; i < 200; ++i) {
    flood.push_back(socket_to(port, "127.0.0.2"));
    ASSERT_TRUE(flood.back()->ok()) << "connection " << i;
  }
  // The newest connection is answered, so the node has taken all 200.
  flood.back()->send("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(status_of(flood.back()->read_all()), 200);

  // 127.0.0.2 gave way from its own idle connections, oldest first...
  EXPECT_TRUE(flood.front()->closed_by_server()) << "the oldest idle connection of the flood";
  // ...not from the request still arriving, although it is older...
  reading->send("Connection: close\r\n\r\n");
  const std::string answer = reading->read_all();
  EXPECT_EQ(status_of(answer), 200) << "the request being read was cut: " << answer;
  // ...and not from another address: monitoring keeps its connection.
  monitor->send("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  const std::string watched = monitor->read_all();
  EXPECT_EQ(status_of(watched), 200) << "the other address's idle connection was cut: " << watched;
}

// The send queues of the node's established connections on `port` (IPv4)
// from clients other than 127.0.0.1, by remote address, from /proc/net/tcp: what the node wrote and
// its clients have not taken yet.
std::map<std::string, std::uint64_t> send_queues(std::uint16_t port) {
  std::map<std::string, std::uint64_t> out;
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // the column names
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    fields >> slot >> local >> remote >> state >> queues;
    const auto colon = local.find(':');
    if (colon == std::string::npos || state != "01") continue;  // 01: ESTABLISHED
    if (std::stoul(local.substr(colon + 1), nullptr, 16) != port) continue;
    if (remote.starts_with("0100007F:")) continue;  // 127.0.0.1: the harness and the CLI
    out[remote] = std::stoull(queues.substr(0, queues.find(':')), nullptr, 16);
  }
  return out;
}

TEST(AdminApi, ClientsThatNeverReadTheirAnswersDoNotLockOutTheCli) {
  Testnet net(1);
  ASSERT_TRUE(net.ok()) << net.error();
  const std::string url = net.nodes()[0].admin_url;
  const std::uint16_t port = port_of(url);

  // 32 connections from each of two addresses (the limits: 64 in all, 32
  // per address), each with a small receive window, each sending requests
  // back to back and never reading an answer: the node's answers pile up
  // until it cannot write more, and every connection is busy writing.
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  std::string pipelined;
  while (pipelined.size() < (6u << 20)) pipelined += request;
  std::vector<std::unique_ptr<testing::RawSocket>> stuck;
  for (const char* from : {"127.0.0.2", "127.0.0.3"}) {
    for (int i = 0; i < 32; ++i) {
      stuck.push_back(socket_to(port, from, 4096));
      ASSERT_TRUE(stuck.back()->ok()) << from << " connection " << i;
    }
  }
  for (auto& s : stuck) ASSERT_GT(s->send_some(pipelined), 0u);
  // Wait until the node is blocked writing on all 64: their send queues in
  // the kernel are full and no longer grow.
  std::map<std::string, std::uint64_t> last;
  ASSERT_TRUE(wait_until(
      [&] {
        std::this_thread::sleep_for(250ms);
        auto now = send_queues(port);
        const bool settled =
            now.size() == stuck.size() && now == last &&
            std::all_of(now.begin(), now.end(), [](const auto& q) { return q.second > 0; });
        last = std::move(now);
        return settled;
      },
      60s))
      << "the node did not end up blocked writing on all " << stuck.size()
      << " connections; it has " << last.size();

  // The operator's tools still get through.
  auto st = testing::run_baton({"status", "--node", url});
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find("height"), std::string::npos) << st.out;
  const std::string key = (net.net_dir() / "keys" / "node1.key").string();
  auto tx = testing::run_baton(
      {"tx", "submit", "--node", url, "--key", key, "--note", "past the stuck", "--wait", "30"});
  EXPECT_EQ(tx.exit_code, 0) << tx.err;
  EXPECT_NE(tx.out.find("committed at height"), std::string::npos) << tx.out;
}

TEST(AdminApi, RefusesForeignHostsForeignOriginsAndSimpleContentTypes) {
  Testnet net(1);
  ASSERT_TRUE(net.ok()) << net.error();
  const std::uint16_t port = port_of(net.nodes()[0].admin_url);
  const std::string host = "Host: 127.0.0.1:" + std::to_string(port);

  // Control: what curl and the CLI send is answered.
  EXPECT_EQ(raw_request(port, "GET", "/status", {host}).status, 200);
  EXPECT_EQ(raw_request(port, "GET", "/status", {"Host: localhost"}).status, 200);

  // DNS rebinding: the browser names the attacker's host.
  const RawAnswer rebound = raw_request(port, "GET", "/status",
                                        {"Host: rebind.attacker.example:" + std::to_string(port)});
  EXPECT_EQ(rebound.status, 403);
  EXPECT_EQ(rebound.body.find("chain_id"), std::string::npos) << "status leaked: " << rebound.body;
  EXPECT_EQ(raw_request(port, "GET", "/status", {}).status, 400);  // HTTP/1.1 without Host

  // A page of another origin (the Host being right does not help it).
  EXPECT_EQ(raw_request(port, "GET", "/status", {host, "Origin: http://attacker.example"}).status,
            403);

  // A cross-site form or fetch without preflight: text/plain, a form type or
  // no content type at all. None of them reaches the mempool.
  const std::uint64_t nonce = 1;
  const std::string tx = chain::encode_transaction(chain::make_note(
      {net.chain_id(), net.genesis_hash()}, net.keys(0).signing, nonce, "cross-site"));
  const std::string hex = chain::to_hex(chain::as_bytes(tx));
  const std::string hash = chain::tx_hash(tx).hex();
  for (const std::string& type : {std::string("Content-Type: text/plain"),
                                  std::string("Content-Type: text/plain;charset=UTF-8"),
                                  std::string("Content-Type: application/x-www-form-urlencoded"),
                                  std::string("Content-Type: multipart/form-data; boundary=x")}) {
    EXPECT_EQ(raw_request(port, "POST", "/tx", {host, type}, hex).status, 415) << type;
  }
  EXPECT_EQ(raw_request(port, "POST", "/tx", {host}, hex).status, 415);
  EXPECT_EQ(raw_request(port, "POST", "/tx",
                        {host, "Origin: http://attacker.example", "Content-Type: text/x-hex"}, hex)
                .status,
            403);
  EXPECT_EQ(raw_request(port, "GET", "/tx/" + hash, {host}).status, 404);

  // The same transaction with a content type a page cannot send unasked.
  const RawAnswer ok =
      raw_request(port, "POST", "/tx", {host, "Content-Type: application/octet-stream"}, tx);
  EXPECT_EQ(ok.status, 202) << ok.body;
  EXPECT_TRUE(wait_until([&] { return net.committed(0, hash); }, 20s));
}

TEST(TxSubmitCli, WaitSaysNotYetCommittedWithTheHashAndTheTransactionCommitsLater) {
  Testnet net(2);
  ASSERT_TRUE(net.ok()) << net.error();
  ASSERT_TRUE(net.stop(1));  // one of two validators: no quorum, nothing commits
  const std::string key = (net.net_dir() / "keys" / "node1.key").string();
  auto r = testing::run_baton({"tx", "submit", "--node", net.nodes()[0].admin_url, "--key", key,
                               "--note", "patience", "--wait", "1.5", "--json"});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  const json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  EXPECT_FALSE(out.value("committed", true));
  const std::string hash = out.value("hash", "");
  ASSERT_EQ(hash.size(), 64u) << r.out;
  EXPECT_NE(r.err.find("not yet committed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("baton ledger tx --hash " + hash), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("did not answer in time"), std::string::npos) << r.err;

  // Quorum back: the same transaction commits, as the message promised.
  ASSERT_TRUE(net.start(1));
  EXPECT_TRUE(wait_until([&] { return net.committed(0, hash); }, 30s));
}

}  // namespace
}  // namespace baton::integration

// What the S3 client puts on the wire against what it signs: a loopback
// listener on the endpoint's default port records the request, and the test
// recomputes the signature from the headers as they arrived. s3rver checks no
// signature, and AWS would answer 403 to any difference.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <thread>

#include "storage/object_store.h"
#include "storage/s3_options.h"
#include "storage/sigv4.h"

namespace baton::storage {
namespace {

// Accepts one connection on 127.0.0.1:port, keeps its request header and
// answers 200 (after a 404 the client would ask again about the bucket).
class RecordingServer {
 public:
  explicit RecordingServer(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 4) != 0) {
      error_ = std::strerror(errno);
      return;
    }
    thread_ = std::thread([this] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[8192];
      while (header_.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        header_.append(buf, static_cast<std::size_t>(n));
      }
      const std::string answer =
          "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nETag: \"0\"\r\nConnection: close\r\n\r\n";
      (void)::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(c);
    });
  }
  ~RecordingServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  const std::string& error() const { return error_; }
  std::string header() {
    if (thread_.joinable()) thread_.join();
    return header_;
  }

 private:
  int fd_ = -1;
  std::string error_;
  std::string header_;
  std::thread thread_;
};

TEST(SigV4Wire, SignsTheHostHeaderItSendsForAnEndpointWithItsDefaultPort) {
  RecordingServer server(80);
  if (!server.error().empty()) {
    GTEST_SKIP() << "cannot listen on 127.0.0.1:80 (" << server.error()
                 << "); this test needs root and a free port 80";
  }
  S3Options o;
  o.endpoint = "http://127.0.0.1:80";
  o.region = "us-east-1";
  o.access_key_id = "AKIDEXAMPLE";
  o.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  o.retries = 0;
  o.connect_timeout = std::chrono::seconds(5);
  o.stall_timeout = std::chrono::seconds(5);
  auto store = open_object_store("s3://bucket/prefix", o);
  ASSERT_TRUE(store.ok()) << store.error().message;
  (void)(*store)->head("runs/r/models/turn-1.blob");  // only the request matters

  // Parse what arrived: request line and headers (names lower-cased).
  std::istringstream in(server.header());
  std::string method, target, line;
  in >> method >> target;
  std::getline(in, line);
  std::map<std::string, std::string> headers;
  while (std::getline(in, line) && line != "\r") {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    ASSERT_NE(colon, std::string::npos) << line;
    std::string name = line.substr(0, colon);
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    headers[name] = value;
  }
  ASSERT_EQ(method, "HEAD");
  ASSERT_TRUE(headers.contains("host")) << server.header();
  EXPECT_EQ(headers["host"], "127.0.0.1");  // no ":80", as every HTTP client sends it
  const std::string auth = headers["authorization"];
  const auto signed_at = auth.find("SignedHeaders=");
  const auto sig_at = auth.find(",Signature=");
  ASSERT_NE(signed_at, std::string::npos) << auth;
  ASSERT_NE(sig_at, std::string::npos) << auth;

  // Recompute the signature over the headers as received.
  sigv4::Request r;
  r.method = method;
  r.path = target.substr(0, target.find('?'));
  std::istringstream names(auth.substr(signed_at + 14, sig_at - signed_at - 14));
  for (std::string name; std::getline(names, name, ';');) {
    ASSERT_TRUE(headers.contains(name)) << "signed but not sent: " << name;
    r.headers.emplace_back(name, headers[name]);
  }
  r.payload_sha256 = headers["x-amz-content-sha256"];
  const sigv4::Credentials creds{o.access_key_id, o.secret_access_key, o.region, "s3"};
  EXPECT_EQ(auth.substr(sig_at + 11), sigv4::signature(r, creds, headers["x-amz-date"]))
      << "the signature does not match the request as it arrived:\n"
      << server.header();
}

}  // namespace
}  // namespace baton::storage

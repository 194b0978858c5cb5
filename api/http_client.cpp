#include "api/http_client.h"

#include <array>
#include <atomic>
#include <map>
#include <optional>
#include <variant>

#include <boost/asio.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "chain/crypto.h"
#include "api/admin_tls.h"

namespace baton::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using UnixStream = beast::basic_stream<local>;

Error failure(HttpFailure code, std::string message) {
  return make_error(std::move(message), static_cast<int>(code));
}

bool loopback_address(const asio::ip::address& a) {
  if (a.is_loopback()) return true;
  return a.is_v6() && a.to_v6().is_v4_mapped() &&
         asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
}

// The SHA-256 of the DER certificate the TLS peer showed; "" when none.
std::string peer_cert_sha256(TlsStream& s) {
  X509* cert = SSL_get1_peer_certificate(s.native_handle());
  if (cert == nullptr) return {};
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md.data(), &n);
  X509_free(cert);
  return chain::to_hex(std::span<const std::uint8_t>(md.data(), n));
}

}  // namespace

std::string HttpUrl::to_string() const {
  switch (scheme) {
    case Scheme::unix_socket:
      return "unix:" + socket_path;
    case Scheme::https:
      return "https://" + host + ":" + port;
    case Scheme::http:
      break;
  }
  return "http://" + host + ":" + port;
}

Result<HttpUrl> parse_http_url(std::string_view url) {
  const std::string shown(url);
  HttpUrl out;
  if (url.starts_with("unix:")) {
    url.remove_prefix(5);
    if (url.starts_with("//")) url.remove_prefix(2);
    if (url.empty() || url.front() != '/') {
      return failure(HttpFailure::bad_url,
                     "'" + shown + "' is not a socket URL; write it as unix:/ABSOLUTE/PATH");
    }
    out.scheme = HttpUrl::Scheme::unix_socket;
    out.host = "localhost";
    out.socket_path = std::string(url);
    return out;
  }
  if (url.starts_with("https://")) {
    out.scheme = HttpUrl::Scheme::https;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  }
  if (auto slash = url.find('/'); slash != std::string_view::npos) url = url.substr(0, slash);
  const auto colon = url.rfind(':');
  if (url.empty() || colon == std::string_view::npos || colon == 0 || colon + 1 == url.size()) {
    return failure(HttpFailure::bad_url, "'" + shown +
                                             "' is not a node URL; write it as http://HOST:PORT, "
                                             "https://HOST:PORT or unix:/PATH");
  }
  out.host = std::string(url.substr(0, colon));
  out.port = std::string(url.substr(colon + 1));
  for (char c : out.port) {
    if (c < '0' || c > '9')
      return failure(HttpFailure::bad_url,
                     "'" + shown + "' has a bad port; write http://HOST:PORT");
  }
  return out;
}

struct HttpClient::Impl {
  HttpUrl url;
  std::string pin;  // https: the certificate's fingerprint
  std::chrono::milliseconds timeout;
  asio::io_context io;
  std::optional<asio::ssl::context> tls;
  std::variant<std::monostate, beast::tcp_stream, TlsStream, UnixStream> stream;
  beast::flat_buffer buffer;
  std::map<std::string, std::string> headers;  // sent with every request
  std::atomic<bool> cancelled{false};

  bool connected() const { return !std::holds_alternative<std::monostate>(stream); }
  void drop() { stream.emplace<std::monostate>(); }

  // Runs the io_context until the async operation completes.
  void run() {
    io.restart();
    io.run();
  }

  template <typename F>
  void with_stream(F&& f) {
    std::visit(
        [&](auto& s) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) f(s);
        },
        stream);
  }

  void expires_after(std::chrono::milliseconds d) {
    with_stream([&](auto& s) { beast::get_lowest_layer(s).expires_after(d); });
  }

  Status connect_tcp(beast::tcp_stream& s) {
    tcp::resolver resolver(io);
    beast::error_code ec;
    auto results = resolver.resolve(url.host, url.port, ec);
    if (ec)
      return failure(HttpFailure::unreachable, "cannot resolve " + url.host + ": " + ec.message());
    s.expires_after(timeout);
    s.async_connect(results, [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run();
    if (ec == beast::error::timeout)
      return failure(HttpFailure::timeout, "connecting to " + url.to_string() + " timed out");
    if (ec) {
      return failure(HttpFailure::unreachable, "cannot connect to the node at " + url.to_string() +
                                                   ": " + ec.message() +
                                                   " (is batond running there?)");
    }
    return {};
  }

  // After the handshake and before any request: the pinned certificate.
  Status handshake(TlsStream& s) {
    beast::error_code ec;
    s.next_layer().expires_after(timeout);
    s.async_handshake(asio::ssl::stream_base::client, [&ec](beast::error_code e) { ec = e; });
    run();
    if (ec) {
      return failure(HttpFailure::unreachable,
                     "the TLS handshake with " + url.to_string() + " failed: " + ec.message() +
                         " (does the node serve its admin API with tls = true?)");
    }
    const std::string shown = peer_cert_sha256(s);
    if (shown != pin) {
      return failure(HttpFailure::wrong_certificate,
                     "the server at " + url.to_string() + " showed a certificate with SHA-256 " +
                         (shown.empty() ? std::string("(none)") : shown) + ", not the pinned " +
                         pin +
                         "; nothing was sent to it. If the node's certificate was replaced, "
                         "pin the new one (node_cert_sha256 in agent.toml, --node-cert-sha256 "
                         "for the CLI), after checking it on the node's host (batond logs it "
                         "at start); otherwise something else answers at that address");
    }
    return {};
  }

  Status open() {
    buffer.clear();
    Status s;
    switch (url.scheme) {
      case HttpUrl::Scheme::http:
        s = connect_tcp(stream.emplace<beast::tcp_stream>(io));
        break;
      case HttpUrl::Scheme::https: {
        auto& t = stream.emplace<TlsStream>(io, *tls);
        s = connect_tcp(t.next_layer());
        if (s) s = handshake(t);
        break;
      }
      case HttpUrl::Scheme::unix_socket: {
        auto& u = stream.emplace<UnixStream>(io);
        beast::error_code ec;
        u.expires_after(timeout);
        u.async_connect(local::endpoint(url.socket_path), [&ec](beast::error_code e) { ec = e; });
        run();
        if (ec) {
          s = failure(ec == beast::error::timeout ? HttpFailure::timeout : HttpFailure::unreachable,
                      "cannot connect to the node's socket " + url.socket_path + ": " +
                          ec.message() +
                          " (is batond running with [admin_api] unix_socket, and "
                          "may this user open the file?)");
        }
        break;
      }
    }
    if (!s) drop();
    return s;
  }

  // Plain HTTP: a token goes only to a loopback peer.
  Status check_clear_text() {
    auto* plain = std::get_if<beast::tcp_stream>(&stream);
    if (plain == nullptr || !headers.contains("Authorization")) return {};
    beast::error_code ec;
    const auto peer = plain->socket().remote_endpoint(ec);
    if (!ec && loopback_address(peer.address())) return {};
    drop();
    return failure(HttpFailure::clear_text_token,
                   "refusing to send the admin token in clear text to " + url.to_string() +
                       ", which is not on this host; use https://HOST:PORT with the node's "
                       "certificate fingerprint, or its unix socket");
  }

  Result<HttpReply> once(std::string_view method, std::string_view target, std::string_view body,
                         std::string_view content_type, bool& retryable) {
    retryable = false;
    if (cancelled.load()) {
      return failure(HttpFailure::unreachable,
                     "the request to " + url.to_string() + " was cancelled");
    }
    const bool reused = connected();
    if (!reused) {
      if (auto s = open(); !s) return s.error();
    }
    if (auto s = check_clear_text(); !s) return s.error();
    http::request<http::string_body> req{
        http::string_to_verb(beast::string_view(method.data(), method.size())), std::string(target),
        11};
    req.set(http::field::host, url.host);
    req.set(http::field::user_agent, "baton");
    for (const auto& [name, value] : headers) req.set(name, value);
    if (!body.empty() || method == "POST") {
      req.set(http::field::content_type, std::string(content_type));
      req.body() = std::string(body);
      req.prepare_payload();
    }
    req.keep_alive(true);
    beast::error_code ec;
    expires_after(timeout);
    with_stream([&](auto& s) {
      http::async_write(s, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
    });
    run();
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    if (!ec) {
      expires_after(timeout);
      with_stream([&](auto& s) {
        http::async_read(s, buffer, parser, [&ec](beast::error_code e, std::size_t) { ec = e; });
      });
      run();
    }
    if (ec) {
      drop();
      // A kept-alive connection the server closed meanwhile: reconnect once.
      retryable = reused && ec != beast::error::timeout;
      if (ec == beast::error::timeout) {
        return failure(HttpFailure::timeout,
                       "the node at " + url.to_string() + " did not answer in time");
      }
      return failure(HttpFailure::unreachable,
                     "lost the connection to " + url.to_string() + ": " + ec.message());
    }
    auto& res = parser.get();
    HttpReply reply{static_cast<int>(res.result_int()), std::string(res[http::field::content_type]),
                    std::move(res.body())};
    if (!res.keep_alive()) drop();
    return reply;
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

void HttpClient::cancel() {
  impl_->cancelled = true;
  // Runs on the requesting thread inside its io.run(): now, or at the start
  // of its next request (which the flag already fails).
  asio::post(impl_->io, [im = impl_.get()] {
    im->with_stream([](auto& s) { beast::get_lowest_layer(s).cancel(); });
  });
}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::connect_to(std::string_view base_url,
                                                           std::chrono::milliseconds timeout,
                                                           std::string_view cert_sha256) {
  auto url = parse_http_url(base_url);
  if (!url) return url.error();
  auto impl = std::make_unique<Impl>();
  impl->url = *url;
  impl->timeout = timeout;
  if (url->scheme == HttpUrl::Scheme::https) {
    if (cert_sha256.empty()) {
      return failure(HttpFailure::bad_url,
                     std::string(base_url) +
                         " is TLS: give the node's certificate fingerprint (node_cert_sha256 in "
                         "agent.toml, --node-cert-sha256 for the CLI); batond logs it at start");
    }
    auto pin = parse_cert_sha256(cert_sha256);
    if (!pin) return failure(HttpFailure::bad_url, pin.error().message);
    impl->pin = *pin;
    // No CA store: the pin is the only trust (checked after the handshake).
    auto& ctx = impl->tls.emplace(asio::ssl::context::tls_client);
    beast::error_code ec;
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1,
                    ec);
    ctx.set_verify_mode(asio::ssl::verify_none, ec);
  }
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

void HttpClient::set_header(std::string name, std::string value) {
  if (value.empty()) {
    impl_->headers.erase(name);
  } else {
    impl_->headers[std::move(name)] = std::move(value);
  }
}

Result<HttpReply> HttpClient::request(std::string_view method, std::string_view target,
                                      std::string_view body, std::string_view content_type) {
  bool retryable = false;
  auto r = impl_->once(method, target, body, content_type, retryable);
  if (!r && retryable) r = impl_->once(method, target, body, content_type, retryable);
  return r;
}

}  // namespace baton::api

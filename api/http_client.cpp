#include "api/http_client.h"

#include <map>
#include <optional>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace baton::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Error failure(HttpFailure code, std::string message) {
  return make_error(std::move(message), static_cast<int>(code));
}

}  // namespace

Result<HttpUrl> parse_http_url(std::string_view url) {
  const std::string shown(url);
  if (url.starts_with("https://")) {
    return failure(
        HttpFailure::bad_url,
        "'" + shown + "': https is not supported; the admin API speaks plain http on loopback");
  }
  if (url.starts_with("http://")) url.remove_prefix(7);
  if (auto slash = url.find('/'); slash != std::string_view::npos) url = url.substr(0, slash);
  const auto colon = url.rfind(':');
  if (url.empty() || colon == std::string_view::npos || colon == 0 || colon + 1 == url.size()) {
    return failure(HttpFailure::bad_url,
                   "'" + shown + "' is not a node URL; write it as http://HOST:PORT");
  }
  HttpUrl out{std::string(url.substr(0, colon)), std::string(url.substr(colon + 1))};
  for (char c : out.port) {
    if (c < '0' || c > '9')
      return failure(HttpFailure::bad_url,
                     "'" + shown + "' has a bad port; write http://HOST:PORT");
  }
  return out;
}

struct HttpClient::Impl {
  HttpUrl url;
  std::chrono::milliseconds timeout;
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::map<std::string, std::string> headers;  // sent with every request

  // Runs the io_context until the async operation completes.
  beast::error_code run() {
    io.restart();
    io.run();
    return {};
  }

  Status open() {
    stream.emplace(io);
    buffer.clear();
    tcp::resolver resolver(io);
    beast::error_code ec;
    auto results = resolver.resolve(url.host, url.port, ec);
    if (ec)
      return failure(HttpFailure::unreachable, "cannot resolve " + url.host + ": " + ec.message());
    stream->expires_after(timeout);
    stream->async_connect(results, [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run();
    if (ec == beast::error::timeout)
      return failure(HttpFailure::timeout,
                     "connecting to http://" + url.host + ":" + url.port + " timed out");
    if (ec) {
      stream.reset();
      return failure(HttpFailure::unreachable, "cannot connect to the node at http://" + url.host +
                                                   ":" + url.port + ": " + ec.message() +
                                                   " (is batond running there?)");
    }
    return {};
  }

  Result<HttpReply> once(std::string_view method, std::string_view target, std::string_view body,
                         std::string_view content_type, bool& retryable) {
    retryable = false;
    const bool reused = stream.has_value();
    if (!reused) {
      if (auto s = open(); !s) return s.error();
    }
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
    stream->expires_after(timeout);
    http::async_write(*stream, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
    run();
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    if (!ec) {
      stream->expires_after(timeout);
      http::async_read(*stream, buffer, parser,
                       [&ec](beast::error_code e, std::size_t) { ec = e; });
      run();
    }
    if (ec) {
      stream.reset();
      // A kept-alive connection the server closed meanwhile: reconnect once.
      retryable = reused && ec != beast::error::timeout;
      if (ec == beast::error::timeout) {
        return failure(HttpFailure::timeout, "the node at http://" + url.host + ":" + url.port +
                                                 " did not answer in time");
      }
      return failure(HttpFailure::unreachable, "lost the connection to http://" + url.host + ":" +
                                                   url.port + ": " + ec.message());
    }
    auto& res = parser.get();
    HttpReply reply{static_cast<int>(res.result_int()), std::string(res[http::field::content_type]),
                    std::move(res.body())};
    if (!res.keep_alive()) stream.reset();
    return reply;
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::connect_to(std::string_view base_url,
                                                           std::chrono::milliseconds timeout) {
  auto url = parse_http_url(base_url);
  if (!url) return url.error();
  auto impl = std::make_unique<Impl>();
  impl->url = *url;
  impl->timeout = timeout;
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

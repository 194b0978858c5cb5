#include "storage/s3_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "storage/object_store.h"
#include "storage/s3_xml.h"
#include "storage/sigv4.h"

namespace baton::storage::s3 {

namespace {

Error store_error(StoreErrc code, std::string message) {
  return make_error(std::move(message), static_cast<int>(code));
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct BodySink {
  std::string* body;
  std::uint64_t max;
  bool* too_large;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  if (sink->body->size() + size * n > sink->max) {
    *sink->too_large = true;
    return 0;  // curl stops the transfer (CURLE_WRITE_ERROR)
  }
  sink->body->append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new response (after 100 Continue or a retry)
    return size * n;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    (*headers)[name] = std::string(value);
  }
  return size * n;
}

// scheme://host[:port] of the endpoint and the Host header value.
struct Endpoint {
  std::string base;  // no trailing '/'
  std::string host;
};

Endpoint endpoint_of(const S3Options& o) {
  if (o.endpoint.empty()) {
    if (o.path_style)
      return {"https://s3." + o.region + ".amazonaws.com", "s3." + o.region + ".amazonaws.com"};
    const std::string host = o.bucket + ".s3." + o.region + ".amazonaws.com";
    return {"https://" + host, host};
  }
  std::string base = o.endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return {base, sigv4::host_header(base)};
}

}  // namespace

Connection::Connection(const S3Options& options) : options_(options) {
  global_init();
  curl_ = curl_easy_init();
  if (!curl_) std::abort();
}

Connection::~Connection() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<HttpResponse> Connection::send(const HttpRequest& request) {
  const std::string payload = request.body.empty() ? std::string(sigv4::kEmptyPayloadSha256)
                                                   : sigv4::sha256_hex(request.body);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  Result<HttpResponse> last = store_error(StoreErrc::unavailable, "no attempt made");
  for (unsigned attempt = 0;; ++attempt) {
    last = send_once(request, payload);
    const bool retryable = !last.ok() || last->status >= 500 || last->status == 429;
    if (!retryable || attempt >= options_.retries) break;
    const double base = static_cast<double>(options_.backoff.count()) *
                        static_cast<double>(1u << std::min(attempt, 10u));
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(base * jitter(rng))));
  }
  if (!last.ok()) {
    return store_error(StoreErrc::unavailable,
                       last.error().message + " (after " + std::to_string(options_.retries + 1) +
                           " attempts); check that the S3 service runs and the endpoint is right");
  }
  return last;
}

Result<HttpResponse> Connection::send_once(const HttpRequest& request,
                                           const std::string& payload_sha256) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  const Endpoint ep = endpoint_of(options_);
  const std::string date = sigv4::amz_date(std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());

  sigv4::Request sr;
  sr.method = request.method;
  sr.path = request.path;
  sr.query = request.query;
  sr.headers = {{"host", ep.host}, {"x-amz-date", date}, {"x-amz-content-sha256", payload_sha256}};
  if (!options_.session_token.empty())
    sr.headers.emplace_back("x-amz-security-token", options_.session_token);
  for (const auto& h : request.headers) sr.headers.push_back(h);
  sr.payload_sha256 = payload_sha256;
  const sigv4::Credentials creds{options_.access_key_id, options_.secret_access_key,
                                 options_.region, "s3"};

  std::string url = ep.base + sigv4::uri_encode(request.path, true);
  if (const std::string q = sigv4::canonical_query(request.query); !q.empty()) url += "?" + q;

  curl_slist* headers = nullptr;
  // Every signed header goes out as signed, Host included: curl would
  // otherwise derive Host from the URL by its own rules.
  for (const auto& [name, value] : sr.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  headers = curl_slist_append(headers,
                              ("Authorization: " + sigv4::authorization(sr, creds, date)).c_str());
  headers = curl_slist_append(headers, "Expect:");
  if (request.method == "PUT" || request.method == "POST") {
    headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
  }

  HttpResponse response;
  BodySink body_sink{&response.body, request.max_body, &response.body_too_large};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                   std::max(1L, static_cast<long>(options_.stall_timeout.count() / 1000)));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body_sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(
        c, CURLOPT_POSTFIELDS,
        request.body.empty() ? "" : reinterpret_cast<const char*>(request.body.data()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (request.method == "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc == CURLE_WRITE_ERROR && response.body_too_large) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    return response;  // the caller refuses it; retrying would not help
  }
  if (rc != CURLE_OK) {
    return store_error(StoreErrc::unavailable,
                       "cannot reach the S3 endpoint " + ep.base + ": " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Error describe_failure(const HttpResponse& r, const S3Options& o, const std::string& what) {
  const std::string code = error_code(r.body);
  const std::string where =
      (o.endpoint.empty() ? std::string("AWS S3") : o.endpoint) + " bucket " + o.bucket;
  const std::string status = std::to_string(r.status) + (code.empty() ? "" : " " + code);
  if (code == "NoSuchBucket") {
    return store_error(StoreErrc::no_bucket, "bucket " + o.bucket + " does not exist at " +
                                                 (o.endpoint.empty() ? "AWS S3" : o.endpoint) +
                                                 "; create it or fix the s3:// URI");
  }
  if (r.status == 403) {
    return store_error(StoreErrc::access_denied,
                       "S3 refused " + what + " (" + status + ") at " + where +
                           ": check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the shared "
                           "credentials file), the "
                           "region and the bucket policy");
  }
  if (r.status == 404)
    return store_error(StoreErrc::not_found,
                       what + ": not found in " + where + " (" + status + ")");
  if (r.status >= 500 || r.status == 429) {
    return store_error(StoreErrc::unavailable,
                       "S3 at " + where + " failed " + what + " with " + status + " after " +
                           std::to_string(o.retries + 1) + " attempts; try again later");
  }
  return store_error(StoreErrc::bad_response,
                     "S3 at " + where + " answered " + what + " with " + status);
}

}  // namespace baton::storage::s3

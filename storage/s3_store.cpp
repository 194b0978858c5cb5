#include "storage/s3_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "storage/byte_stream.h"
#include "storage/s3_http.h"
#include "storage/s3_xml.h"

namespace baton::storage {

namespace fs = std::filesystem;
using s3::Connection;
using s3::HttpRequest;
using s3::HttpResponse;

namespace {

Error store_error(StoreErrc code, std::string message) {
  return make_error(std::move(message), static_cast<int>(code));
}

bool ok_status(const HttpResponse& r) { return r.status >= 200 && r.status < 300; }

// Runs `work(index)` for index in [0, count) on up to `threads` threads, each
// with its own Connection. Stops handing out work after the first failure,
// which it returns.
Status run_parallel(const S3Options& options, std::size_t count,
                    const std::function<Status(Connection&, std::size_t)>& work) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first_error;
  auto worker = [&] {
    Connection conn(options);
    for (;;) {
      if (failed.load()) return;
      const std::size_t i = next.fetch_add(1);
      if (i >= count) return;
      if (auto st = work(conn, i); !st) {
        std::lock_guard lock(mu);
        if (!failed.exchange(true)) first_error = st;
        return;
      }
    }
  };
  const std::size_t n = std::max<std::size_t>(1, std::min<std::size_t>(options.parallelism, count));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < n; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return first_error;
}

Status pread_full(int fd, std::uint8_t* out, std::size_t len, std::uint64_t offset,
                  const fs::path& file) {
  std::size_t done = 0;
  while (done < len) {
    const ssize_t n = ::pread(fd, out + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return store_error(StoreErrc::io, "cannot read " + file.string() +
                                            (n == 0 ? ": it shrank during the upload"
                                                    : std::string(": ") + std::strerror(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

S3ObjectStore::S3ObjectStore(S3Options options) : options_(std::move(options)) {
  if (!options_.endpoint.empty()) options_.path_style = true;
  if (options_.part_size < (5ull << 20)) options_.part_size = 5ull << 20;  // S3's minimum part
  if (options_.parallelism == 0) options_.parallelism = 1;
}

std::string S3ObjectStore::uri() const {
  return "s3://" + options_.bucket + (options_.prefix.empty() ? "" : "/" + options_.prefix);
}

std::string S3ObjectStore::object_path(std::string_view key) const {
  std::string path = options_.path_style ? "/" + options_.bucket : std::string();
  if (!options_.prefix.empty()) path += "/" + options_.prefix;
  path += "/" + std::string(key);
  return path;
}

Status S3ObjectStore::put(std::string_view key, chain::ByteView data) {
  if (auto st = validate_object_key(key); !st) return st;
  Connection conn(options_);
  auto r = conn.send(HttpRequest{"PUT", object_path(key), {}, {}, data});
  if (!r) return r.error();
  if (!ok_status(*r)) return s3::describe_failure(*r, options_, "PUT " + std::string(key));
  return {};
}

Status S3ObjectStore::put_file(std::string_view key, const fs::path& file) {
  if (auto st = validate_object_key(key); !st) return st;
  auto src = FileSource::open(file);
  if (!src) return store_error(StoreErrc::io, src.error().message);
  const std::uint64_t size = (*src)->size();
  if (size > options_.part_size) return put_multipart(key, file, size);
  chain::Bytes data(size);
  if (auto st = pread_full((*src)->fd(), data.data(), data.size(), 0, file); !st) return st;
  return put(key, data);
}

Status S3ObjectStore::put_multipart(std::string_view key, const fs::path& file,
                                    std::uint64_t size) {
  const std::string path = object_path(key);
  const std::string what = "the multipart upload of " + std::string(key);
  Connection conn(options_);
  auto init = conn.send(HttpRequest{"POST", path, {{"uploads", ""}}, {}, {}});
  if (!init) return init.error();
  if (!ok_status(*init)) return s3::describe_failure(*init, options_, "starting " + what);
  const std::string upload_id = s3::upload_id(init->body);
  if (upload_id.empty()) {
    return store_error(StoreErrc::bad_response,
                       "S3 started " + what + " without an UploadId in its answer");
  }

  auto src = FileSource::open(file);
  if (!src) return store_error(StoreErrc::io, src.error().message);
  const int fd = (*src)->fd();
  const std::size_t parts =
      static_cast<std::size_t>((size + options_.part_size - 1) / options_.part_size);
  if (parts > 10000) {
    return store_error(StoreErrc::io,
                       file.string() + " needs " + std::to_string(parts) +
                           " parts, more than S3 allows (10000); raise the part size");
  }
  std::vector<std::string> etags(parts);
  auto upload_part = [&](Connection& c, std::size_t i) -> Status {
    const std::uint64_t offset = i * options_.part_size;
    const std::size_t len =
        static_cast<std::size_t>(std::min<std::uint64_t>(options_.part_size, size - offset));
    chain::Bytes buf(len);
    if (auto st = pread_full(fd, buf.data(), len, offset, file); !st) return st;
    const std::string number = std::to_string(i + 1);
    auto r = c.send(
        HttpRequest{"PUT", path, {{"partNumber", number}, {"uploadId", upload_id}}, {}, buf});
    if (!r) return r.error();
    if (!ok_status(*r)) return s3::describe_failure(*r, options_, "part " + number + " of " + what);
    const auto it = r->headers.find("etag");
    if (it == r->headers.end() || it->second.empty()) {
      return store_error(StoreErrc::bad_response,
                         "S3 accepted part " + number + " of " + what + " without an ETag");
    }
    etags[i] = it->second;
    if (options_.on_part_uploaded) options_.on_part_uploaded(static_cast<unsigned>(i + 1));
    return {};
  };
  Status uploaded = run_parallel(options_, parts, upload_part);
  if (uploaded) {
    std::string body = "<CompleteMultipartUpload>";
    for (std::size_t i = 0; i < parts; ++i) {
      body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] +
              "</ETag></Part>";
    }
    body += "</CompleteMultipartUpload>";
    auto done =
        conn.send(HttpRequest{"POST", path, {{"uploadId", upload_id}}, {}, chain::as_bytes(body)});
    // S3 may answer 200 and still report an error in the body.
    if (done && ok_status(*done) && !s3::reports_error(done->body)) return {};
    uploaded = !done ? Status(done.error())
                     : Status(s3::describe_failure(*done, options_, "completing " + what));
  }
  // Never completed, so no object exists under the key; free the parts if the
  // server implements abort (s3rver does not: ignore its answer).
  (void)conn.send(HttpRequest{"DELETE", path, {{"uploadId", upload_id}}, {}, {}});
  return uploaded;
}

Result<chain::Bytes> S3ObjectStore::get(std::string_view key) {
  if (auto st = validate_object_key(key); !st) return st.error();
  Connection conn(options_);
  auto r = conn.send(HttpRequest{"GET", object_path(key), {}, {}, {}});
  if (!r) return r.error();
  if (!ok_status(*r)) return s3::describe_failure(*r, options_, "GET " + std::string(key));
  return chain::Bytes(r->body.begin(), r->body.end());
}

Result<chain::Bytes> S3ObjectStore::get_at_most(std::string_view key, std::uint64_t max_size) {
  if (auto st = validate_object_key(key); !st) return st.error();
  Connection conn(options_);
  HttpRequest request{"GET", object_path(key), {}, {}, {}};
  request.max_body = max_size;
  auto r = conn.send(request);
  if (!r) return r.error();
  if (!ok_status(*r)) return s3::describe_failure(*r, options_, "GET " + std::string(key));
  if (r->body_too_large) {
    return store_error(StoreErrc::too_large, "S3 sent more than " + std::to_string(max_size) +
                                                 " bytes for " + std::string(key) +
                                                 "; the download was stopped there");
  }
  return chain::Bytes(r->body.begin(), r->body.end());
}

Status S3ObjectStore::get_file(std::string_view key, const fs::path& file, bool overwrite) {
  auto info = head(key);
  if (!info) return info.error();
  auto out = AtomicFile::create(file, overwrite);
  if (!out) return store_error(StoreErrc::io, out.error().message);
  const std::uint64_t size = info->size;
  const std::uint64_t part = options_.part_size;
  const std::size_t ranges = size == 0 ? 0 : static_cast<std::size_t>((size + part - 1) / part);
  const std::string path = object_path(key);
  auto fetch = [&](Connection& c, std::size_t i) -> Status {
    const std::uint64_t first = i * part;
    const std::uint64_t last = std::min(size, first + part) - 1;
    std::vector<std::pair<std::string, std::string>> headers = {
        {"range", "bytes=" + std::to_string(first) + "-" + std::to_string(last)}};
    // Pin every range to the object we measured, so a concurrent overwrite
    // fails the download instead of splicing two objects.
    if (!info->etag.empty()) headers.emplace_back("if-match", info->etag);
    HttpRequest request{"GET", path, {}, headers, {}};
    request.max_body = last - first + 1;  // a server ignoring Range cannot flood memory
    auto r = c.send(request);
    if (!r) return r.error();
    if (r->body_too_large) {
      return store_error(StoreErrc::bad_response,
                         "S3 sent more than the " + std::to_string(last - first + 1) +
                             " bytes asked for in a range of " + std::string(key));
    }
    if (r->status == 412) {
      return store_error(StoreErrc::bad_response,
                         std::string(key) + " changed during the download; try again");
    }
    if (!ok_status(*r)) return s3::describe_failure(*r, options_, "GET " + std::string(key));
    const std::uint64_t want = last - first + 1;
    // A server that ignores Range sends the whole object with 200.
    chain::ByteView body(reinterpret_cast<const std::uint8_t*>(r->body.data()), r->body.size());
    if (r->status == 200 && ranges == 1 && body.size() == size) {
      return (*out)->pwrite(body, 0);
    }
    if (r->status != 206 || body.size() != want) {
      return store_error(StoreErrc::bad_response,
                         "S3 sent " + std::to_string(body.size()) + " bytes for bytes " +
                             std::to_string(first) + "-" + std::to_string(last) + " of " +
                             std::string(key) + " (expected " + std::to_string(want) + ")");
    }
    if (auto st = (*out)->pwrite(body, first); !st)
      return store_error(StoreErrc::io, st.error().message);
    return {};
  };
  if (auto st = run_parallel(options_, ranges, fetch); !st) return st;
  if (auto st = (*out)->commit(); !st) return store_error(StoreErrc::io, st.error().message);
  return {};
}

Result<ObjectInfo> S3ObjectStore::head(std::string_view key) {
  if (auto st = validate_object_key(key); !st) return st.error();
  Connection conn(options_);
  auto r = conn.send(HttpRequest{"HEAD", object_path(key), {}, {}, {}});
  if (!r) return r.error();
  if (r->status == 404) {
    // HEAD answers carry no body: ask about the bucket to tell the two apart.
    auto b = conn.send(
        HttpRequest{"HEAD", options_.path_style ? "/" + options_.bucket : "/", {}, {}, {}});
    if (b && b->status == 404) {
      return store_error(StoreErrc::no_bucket,
                         "bucket " + options_.bucket + " does not exist at " +
                             (options_.endpoint.empty() ? "AWS S3" : options_.endpoint) +
                             "; create it or fix the s3:// URI");
    }
    return store_error(StoreErrc::not_found, "no object " + std::string(key) + " in " + uri());
  }
  if (!ok_status(*r)) return s3::describe_failure(*r, options_, "HEAD " + std::string(key));
  ObjectInfo info{std::string(key), 0, {}};
  const auto len = r->headers.find("content-length");
  if (len == r->headers.end())
    return store_error(StoreErrc::bad_response,
                       "S3 answered HEAD " + std::string(key) + " without a Content-Length");
  try {
    info.size = std::stoull(len->second);
  } catch (const std::exception&) {
    return store_error(StoreErrc::bad_response,
                       "S3 answered HEAD " + std::string(key) + " with a bad Content-Length");
  }
  if (const auto et = r->headers.find("etag"); et != r->headers.end()) info.etag = et->second;
  return info;
}

Status S3ObjectStore::remove(std::string_view key) {
  if (auto st = validate_object_key(key); !st) return st;
  Connection conn(options_);
  auto r = conn.send(HttpRequest{"DELETE", object_path(key), {}, {}, {}});
  if (!r) return r.error();
  if (r->status == 404 && s3::error_code(r->body) != "NoSuchBucket") return {};
  if (!ok_status(*r)) return s3::describe_failure(*r, options_, "DELETE " + std::string(key));
  return {};
}

Result<std::vector<ObjectInfo>> S3ObjectStore::list(std::string_view prefix) {
  const std::string base = options_.prefix.empty() ? std::string() : options_.prefix + "/";
  const std::string full_prefix = base + std::string(prefix);
  const std::string path = options_.path_style ? "/" + options_.bucket : "/";
  Connection conn(options_);
  std::vector<ObjectInfo> out;
  std::string token;
  for (int page = 0; page < 100000; ++page) {
    std::vector<std::pair<std::string, std::string>> query = {{"list-type", "2"}};
    if (!full_prefix.empty()) query.emplace_back("prefix", full_prefix);
    if (!token.empty()) query.emplace_back("continuation-token", token);
    auto r = conn.send(HttpRequest{"GET", path, query, {}, {}});
    if (!r) return r.error();
    if (!ok_status(*r)) return s3::describe_failure(*r, options_, "listing " + uri());
    auto parsed = s3::parse_list_page(r->body, base);
    if (!parsed) return parsed.error();
    for (auto& info : parsed->objects) out.push_back(std::move(info));
    if (parsed->next_token.empty()) break;
    token = std::move(parsed->next_token);
  }
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

}  // namespace baton::storage

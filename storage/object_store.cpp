#include "storage/object_store.h"

#include <cctype>

#include "storage/file_store.h"
#include "storage/s3_store.h"

namespace baton::storage {

namespace {

Error store_error(StoreErrc code, std::string message) {
  return make_error(std::move(message), static_cast<int>(code));
}

bool key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
         c == '/';
}

bool valid_bucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
      return false;
    }
  }
  return b.front() != '-' && b.front() != '.' && b.back() != '-' && b.back() != '.';
}

}  // namespace

Result<chain::Bytes> ObjectStore::get_at_most(std::string_view key, std::uint64_t max_size) {
  auto bytes = get(key);
  if (bytes && bytes->size() > max_size) {
    return store_error(StoreErrc::too_large, "object " + std::string(key) + " in " + uri() +
                                                 " is larger than " + std::to_string(max_size) +
                                                 " bytes");
  }
  return bytes;
}

Status validate_object_key(std::string_view key) {
  const auto bad = [&](const std::string& why) {
    return store_error(
        StoreErrc::invalid_key,
        "object key \"" + std::string(key.substr(0, 80)) + "\" " + why +
            "; keys are '/'-separated segments of [A-Za-z0-9._-], not starting with '.'");
  };
  if (key.empty()) return bad("is empty");
  if (key.size() > 1024) return bad("is longer than 1024 characters");
  for (char c : key) {
    if (!key_char(c)) return bad("contains a character outside [A-Za-z0-9._/-]");
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = key.find('/', start);
    const std::string_view seg =
        key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty()) return bad("has an empty segment (leading, trailing or double '/')");
    if (seg.front() == '.') return bad("has a segment starting with '.'");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return {};
}

Result<std::unique_ptr<ObjectStore>> open_object_store(std::string_view uri, const S3Options& s3) {
  if (uri.rfind("file://", 0) == 0) {
    const std::string path(uri.substr(7));
    if (path.empty() || path.front() != '/') {
      return store_error(StoreErrc::invalid_uri,
                         "store URI " + std::string(uri) +
                             " must name an absolute directory, e.g. file:///var/lib/baton/blobs");
    }
    return std::unique_ptr<ObjectStore>(
        std::make_unique<FileObjectStore>(std::filesystem::path(path).lexically_normal()));
  }
  if (uri.rfind("s3://", 0) == 0) {
    std::string_view rest = uri.substr(5);
    const auto slash = rest.find('/');
    const std::string bucket(rest.substr(0, slash));
    std::string prefix =
        slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash + 1));
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (!valid_bucket(bucket)) {
      return store_error(StoreErrc::invalid_uri,
                         "store URI " + std::string(uri) +
                             ": the bucket name must be 3-63 characters of [a-z0-9.-]");
    }
    if (!prefix.empty()) {
      if (auto st = validate_object_key(prefix); !st) {
        return store_error(
            StoreErrc::invalid_uri,
            "store URI " + std::string(uri) + ": the prefix is not valid: " + st.error().message);
      }
    }
    if (s3.access_key_id.empty() || s3.secret_access_key.empty()) {
      return store_error(StoreErrc::access_denied,
                         "no S3 credentials for " + std::string(uri) +
                             ": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in "
                             "~/.aws/credentials");
    }
    S3Options o = s3;
    o.bucket = bucket;
    o.prefix = prefix;
    return std::unique_ptr<ObjectStore>(std::make_unique<S3ObjectStore>(std::move(o)));
  }
  return store_error(StoreErrc::invalid_uri,
                     "store URI \"" + std::string(uri) +
                         "\" is not understood; use file:///DIR or s3://BUCKET/PREFIX");
}

}  // namespace baton::storage

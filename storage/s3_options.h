// Options for the S3 object store, and where they come from. The library
// reads no files or environment by itself: resolve_s3_options() is the one
// place that does, and node/ and tools/ call it, then apply node.toml or flag
// overrides on top.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "chain/result.h"

namespace baton::storage {

struct S3Options {
  // "http://127.0.0.1:9000" (MinIO, Ceph RGW, s3rver) or empty for AWS
  // itself (https://s3.REGION.amazonaws.com). With an endpoint, requests use
  // path-style addressing (ENDPOINT/BUCKET/KEY); without, virtual-hosted.
  std::string endpoint;
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix;  // no leading or trailing '/'; keys live under PREFIX/
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (x-amz-security-token)
  bool path_style = true;     // forced true when endpoint is set

  // put_file switches to multipart above this size; parts are this big
  // (S3 requires >= 5 MiB except the last). get_file uses ranged GETs of
  // the same size in parallel for large objects.
  std::uint64_t part_size = 8ull << 20;
  unsigned parallelism = 4;  // concurrent part uploads / ranged downloads

  // Retries of one request on connection errors, timeouts, 5xx and 429, with
  // exponential backoff starting at `backoff` (doubling, +-25% jitter).
  unsigned retries = 4;
  std::chrono::milliseconds backoff{200};
  std::chrono::milliseconds connect_timeout{5000};
  // A transfer slower than 1 KiB/s for this long is abandoned (and retried).
  std::chrono::milliseconds stall_timeout{30000};

  // Called after each multipart part is uploaded (part number, 1-based), from
  // the uploading thread. For progress reports and fault-injection tests.
  std::function<void(unsigned)> on_part_uploaded;
};

// Fills region, credentials and endpoint the way the AWS tools do, without
// overriding fields already set in `base`:
//   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
//   AWS_REGION (or AWS_DEFAULT_REGION), BATON_S3_ENDPOINT;
//   then the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
//   ~/.aws/credentials), section [AWS_PROFILE] or [default].
// `env` is the environment to read (tests pass their own); a malformed
// credentials file is an error naming the line.
Result<S3Options> resolve_s3_options(S3Options base, const std::map<std::string, std::string>& env);

// The process environment as a map, for resolve_s3_options().
std::map<std::string, std::string> process_environment();

// Parses the INI-style AWS shared credentials file text; returns the
// section's keys (aws_access_key_id, aws_secret_access_key, ...), or an
// empty map when the section is absent.
Result<std::map<std::string, std::string>> parse_aws_credentials(const std::string& text,
                                                                 const std::string& profile);

}  // namespace baton::storage

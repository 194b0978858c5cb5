// A real s3rver process for tests: started on a free loopback port with one
// bucket, killed when the object goes away. Fails the test (not skips) when
// s3rver is not installed: CI always has it (deploy/bootstrap.sh
// --with-test-tools).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/s3_options.h"
#include "tests/support/test_support.h"

namespace baton::testing {

inline std::filesystem::path s3rver_path() {
  if (const char* p = std::getenv("BATON_S3RVER"); p && *p) return p;
  return source_dir() / ".cache/npm/node_modules/.bin/s3rver";
}

class S3Server {
 public:
  explicit S3Server(std::string bucket = "baton-test") : bucket_(std::move(bucket)) {
    std::filesystem::create_directories(dir_.path() / "data");
    start(free_port());
  }

  // Starts (again) on `port` over the same data directory.
  void start(int port) {
    port_ = port;
    const auto bin = s3rver_path();
    if (!std::filesystem::exists(bin)) {
      ADD_FAILURE() << "s3rver is not installed at " << bin
                    << "; run deploy/bootstrap.sh --with-test-tools or set BATON_S3RVER";
      return;
    }
    process_ = std::make_unique<ChildProcess>(
        bin,
        std::vector<std::string>{"-d", (dir_.path() / "data").string(), "-a", "127.0.0.1", "-p",
                                 std::to_string(port), "--configure-bucket", bucket_, "--silent"},
        dir_.path() / "s3rver.log");
    if (!wait_until([&] { return port_open(port); }, std::chrono::seconds(30))) {
      ADD_FAILURE() << "s3rver did not start listening on port " << port << "; see "
                    << (dir_.path() / "s3rver.log");
    }
  }

  void kill() {
    if (process_) process_->kill_hard();
  }

  bool ok() const { return process_ != nullptr && port_open(port_); }
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& bucket() const { return bucket_; }

  storage::S3Options options() const {
    storage::S3Options o;
    o.endpoint = endpoint();
    o.region = "us-east-1";
    o.access_key_id = "S3RVER";
    o.secret_access_key = "S3RVER";
    o.part_size = 5ull << 20;
    o.retries = 1;
    o.backoff = std::chrono::milliseconds(20);
    o.connect_timeout = std::chrono::milliseconds(2000);
    return o;
  }

  // Environment for the AWS CLI pointed at this server.
  std::map<std::string, std::string> aws_env() const {
    return {{"AWS_ACCESS_KEY_ID", "S3RVER"},
            {"AWS_SECRET_ACCESS_KEY", "S3RVER"},
            {"AWS_DEFAULT_REGION", "us-east-1"},
            {"AWS_CONFIG_FILE", "/dev/null"},
            {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
            {"AWS_PAGER", ""}};
  }

 private:
  TempDir dir_{"baton-s3rver"};
  std::string bucket_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace baton::testing

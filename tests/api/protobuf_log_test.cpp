// api/protobuf_log.h: libprotobuf's complaint about bytes a peer sent ends up
// in the node's debug log, not on stderr.
#include <sstream>
#include <string>

#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "chain/proto/ledger.pb.h"
#include "api/protobuf_log.h"

namespace baton::api {
namespace {

// A Transaction whose string field chain_id (field 1) holds bytes that are
// not UTF-8, as a peer could send it.
const std::string kBadUtf8Transaction("\x0a\x02\xff\xfe", 4);

TEST(ProtobufLog, InvalidUtf8FromAPeerGoesToTheDebugLogNotStderr) {
  google::protobuf::LogHandler* const default_handler = google::protobuf::SetLogHandler(nullptr);
  google::protobuf::SetLogHandler(default_handler);
  chain::pb::Transaction tx;

  // What the handler is for: by default libprotobuf writes to stderr.
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(tx.ParseFromString(kBadUtf8Transaction));
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("invalid UTF-8"), std::string::npos);

  std::ostringstream log;
  auto logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  logger->set_level(spdlog::level::debug);
  send_protobuf_logs_to(logger);

  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(tx.ParseFromString(kBadUtf8Transaction));
  const std::string err = ::testing::internal::GetCapturedStderr();
  logger->flush();
  EXPECT_EQ(err.find("invalid UTF-8"), std::string::npos) << err;
  EXPECT_NE(log.str().find("invalid UTF-8"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("debug"), std::string::npos) << log.str();

  drop_protobuf_logs();
  log.str("");
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(tx.ParseFromString(kBadUtf8Transaction));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(log.str(), "");

  google::protobuf::SetLogHandler(default_handler);
}

}  // namespace
}  // namespace baton::api

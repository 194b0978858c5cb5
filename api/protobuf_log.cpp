#include "api/protobuf_log.h"

#include <iostream>
#include <string>
#include <utility>

#include <google/protobuf/stubs/logging.h>

namespace baton::api {
namespace {

// Set once from main() before threads start, then only read: libprotobuf's
// handler is a plain function pointer, so the logger it writes to lives here.
std::shared_ptr<spdlog::logger> protobuf_logger;

void to_spdlog(google::protobuf::LogLevel level, const char* filename, int line,
               const std::string& message) {
  const auto spdlog_level =
      level == google::protobuf::LOGLEVEL_FATAL ? spdlog::level::critical : spdlog::level::debug;
  protobuf_logger->log(spdlog_level, "libprotobuf {}:{}: {}", filename, line, message);
}

void drop_unless_fatal(google::protobuf::LogLevel level, const char* filename, int line,
                       const std::string& message) {
  if (level == google::protobuf::LOGLEVEL_FATAL)
    std::cerr << "libprotobuf FATAL " << filename << ":" << line << ": " << message << "\n";
}

}  // namespace

void send_protobuf_logs_to(std::shared_ptr<spdlog::logger> log) {
  protobuf_logger = std::move(log);
  google::protobuf::SetLogHandler(&to_spdlog);
}

void drop_protobuf_logs() { google::protobuf::SetLogHandler(&drop_unless_fatal); }

}  // namespace baton::api

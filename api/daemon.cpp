#include "api/daemon.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "api/protobuf_log.h"

namespace baton::api {

namespace fs = std::filesystem;

std::variant<std::string, int> parse_config_argument(int argc, char** argv,
                                                     std::string_view program,
                                                     std::string_view usage) {
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return kExitClean;
    }
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg.starts_with("--config=")) {
      config_path = arg.substr(9);
    } else {
      std::cerr << program << ": unknown argument '" << arg << "'\n" << usage;
      return kExitBadArguments;
    }
  }
  if (config_path.empty()) {
    std::cerr << program << ": --config is required\n" << usage;
    return kExitBadArguments;
  }
  return config_path;
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return spdlog::level::trace;
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
    case LogLevel::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

Result<std::shared_ptr<spdlog::logger>> open_process_log(const std::string& logger_name,
                                                         const fs::path& log_file,
                                                         std::string_view label, LogLevel level) {
  std::shared_ptr<spdlog::logger> log;
  try {
    log = log_file.empty() ? spdlog::stderr_color_mt(logger_name)
                           : spdlog::basic_logger_mt(logger_name, log_file.string());
  } catch (const spdlog::spdlog_ex& e) {
    std::ostringstream sentence;
    sentence << "cannot open the log file " << log_file << ": " << e.what();
    return make_error(sentence.str());
  }
  log->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + std::string(label) + "] %v");
  log->set_level(to_spdlog(level));
  log->flush_on(spdlog::level::info);
  send_protobuf_logs_to(log);  // peers' bad bytes must not reach stderr
  return log;
}

ShutdownSignals::ShutdownSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

const char* ShutdownSignals::wait() {
  int sig = 0;
  sigwait(&signals_, &sig);
  return sig == SIGTERM ? "SIGTERM" : "SIGINT";
}

int cannot_start(spdlog::logger& log, std::string_view program, const std::string& message) {
  log.error("{}", message);
  std::cerr << program << ": " << message << "\n";
  return kExitCannotStart;
}

Result<std::string> read_config_named_file(const fs::path& path, std::string_view what,
                                           std::string_view hint) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return make_error(std::string(what) + " " + path.string() + " does not exist; " +
                      std::string(hint));
  }
  if (fs::is_directory(path, ec))
    return make_error(std::string(what) + " " + path.string() + " is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error("cannot read " + std::string(what) + " " + path.string() +
                      "; check its permissions");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace baton::api

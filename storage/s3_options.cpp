#include "storage/s3_options.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

extern char** environ;

namespace baton::storage {

namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string lookup(const std::map<std::string, std::string>& env, const std::string& name) {
  const auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

}  // namespace

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

Result<std::map<std::string, std::string>> parse_aws_credentials(const std::string& text,
                                                                 const std::string& profile) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  std::string section;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') {
        return make_error("AWS credentials file line " + std::to_string(number) +
                          ": a section header must end with ']'");
      }
      section = trim(line.substr(1, line.size() - 2));
      if (section.rfind("profile ", 0) == 0) section = trim(section.substr(8));
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      return make_error("AWS credentials file line " + std::to_string(number) +
                        ": expected 'name = value'");
    }
    if (section == profile) out[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

Result<S3Options> resolve_s3_options(S3Options o, const std::map<std::string, std::string>& env) {
  if (o.access_key_id.empty() && o.secret_access_key.empty()) {
    o.access_key_id = lookup(env, "AWS_ACCESS_KEY_ID");
    o.secret_access_key = lookup(env, "AWS_SECRET_ACCESS_KEY");
    if (o.session_token.empty()) o.session_token = lookup(env, "AWS_SESSION_TOKEN");
  }
  if (o.endpoint.empty()) o.endpoint = lookup(env, "BATON_S3_ENDPOINT");
  const std::string region = !lookup(env, "AWS_REGION").empty() ? lookup(env, "AWS_REGION")
                                                                : lookup(env, "AWS_DEFAULT_REGION");
  const bool region_defaulted = o.region.empty() || o.region == S3Options{}.region;
  if (region_defaulted && !region.empty()) o.region = region;

  if (o.access_key_id.empty() || o.secret_access_key.empty()) {
    std::string file = lookup(env, "AWS_SHARED_CREDENTIALS_FILE");
    if (file.empty() && !lookup(env, "HOME").empty())
      file = lookup(env, "HOME") + "/.aws/credentials";
    std::string profile = lookup(env, "AWS_PROFILE");
    if (profile.empty()) profile = "default";
    if (!file.empty()) {
      std::ifstream f(file);
      if (f) {
        std::ostringstream ss;
        ss << f.rdbuf();
        auto section = parse_aws_credentials(ss.str(), profile);
        if (!section) return make_error(file + ": " + section.error().message);
        if (section->count("aws_access_key_id") && section->count("aws_secret_access_key")) {
          o.access_key_id = section->at("aws_access_key_id");
          o.secret_access_key = section->at("aws_secret_access_key");
          if (section->count("aws_session_token"))
            o.session_token = section->at("aws_session_token");
        }
      } else if (!lookup(env, "AWS_SHARED_CREDENTIALS_FILE").empty()) {
        return make_error("AWS_SHARED_CREDENTIALS_FILE names " + file + ", which cannot be read");
      }
    }
  }
  if (!o.endpoint.empty()) o.path_style = true;
  return o;
}

}  // namespace baton::storage

#include "api/http_json.h"

namespace baton::api {

HttpResponse json_reply(int status, const nlohmann::json& body) {
  return {status, "application/json",
          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

HttpResponse json_error(int status, const std::string& message) {
  return json_reply(status, nlohmann::json{{"error", message}});
}

std::string_view target_path(std::string_view target) {
  if (const auto q = target.find('?'); q != std::string_view::npos) return target.substr(0, q);
  return target;
}

std::string query_value(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view part = rest.substr(0, amp);
    const auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name)
      return std::string(part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return {};
}

}  // namespace baton::api

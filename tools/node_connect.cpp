#include "tools/node_connect.h"

#include <CLI/CLI.hpp>

#include "api/training_json.h"
#include "tools/cli.h"

namespace baton::tools {
namespace {

std::string& pin() {
  static std::string value;
  return value;
}

}  // namespace

void add_node_cert_option(CLI::App* sub) {
  sub->add_option("--node-cert-sha256", pin(),
                  "with an https:// --node: the SHA-256 fingerprint of the node's certificate "
                  "(batond logs it at start; `openssl x509 -in admin-tls.crt -noout "
                  "-fingerprint -sha256` on the node's host)");
}

const std::string& node_cert_sha256() { return pin(); }

Result<std::unique_ptr<api::HttpClient>> connect_node(const std::string& url,
                                                      std::chrono::milliseconds timeout) {
  return api::HttpClient::connect_to(url, timeout, pin());
}

nlohmann::json training_status_or_exit(const std::string& data_dir, const std::string& node_url) {
  auto j = api::read_training_status({data_dir, node_url, node_cert_sha256()});
  if (!j) {
    using E = api::TrainingSourceErrc;
    const auto code = static_cast<E>(j.error().code);
    fail(j.error().message, code == E::bad_arguments  ? Exit::usage
                            : code == E::not_verified ? Exit::verify_failed
                            : code == E::unavailable  ? Exit::unavailable
                                                      : Exit::failure);
  }
  return std::move(j).value();
}

}  // namespace baton::tools

#include "agent/agent_follow.h"

#include <chrono>

#include "api/admin_token.h"

namespace baton::agent {
namespace {

using namespace std::chrono_literals;

Result<std::string> wait_for_token(const std::filesystem::path& path, spdlog::logger& log) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  bool said = false;
  for (;;) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return api::read_admin_token(path);
    if (std::chrono::steady_clock::now() > deadline) return api::read_admin_token(path);
    if (!said) {
      log.info("waiting for the node to write its admin token {}", path.string());
      said = true;
    }
    std::this_thread::sleep_for(200ms);
  }
}

}  // namespace

Result<std::unique_ptr<Follower>> Follower::start(FollowerSetup setup,
                                                  std::shared_ptr<spdlog::logger> log) {
  auto token = wait_for_token(setup.config.token_file, *log);
  if (!token) return token.error();
  std::unique_ptr<Follower> f(new Follower(setup.config, log));

  // The API first: its bound port is what the agent announces to the node.
  // The handler reaches the agent through `f`, which outlives the server.
  Follower* self = f.get();
  api::HttpServerOptions http_options;
  http_options.listen = setup.config.admin_listen;
  http_options.max_body_bytes = 64 * 1024;
  f->http_ = std::make_unique<api::HttpServer>(
      http_options, [self](const api::HttpRequest& r) -> api::HttpResponse {
        AgentApi* api = self->api_ready_.load();
        if (api == nullptr)
          return {503, "application/json", "{\"error\":\"the agent is starting\"}\n"};
        return api->handle(r);
      });
  if (auto s = f->http_->start(); !s) return s.error();
  const std::string api_url =
      "http://" + setup.config.admin_listen.host + ":" + std::to_string(f->http_->port());

  auto link = NodeLink::open(setup.config.node_url, *token, api_url, setup.genesis,
                             setup.config.node_cert_sha256);
  if (!link) return link.error();
  f->link_ = std::move(*link);
  auto agent = PartnerAgent::open(std::move(setup.options), std::move(setup.store), *f->link_, log);
  if (!agent) return agent.error();
  f->agent_ = std::move(*agent);
  f->agent_->follow_members(*f->link_);  // recipients and voters follow the ledger
  f->api_ = std::make_unique<AgentApi>(*f->agent_, setup.config.name, setup.config.node_url, *token,
                                       [self] { return self->latest(); });
  f->api_ready_ = f->api_.get();
  f->agent_->start();
  // Reports go over a connection of their own (NodeLink::report_metrics):
  // never in a step's way.
  f->reporter_ = std::make_unique<AgentMetricsReporter>(
      f->agent_->metrics(),
      [link = f->link_.get()](const std::string& body) { return link->report_metrics(body); }, log,
      AgentMetricsReporter::Options{});
  f->thread_ = std::thread([self] { self->follow(); });
  log->info("partner agent of {} follows {} (its API on {})", setup.config.name,
            setup.config.node_url, api_url);
  return f;
}

Follower::~Follower() { stop(); }

void Follower::stop() {
  if (stopping_.exchange(true)) return;
  if (link_) link_->interrupt();  // a long-poll (or a report) may be waiting on the node
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (reporter_) reporter_->stop();
  if (http_) http_->stop();
  if (agent_) agent_->stop();
}

AgentView Follower::latest() const {
  std::lock_guard lock(latest_mutex_);
  return latest_;
}

void Follower::follow() {
  std::uint64_t after = 0;
  std::string last_error;
  while (!stopping_.load()) {
    const auto asked = std::chrono::steady_clock::now();
    auto r = link_->poll(after);
    // Polls start at least poll_ms apart: a long-poll has waited on the node
    // already, and a node that answers 204 at once is not asked in a spin.
    auto pause = std::chrono::duration_cast<std::chrono::milliseconds>(
        asked + std::chrono::milliseconds(config_.poll_ms) - std::chrono::steady_clock::now());
    if (!r) {
      if (stopping_.load()) break;  // stop() interrupted the poll
      if (r.error().message != last_error) {
        log_->warn("cannot follow the node: {}; retrying", r.error().message);
        last_error = r.error().message;
      }
      pause = std::max(pause, std::chrono::milliseconds(1000));
    } else {
      if (!last_error.empty()) {
        log_->info("following the node again");
        last_error.clear();
      }
      if (r->has_value()) {
        NodeView& view = **r;
        after = view.height;
        auto shared = std::make_shared<const chain::TrainingState>(view.training);
        {
          std::lock_guard lock(latest_mutex_);
          latest_ = AgentView{view.height, shared};
        }
        agent_->on_committed(view.height, std::move(view.training));
        continue;  // ask again at once: more may have been committed meanwhile
      }
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, pause, [this] { return stopping_.load(); });
  }
}

}  // namespace baton::agent

#include "node/consensus_driver.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include <boost/asio/post.hpp>

#include "node/signer_state.h"
#include "storage/byte_stream.h"

namespace baton::node {
namespace {

namespace asio = boost::asio;

// The checkpoint file holds SHA-256(record) || record, like the signer state.
Result<std::optional<consensus::pb::EngineCheckpoint>> load_checkpoint(
    const std::filesystem::path& path) {
  auto text = storage::read_file_if_exists(path);
  if (!text) return text.error();
  if (!text->has_value()) return std::optional<consensus::pb::EngineCheckpoint>{};
  const std::string& file = **text;
  consensus::pb::EngineCheckpoint cp;
  const bool intact =
      file.size() >= 32 &&
      std::equal(file.begin(), file.begin() + 32,
                 chain::sha256(std::string_view(file).substr(32)).bytes.begin(),
                 [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; });
  if (!intact || !cp.ParseFromArray(file.data() + 32, static_cast<int>(file.size() - 32))) {
    return make_error(
        "the consensus checkpoint " + path.string() +
        " is damaged; restore it from a backup or, if this node's votes at that height were "
        "never sent, remove it");
  }
  return std::optional<consensus::pb::EngineCheckpoint>{std::move(cp)};
}

Status save_checkpoint(const std::filesystem::path& path,
                       const consensus::pb::EngineCheckpoint& cp) {
  std::string bytes;
  if (!cp.SerializeToString(&bytes)) return make_error("cannot serialize the consensus checkpoint");
  const chain::Hash sum = chain::sha256(bytes);
  std::string file(sum.bytes.begin(), sum.bytes.end());
  file += bytes;
  return storage::write_file_durably(path, file);
}

}  // namespace

ConsensusDriver::ConsensusDriver(asio::io_context& loop, ConsensusDriverOptions options,
                                 consensus::ValidatorSet validators, consensus::Application& app,
                                 ConsensusHost& host, std::unique_ptr<consensus::Signer> signer,
                                 consensus::SignerStateStore* signer_store)
    : loop_(loop),
      options_(std::move(options)),
      validators_(std::move(validators)),
      app_(app),
      host_(host),
      signer_(std::move(signer)),
      signer_store_(signer_store),
      heartbeat_(loop),
      rebroadcast_(loop) {
  if (signer_ && signer_store_ == nullptr) std::abort();  // a signer's records must go somewhere
}

ConsensusDriver::~ConsensusDriver() { stop(); }

Status ConsensusDriver::start(std::uint64_t height) {
  auto cp = load_checkpoint(options_.checkpoint_file);
  if (!cp) return cp.error();
  engine_ = std::make_unique<consensus::Engine>(options_.engine, validators_, app_, signer_.get(),
                                                height, *cp);
  last_commit_ = std::chrono::steady_clock::now();
  engine_->start();
  drain();
  rebroadcast_tick();
  return {};
}

void ConsensusDriver::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& t : timers_) t->cancel();
  timers_.clear();
  heartbeat_.cancel();
  rebroadcast_.cancel();
}

consensus::MessageVerdict ConsensusDriver::on_message(
    const consensus::pb::ConsensusMessage& message) {
  if (!running()) return consensus::MessageVerdict::stale;
  const auto verdict = engine_->on_message(message);
  // A peer already works on the held height: join it now.
  if (verdict == consensus::MessageVerdict::accepted && held_) release_held();
  drain();
  return verdict;
}

void ConsensusDriver::on_block_committed(std::uint64_t height) {
  if (!running()) return;
  last_commit_ = std::chrono::steady_clock::now();
  engine_->on_block_committed(height, host_.next_validators());
  drain();
}

void ConsensusDriver::poke() {
  if (running() && held_ && may_start_height()) release_held();
}

consensus::EngineStatus ConsensusDriver::status() const {
  return engine_ ? engine_->status() : consensus::EngineStatus{};
}

std::vector<consensus::pb::ConsensusMessage> ConsensusDriver::messages_to_rebroadcast() const {
  if (!engine_) return {};
  return engine_->messages_to_rebroadcast();
}

void ConsensusDriver::drain() {
  // Outputs can cause further outputs (a commit moves the engine on); one
  // loop drains them all, and re-entry from inside is flattened into it.
  if (draining_ || !running()) return;
  draining_ = true;
  while (running()) {
    consensus::Output out = engine_->take_output();
    if (out.empty()) break;
    // Nothing of this output leaves before the records that cover it are
    // durable: first the signer's (its votes and proposal), then the
    // checkpoint (its locks).
    if (out.signer_state) {
      if (auto s = signer_store_->save(*out.signer_state); !s) {
        draining_ = false;
        stop();
        host_.storage_failed(StorageArea::signer_state, s.error().message);
        return;
      }
    }
    if (out.checkpoint) {
      if (auto s = save_checkpoint(options_.checkpoint_file, *out.checkpoint); !s) {
        // Nothing of this output leaves: its messages may depend on the
        // locks that were not saved.
        draining_ = false;
        stop();
        host_.storage_failed(StorageArea::checkpoint, s.error().message);
        return;
      }
    }
    if (out.decision) {
      const std::uint64_t h = out.decision->height;
      if (auto s = host_.commit_decision(*out.decision); !s) {
        // A storage failure halted the node and stopped this driver; it
        // logged the failure itself, rate-limited.
        if (!running()) break;
        host_.note("height " + std::to_string(h) + " was decided but not stored: " +
                   s.error().message + "; block sync will fetch it from a peer");
      } else {
        last_commit_ = std::chrono::steady_clock::now();
        engine_->on_block_committed(h, host_.next_validators());
      }
    }
    for (const auto& m : out.messages) host_.broadcast(m);
    for (const auto& t : out.timeouts) schedule(t);
    for (const auto& e : out.evidence) {
      (void)e;
      host_.note("a validator signed two conflicting votes; the evidence goes into the next block");
    }
  }
  draining_ = false;
}

void ConsensusDriver::schedule(const consensus::Timeout& timeout) {
  // Drop timers that already fired (their handler ran) to keep the list short.
  std::erase_if(timers_,
                [](const auto& t) { return t->expiry() < asio::steady_timer::clock_type::now(); });
  auto timer =
      std::make_shared<asio::steady_timer>(loop_, std::chrono::milliseconds(timeout.duration_ms));
  timer->async_wait([this, timeout, timer](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    fire(timeout);
  });
  timers_.push_back(std::move(timer));
}

std::optional<std::chrono::milliseconds> ConsensusDriver::heartbeat_interval() const {
  if (host_.needs_clock()) return std::chrono::milliseconds(options_.empty_block_interval_ms);
  if (options_.idle_block_interval_ms == 0) return std::nullopt;
  return std::chrono::milliseconds(options_.idle_block_interval_ms);
}

bool ConsensusDriver::may_start_height() const {
  if (host_.has_pending_work()) return true;
  const auto interval = heartbeat_interval();
  return interval && std::chrono::steady_clock::now() - last_commit_ >= *interval;
}

void ConsensusDriver::fire(const consensus::Timeout& timeout) {
  if (!running()) return;
  if (timeout.step == consensus::Step::new_height && !may_start_height()) {
    held_ = timeout;
    // Held until work arrives (poke) or the heartbeat is due. Without a
    // heartbeat (idle, interval 0) only work releases it.
    if (const auto interval = heartbeat_interval()) {
      heartbeat_.expires_at(last_commit_ + *interval);
      heartbeat_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec && !stopped_) poke();
      });
    }
    return;
  }
  engine_->on_timeout(timeout);
  drain();
}

void ConsensusDriver::release_held() {
  if (!held_) return;
  const consensus::Timeout t = *held_;
  held_.reset();
  heartbeat_.cancel();
  engine_->on_timeout(t);
  drain();
}

void ConsensusDriver::rebroadcast_tick() {
  if (!running()) return;
  // Only when stuck: the engine's position did not move for a whole interval
  // (a peer may have missed our votes through a reconnect or a restart).
  const auto now = engine_->status();
  if (now.height == last_seen_.height && now.round == last_seen_.round &&
      now.step == last_seen_.step && !held_) {
    for (const auto& m : engine_->messages_to_rebroadcast()) host_.broadcast(m);
  }
  last_seen_ = now;
  rebroadcast_.expires_after(std::chrono::milliseconds(options_.rebroadcast_interval_ms));
  rebroadcast_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) rebroadcast_tick();
  });
}

}  // namespace baton::node

// ConsensusDriver: runs the I/O-free consensus::Engine inside batond. It
// turns timers into on_timeout() calls and carries out each engine Output in
// the order engine.h prescribes: the signer's record and the checkpoint
// written durably, decided block committed (through the host), messages sent,
// timeouts scheduled. The engine and its Signer write nothing themselves: the
// signer's double-sign record is an output the driver writes (through the
// SignerStateStore, fsynced) before any vote or proposal it covers is sent,
// as it writes the checkpoint.
//
// Empty blocks: after a commit, the engine's commit pause ends the height's
// new_height step. The driver holds that step open while the host says there
// is nothing to do (no transaction waiting, no consensus message for the new
// height from a peer) and the heartbeat interval since the last commit has
// not passed. So the chain makes blocks when there are transactions, plus an
// empty block every `empty_block_interval_ms` while the ledger counts blocks
// (a run's deadlines: ConsensusHost::needs_clock), and only a rare heartbeat
// every `idle_block_interval_ms` (0: none) while it does not, so an idle
// consortium's chain stays small. A network without a quorum (e.g. 2 of 4 up)
// commits nothing at all.
//
// Threading: every method runs on the node's event-loop thread (the
// io_context passed in, run by exactly one thread); timers post back to it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "chain/result.h"
#include "consensus/engine.h"
#include "node/storage_faults.h"

namespace baton::node {

// What the driver needs from the node (implemented by Node).
class ConsensusHost {
 public:
  virtual ~ConsensusHost() = default;
  // Validates and durably stores a decided block, then updates the ledger
  // state. OK also when the block is already stored (block sync was faster).
  virtual Status commit_decision(const consensus::Decision& decision) = 0;
  // Sends a consensus message to every connected peer.
  virtual void broadcast(const consensus::pb::ConsensusMessage& message) = 0;
  // True when something waits to be ordered (transactions in the mempool).
  virtual bool has_pending_work() const = 0;
  // True while the ledger has a deadline counted in blocks ahead of it
  // (chain::needs_block_clock): empty blocks then come every
  // empty_block_interval_ms, else every idle_block_interval_ms.
  virtual bool needs_clock() const { return true; }
  // The validator set of the height after the committed tip, as the ledger
  // has it (chain::current_validators); nullopt keeps the engine's set.
  // Asked after every commit, before the next height starts.
  virtual std::optional<consensus::ValidatorSet> next_validators() const { return std::nullopt; }
  // The driver cannot go on (e.g. the checkpoint on disk is damaged): the
  // node stops taking part until an operator looks.
  virtual void halt(const std::string& why) = 0;
  // A write consensus needs failed (the signer's record or the checkpoint;
  // the host reports its own ledger failures the same way). The driver has
  // stopped itself, with nothing of that output sent, before this call; the
  // host halts and later builds a new driver once the disk takes writes
  // again (node/storage_faults.h).
  virtual void storage_failed(StorageArea area, const std::string& why) = 0;
  // For logs: something worth an operator's attention.
  virtual void note(const std::string& what) = 0;
};

struct ConsensusDriverOptions {
  consensus::EngineOptions engine;
  std::filesystem::path checkpoint_file;           // EngineCheckpoint, written durably
  std::uint32_t empty_block_interval_ms = 1000;    // while the host needs the clock
  std::uint32_t idle_block_interval_ms = 600'000;  // otherwise; 0: no empty blocks at all
  std::uint32_t rebroadcast_interval_ms = 1000;
};

class ConsensusDriver {
 public:
  // `signer` may be null (observer); otherwise `signer_store` receives its
  // records and must hold the one it was opened from. `app`, `host`, `loop`
  // and `signer_store` must outlive the driver.
  ConsensusDriver(boost::asio::io_context& loop, ConsensusDriverOptions options,
                  consensus::ValidatorSet validators, consensus::Application& app,
                  ConsensusHost& host, std::unique_ptr<consensus::Signer> signer,
                  consensus::SignerStateStore* signer_store);
  ~ConsensusDriver();

  // Builds the engine at `height` (block store tip + 1) from the last
  // checkpoint file, if any, and starts it. Fails when the checkpoint exists
  // but is damaged.
  Status start(std::uint64_t height);
  // Cancels every timer. No engine call after this.
  void stop();

  consensus::MessageVerdict on_message(const consensus::pb::ConsensusMessage& message);
  // The block store now holds `height` (decided here or fetched by sync).
  void on_block_committed(std::uint64_t height);
  // Something changed that may let a held new height start (a tx arrived).
  void poke();

  consensus::EngineStatus status() const;
  // This node's messages for peers that just connected or missed them.
  std::vector<consensus::pb::ConsensusMessage> messages_to_rebroadcast() const;
  bool running() const { return engine_ != nullptr && !stopped_; }

 private:
  void drain();
  void schedule(const consensus::Timeout& timeout);
  void fire(const consensus::Timeout& timeout);
  bool may_start_height() const;
  // The empty-block interval that applies now; nullopt: wait for work.
  std::optional<std::chrono::milliseconds> heartbeat_interval() const;
  void release_held();
  void rebroadcast_tick();

  boost::asio::io_context& loop_;
  ConsensusDriverOptions options_;
  consensus::ValidatorSet validators_;
  consensus::Application& app_;
  ConsensusHost& host_;
  std::unique_ptr<consensus::Signer> signer_;
  consensus::SignerStateStore* signer_store_;
  std::unique_ptr<consensus::Engine> engine_;
  std::vector<std::shared_ptr<boost::asio::steady_timer>> timers_;
  boost::asio::steady_timer heartbeat_;
  boost::asio::steady_timer rebroadcast_;
  std::optional<consensus::Timeout> held_;  // a new_height timeout waiting for work
  std::chrono::steady_clock::time_point last_commit_ = std::chrono::steady_clock::now();
  consensus::EngineStatus last_seen_{};
  bool stopped_ = false;
  bool draining_ = false;
};

}  // namespace baton::node

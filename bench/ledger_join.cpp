#include <chrono>
#include <cstdio>

#include "bench/ledger_restart.h"
#include "chain/block.h"
#include "chain/chain_spec.h"
#include "chain/validation.h"
#include "node/state_sync.h"
#include "storage/ledger_store.h"

namespace baton::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

bool fail(const std::string& what) {
  std::fprintf(stderr, "baton-bench-ledger: join: %s\n", what.c_str());
  return false;
}

// Validates and appends source blocks [from, to] on top of `state`, synced
// one by one as batond's block sync stores them.
bool sync_blocks(const chain::ChainSpec& spec, const storage::LedgerStore& source,
                 storage::LedgerStore& target, chain::LedgerState& state, std::uint64_t from,
                 std::uint64_t to) {
  for (std::uint64_t h = from; h <= to;) {
    auto batch = source.blocks_from(h, 64);
    if (!batch || batch->empty())
      return fail("cannot read the source at height " + std::to_string(h));
    for (const std::string& bytes : *batch) {
      if (h > to) break;
      auto committed = chain::decode_committed_block(bytes);
      if (!committed) return fail("height " + std::to_string(h) + " does not decode");
      auto after = chain::validate_block(spec, state, *committed);
      if (!after) return fail("height " + std::to_string(h) + ": " + after.reason().message());
      if (auto s = target.append(bytes); !s) return fail(s.error().message);
      state = std::move(after).value();
      ++h;
    }
  }
  return true;
}

}  // namespace

bool run_join_bench(const fs::path& source_dir, const std::string& genesis_text, std::uint64_t tip,
                    const fs::path& scratch, std::uint64_t full_replay_max) {
  auto spec = chain::load_chain_spec(genesis_text);
  if (!spec) return fail(spec.error().message);
  auto source = storage::LedgerStore::open_reader(source_dir);
  if (!source) return fail(source.error().message);
  auto open_target = [&](const std::string& name) {
    std::error_code ec;
    fs::remove_all(scratch / name, ec);
    return storage::LedgerStore::open_writer({.dir = scratch / name,
                                              .genesis_hash = spec->genesis_hash,
                                              .genesis_document = genesis_text});
  };

  if (tip <= full_replay_max) {
    auto target = open_target("join-block-sync");
    if (!target) return fail(target.error().message);
    chain::LedgerState state = chain::initial_state(spec->genesis_hash);
    const auto t = Clock::now();
    if (!sync_blocks(*spec, **source, **target, state, 1, tip)) return false;
    const double s = seconds_since(t);
    std::printf(
        "  join by block sync from genesis: %.3f s (%llu blocks validated and stored, %.0f "
        "blocks/s)\n",
        s, static_cast<unsigned long long>(tip), tip / s);
  } else {
    std::printf("  join by block sync from genesis: skipped above --full-replay-max %llu\n",
                static_cast<unsigned long long>(full_replay_max));
  }

  auto heights = (*source)->snapshot_heights();
  if (!heights || heights->empty()) {
    std::printf("  join by state sync: no snapshot at this size\n");
    return true;
  }
  const std::uint64_t at = heights->back();
  auto record = (*source)->snapshot_at(at);
  auto block = (*source)->block_at(at);
  if (!record || !record->has_value() || !block || !block->has_value())
    return fail("cannot read the snapshot at " + std::to_string(at));
  auto committed = chain::decode_committed_block(**block);
  if (!committed) return fail("the block at the snapshot does not decode");
  const node::StateSyncTrust trust{at, chain::block_id(committed->block())};

  auto target = open_target("join-state-sync");
  if (!target) return fail(target.error().message);
  const auto t = Clock::now();
  // What the server sends and the joiner checks, chunk by chunk.
  node::SnapshotDownload download(at);
  std::uint64_t chunks = 0;
  while (!download.complete()) {
    node::pb::SnapshotRequest r;
    r.set_height(at);
    r.set_offset(download.offset());
    if (auto bad = download.add(node::plan_snapshot_response(r, *record, *block)))
      return fail(bad->message());
    ++chunks;
  }
  auto checked = node::check_trusted_snapshot(*spec, trust, download.block(), download.state());
  if (!checked) return fail(checked.reason().message());
  std::vector<storage::BlockDescription::SenderNonce> nonces;
  for (const auto& [k, next] : checked->state.next_nonces) nonces.push_back({k, next - 1});
  if (auto s = (*target)->install_trusted(checked->block, checked->record, nonces); !s)
    return fail(s.error().message);
  const double snapshot_s = seconds_since(t);
  chain::LedgerState state = checked->state;
  if (!sync_blocks(*spec, **source, **target, state, at + 1, tip)) return false;
  const double join_s = seconds_since(t);
  std::printf(
      "  join by state sync: %.3f s to the tip (snapshot at %llu: %zu state bytes in %llu "
      "chunk(s), checked and stored in %.3f s; then %llu blocks)\n",
      join_s, static_cast<unsigned long long>(at), download.state().size(),
      static_cast<unsigned long long>(chunks), snapshot_s,
      static_cast<unsigned long long>(tip - at));

  // Backfill, in the background of a running node: top down, each block
  // linked to the one above and checked statelessly. As long as a join from
  // genesis (about 850 blocks/s here): skipped above --full-replay-max too.
  if (tip > full_replay_max) {
    std::printf("  backfill after it: skipped above --full-replay-max %llu\n",
                static_cast<unsigned long long>(full_replay_max));
    return true;
  }
  const auto b = Clock::now();
  for (std::uint64_t h = at - 1; h >= 1; --h) {
    auto bytes = (*source)->block_at(h);
    auto above = (*target)->block_at(h + 1);
    if (!bytes || !bytes->has_value() || !above || !above->has_value())
      return fail("cannot read height " + std::to_string(h));
    const auto named = node::id_named_by(**above);
    if (!named) return fail("the block above " + std::to_string(h) + " does not decode");
    if (auto why = node::check_linked_block(*spec, h, *named, **bytes, &spec->validators))
      return fail(*why);
    if (auto s = (*target)->backfill(**bytes); !s) return fail(s.error().message);
  }
  const double backfill_s = seconds_since(b);
  std::printf("  backfill of heights 1..%llu after it: %.3f s (%.0f blocks/s)\n",
              static_cast<unsigned long long>(at - 1), backfill_s,
              backfill_s > 0 ? (at - 1) / backfill_s : 0.0);
  return true;
}

}  // namespace baton::bench

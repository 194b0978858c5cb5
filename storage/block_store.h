// BlockStore: the port through which the node and the CLI keep and read the
// committed chain. Implementations: LedgerStore (RocksDB, ledger_store.h) and
// MemoryBlockStore (block_store_memory.h, for unit tests of pure logic).
//
// A store is a thin adapter. It does NOT check signatures, Merkle roots,
// nonces or commits: callers validate with chain/ before appending. What every
// store guarantees by itself:
//   - write-once: a height, once written, is never replaced;
//   - successor-only: a block is accepted only at tip height + 1 and only if
//     its header's previous_block_hash is the tip's block id (the genesis hash
//     for height 1);
//   - one genesis: a store remembers the genesis hash it was created for;
//   - atomicity: a block and all its index entries become visible together.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/crypto.h"
#include "chain/result.h"

namespace baton::storage {

// The latest block. Height 0 means "no block yet"; its id is then the genesis
// hash, so that block 1's previous_block_hash is checked like any other.
struct Tip {
  std::uint64_t height = 0;
  chain::Hash block_id;
  bool operator==(const Tip&) const = default;
};

// Where a transaction sits: block height and its index in Block.transactions.
struct TxLocation {
  std::uint64_t height = 0;
  std::uint32_t index = 0;
  bool operator==(const TxLocation&) const = default;
};

// An order-independent digest of index entries, each as its key and value
// bytes are stored (block_ids: id -> u64be height; txs: hash -> u64be height
// || u32be index): the sum mod 2^256 of SHA-256(salt || key || value), and a
// count. verify_ledger compares the entries a chain implies with those a
// LedgerStore holds by one scan of each index instead of a look-up per entry.
// The salt is random, drawn by each verification: without it, whoever can
// write the indexes could choose entries whose hashes sum to those they
// replace (the generalized birthday attack finds such sums for unsalted
// hashes); with it, the hashes are unknown until the verification runs.
struct IndexDigest {
  // 11 bytes: salt and a 44-byte entry fill exactly one SHA-256 block.
  using Salt = std::array<std::uint8_t, 11>;
  Salt salt{};
  std::array<std::uint64_t, 4> sum{};  // little-endian limbs
  std::uint64_t count = 0;

  IndexDigest() = default;
  explicit IndexDigest(const Salt& s) : salt(s) {}
  void add(std::string_view key, std::string_view value);
  // `other` must have the same salt.
  void add(const IndexDigest& other);
  void add_block_id(const chain::Hash& id, std::uint64_t height);
  void add_tx(const chain::Hash& hash, TxLocation where);
  bool operator==(const IndexDigest&) const = default;
};

// What a store derives from a block's exact bytes to index it. Pure: computed
// by describe_block() with no I/O, shared by every implementation.
struct BlockDescription {
  std::uint64_t height = 0;
  chain::Hash block_id;                // SHA-256 of Block.header bytes
  chain::Hash previous_block_hash;     // from the header
  std::vector<chain::Hash> tx_hashes;  // SHA-256 of each Block.transactions entry, in order
  struct SenderNonce {
    chain::PublicKey sender;
    std::uint64_t nonce = 0;
  };
  // The highest nonce used by each sender in this block, ordered by sender.
  std::vector<SenderNonce> last_nonces;
};

// Reason codes for Error::code returned by append().
enum class AppendRefused : int {
  undecodable = 1,    // the bytes are not a CommittedBlock with a decodable header
  height_taken = 2,   // the height is already written (write-once)
  not_successor = 3,  // height is not tip + 1, or previous hash is not the tip id
  io = 4,             // the disk write failed
};

// Decodes just enough of a serialized CommittedBlock to index it. Fails (with
// code AppendRefused::undecodable) when the bytes, the header, or a
// transaction do not parse or a hash/key field has the wrong length.
Result<BlockDescription> describe_block(std::string_view committed_block_bytes);

// Checks the write-once and successor rules for `block` on top of `tip`.
// Returns an error with an AppendRefused code and a sentence naming the heights.
Status check_successor(const Tip& tip, const BlockDescription& block);

class BlockStore {
 public:
  virtual ~BlockStore() = default;

  // Appends the exact bytes of a serialized chain.pb.CommittedBlock at
  // tip + 1. The caller has validated the block. On success the block is
  // durable (for LedgerStore: a synced write) before this returns.
  virtual Status append(std::string_view committed_block_bytes) = 0;

  // The exact stored bytes at `height`, or nullopt when no block is there.
  virtual Result<std::optional<std::string>> block_at(std::uint64_t height) const = 0;

  // Up to `max_count` consecutive blocks' bytes starting at `first` (fewer
  // when the tip is reached). Meant for verification and block sync.
  virtual Result<std::vector<std::string>> blocks_from(std::uint64_t first,
                                                       std::size_t max_count) const = 0;

  virtual Tip tip() const = 0;

  // Height of the block whose header hashes to `block_id`.
  virtual Result<std::optional<std::uint64_t>> height_of(const chain::Hash& block_id) const = 0;

  // Location of the transaction whose exact bytes hash to `tx_hash`.
  virtual Result<std::optional<TxLocation>> find_tx(const chain::Hash& tx_hash) const = 0;

  // find_tx for each hash, answers in the same order.
  virtual Result<std::vector<std::optional<TxLocation>>> find_txs(
      const std::vector<chain::Hash>& tx_hashes) const;

  // The nonce the sender's next transaction must carry: 1 + the highest
  // nonce stored for it, or 1 when it has none.
  virtual Result<std::uint64_t> next_nonce(const chain::PublicKey& sender) const = 0;

  // The genesis hash this store was created for.
  virtual chain::Hash genesis_hash() const = 0;

  // The lowest stored height (docs/PROTOCOL.md §24.4): blocks
  // history_from()..tip are stored. Above 1 only in a ledger made by state
  // sync whose backfill has not reached height 1 yet.
  virtual std::uint64_t history_from() const { return 1; }

  // State snapshots (docs/PROTOCOL.md §24): opaque records keyed by the
  // height they were taken at. A store only keeps them; whether one is true
  // is checked against the chain by its reader (storage/state_snapshot.h).

  // Stores `record` as the snapshot at `height`, replacing one there, and
  // removes all but the newest `keep` (at least 1) snapshots, in one atomic
  // write (for LedgerStore: synced, unless opened with sync_each_append off).
  // Refused when `height` is above the tip.
  virtual Status put_snapshot(std::uint64_t height, std::string_view record, std::size_t keep) = 0;

  // The heights that hold a snapshot, ascending.
  virtual Result<std::vector<std::uint64_t>> snapshot_heights() const = 0;

  // The record stored at `height`, or nullopt when there is none.
  virtual Result<std::optional<std::string>> snapshot_at(std::uint64_t height) const = 0;
};

}  // namespace baton::storage
